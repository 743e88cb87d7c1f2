"""The fleet's history in one SQLite file: sessions, shares, jobs, faults, loop runs and the
lines nothing understood. The file outlives the monitor: a restart goes on with the same history.

Times are seconds since the epoch (the monitor's clock at the moment a line arrived). Each rig's
watcher thread writes and the web server reads through one connection, one call at a time.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable

from fleet.logparse import Event, Fault, JobSent, Share, Unparsed

SCHEMA = """
CREATE TABLE IF NOT EXISTS rigs (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, last_seen REAL);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY, rig_id INTEGER NOT NULL, started REAL NOT NULL,
    ended REAL, why_ended TEXT);
CREATE TABLE IF NOT EXISTS shares (
    id INTEGER PRIMARY KEY, rig_id INTEGER NOT NULL, session_id INTEGER NOT NULL,
    at REAL NOT NULL, target INTEGER NOT NULL, feedback TEXT NOT NULL, accepted INTEGER NOT NULL,
    ela_ms INTEGER, nonce INTEGER, rate INTEGER, snd_res_ms INTEGER, req_job_ms INTEGER,
    hashes_sent_ms INTEGER);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, rig_id INTEGER NOT NULL, session_id INTEGER NOT NULL,
    at REAL NOT NULL, target INTEGER NOT NULL, status TEXT, req_job_ms INTEGER,
    hashes_sent_ms INTEGER);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY, rig_id INTEGER NOT NULL, session_id INTEGER NOT NULL,
    at REAL NOT NULL, target INTEGER, line TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS loop_runs (
    id INTEGER PRIMARY KEY, rig_id INTEGER NOT NULL, session_id INTEGER NOT NULL,
    started REAL NOT NULL, first_round INTEGER, ended REAL, last_round INTEGER);
CREATE TABLE IF NOT EXISTS lines (
    id INTEGER PRIMARY KEY, rig_id INTEGER NOT NULL, session_id INTEGER NOT NULL,
    at REAL NOT NULL, line TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS shares_by_target ON shares (rig_id, target, at);
CREATE INDEX IF NOT EXISTS shares_by_time ON shares (at);
CREATE INDEX IF NOT EXISTS jobs_by_target ON jobs (rig_id, target, at);
CREATE INDEX IF NOT EXISTS faults_by_rig ON faults (rig_id, at);
CREATE INDEX IF NOT EXISTS lines_by_rig ON lines (rig_id, at);
"""
EVENT_TABLES = ("shares", "jobs", "faults", "loop_runs", "lines")


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.lock = threading.Lock()
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")  # readers of the file never wait on a write
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.db.commit()

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # -- writing -----------------------------------------------------------------------------
    def rig_id(self, name: str) -> int:
        with self.lock:
            self.db.execute("INSERT OR IGNORE INTO rigs (name) VALUES (?)", (name,))
            self.db.commit()
            return self.db.execute("SELECT id FROM rigs WHERE name = ?", (name,)).fetchone()[0]

    def open_session(self, rig_id: int, at: float) -> int:
        with self.lock:
            cur = self.db.execute("INSERT INTO sessions (rig_id, started) VALUES (?, ?)", (rig_id, at))
            self.db.commit()
            return int(cur.lastrowid or 0)

    def close_session(self, session_id: int, at: float, why: str) -> None:
        with self.lock:
            self.db.execute("UPDATE sessions SET ended = ?, why_ended = ? WHERE id = ?", (at, why, session_id))
            self.db.execute("UPDATE loop_runs SET ended = ? WHERE session_id = ? AND ended IS NULL",
                            (at, session_id))
            self.db.commit()

    def add(self, rig_id: int, session_id: int, timed: Iterable[tuple[float, Event]]) -> None:
        """Shares, jobs, faults and unparsed lines, each with the time its last line came."""
        last = None
        with self.lock:
            for at, event in timed:
                last = at
                if isinstance(event, Share):
                    self.db.execute(
                        "INSERT INTO shares (rig_id, session_id, at, target, feedback, accepted, ela_ms,"
                        " nonce, rate, snd_res_ms, req_job_ms, hashes_sent_ms)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (rig_id, session_id, at, event.target, event.feedback, int(event.accepted),
                         event.ela_ms, event.nonce, event.rate, event.snd_res_ms, event.req_job_ms,
                         event.hashes_sent_ms))
                elif isinstance(event, JobSent):
                    self.db.execute(
                        "INSERT INTO jobs (rig_id, session_id, at, target, status, req_job_ms,"
                        " hashes_sent_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (rig_id, session_id, at, event.target, event.status, event.req_job_ms,
                         event.hashes_sent_ms))
                elif isinstance(event, Fault):
                    self.db.execute("INSERT INTO faults (rig_id, session_id, at, target, line)"
                                    " VALUES (?, ?, ?, ?, ?)", (rig_id, session_id, at, event.target, event.line))
                elif isinstance(event, Unparsed):
                    self.db.execute("INSERT INTO lines (rig_id, session_id, at, line) VALUES (?, ?, ?, ?)",
                                    (rig_id, session_id, at, event.line))
            if last is not None:
                self.db.execute("UPDATE rigs SET last_seen = ? WHERE id = ?", (last, rig_id))
            self.db.commit()

    def seen(self, rig_id: int, at: float) -> None:
        with self.lock:
            self.db.execute("UPDATE rigs SET last_seen = ? WHERE id = ?", (at, rig_id))
            self.db.commit()

    def loop_started(self, rig_id: int, session_id: int, at: float, first_round: int) -> int:
        with self.lock:
            cur = self.db.execute("INSERT INTO loop_runs (rig_id, session_id, started, first_round)"
                                  " VALUES (?, ?, ?, ?)", (rig_id, session_id, at, first_round))
            self.db.commit()
            return int(cur.lastrowid or 0)

    def loop_ended(self, run_id: int, at: float, last_round: int | None) -> None:
        with self.lock:
            self.db.execute("UPDATE loop_runs SET ended = ?, last_round = ? WHERE id = ?", (at, last_round, run_id))
            self.db.commit()

    def prune(self, before: float) -> None:
        """Forget what happened before `before`: the file does not grow for ever."""
        with self.lock:
            for table in ("shares", "jobs", "faults", "lines"):
                self.db.execute("DELETE FROM %s WHERE at < ?" % table, (before,))
            self.db.execute("DELETE FROM loop_runs WHERE started < ? AND ended IS NOT NULL", (before,))
            self.db.execute("DELETE FROM sessions WHERE started < ? AND ended IS NOT NULL", (before,))
            self.db.commit()

    # -- reading -----------------------------------------------------------------------------
    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()
