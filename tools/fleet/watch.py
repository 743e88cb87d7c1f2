"""One rig, watched: its WebREPL session kept up, its console parsed, the events stored.

A thread per rig. When the session cannot be had or ends (the rig reset, dropped off WiFi, or
another client holds its one WebREPL slot), the watcher tries again after a back-off that
doubles from `backoff_first` up to `backoff_max` and starts again after a good login. A new
session starts a new parse: a turn cut off by a reset is closed with what it had (a share whose
feedback arrived counts once; one whose feedback never came counts not at all), and what the
rig printed while no session was open is not in the stream, so nothing is ever counted twice.

The operator reads one line per change of a rig's state (online, offline and why, wrong
password), never one per retry.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

from fleet.fleetfile import FleetFileError, RigConfig
from fleet.logparse import Event, LineSplitter, LogParser, LoopDone, LoopRound, Unparsed
from fleet.store import Store
from fleet.webrepl_client import ConnectionLost, WebReplConsole, WebReplError, WrongPassword

READ_WAIT_S = 0.2  # how long one read waits: how fast a stop is noticed
FLUSH_EVERY_S = 0.5  # events are written at most this often (one commit for many lines)


@dataclass
class RigStatus:
    name: str
    host: str
    port: int
    connection: str = "starting"  # connecting (at first), online, offline, wrong password, no password
    detail: str = ""  # why it is not online, one line
    since: float = 0.0  # when `connection` last changed
    last_seen: float | None = None  # when the rig last printed anything to this monitor
    sessions: int = 0  # logins since the monitor started
    looping: bool = False  # inside a loop run (between ===Loop and Loop Done)


class SessionListener(Protocol):
    def online(self, rig: str) -> None: ...

    def offline(self, rig: str) -> None: ...


@dataclass
class _Session:
    rig_id: int
    session_id: int
    splitter: LineSplitter = field(default_factory=LineSplitter)
    parser: LogParser = field(default_factory=LogParser)
    pending: list[tuple[float, Event]] = field(default_factory=list)
    run_id: int | None = None  # the open loop run
    last_round: int | None = None


class RigWatch:
    def __init__(self, rig: RigConfig, store: Store, say: Callable[[str], None], *,
                 listeners: list[SessionListener] | None = None, timeout: float = 10.0,
                 backoff_first: float = 1.0, backoff_max: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.rig = rig
        self.store = store
        self.say = say
        self.listeners = listeners or []
        self.timeout = timeout
        self.backoff_first = backoff_first
        self.backoff_max = backoff_max
        self.clock = clock
        self.status = RigStatus(rig.name, rig.host, rig.port, since=clock())
        self.reported = ""  # the last state printed
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="watch-" + rig.name, daemon=True)
        self.rig_id = store.rig_id(rig.name)

    def start(self) -> "RigWatch":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    # -- the connection ----------------------------------------------------------------------
    def run(self) -> None:
        backoff = self.backoff_first
        self._state("connecting", "")  # until the first answer; a retry keeps the last one shown
        while not self.stopping.is_set():
            try:
                console = WebReplConsole(self.rig.host, self.rig.port, self.rig.password(), self.timeout)
                console.open()
            except FleetFileError as exc:
                self._state("no password", str(exc))
                self.stopping.wait(self.backoff_max)
                continue
            except WrongPassword as exc:
                self._state("wrong password", "%s; check %s" % (exc, self.rig.password_file))
                self.stopping.wait(self.backoff_max)  # the file is read again at the next try
                continue
            except WebReplError as exc:
                self._state("offline", str(exc))
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.backoff_max)
                continue
            except Exception as exc:  # noqa: BLE001  (a monitor runs unattended: one line, then on)
                self._state("offline", "monitor error: %s %s" % (type(exc).__name__, exc))
                self.stopping.wait(self.backoff_max)
                continue
            backoff = self.backoff_first
            try:
                why = self._session(console)
            except Exception as exc:  # noqa: BLE001
                why = "monitor error: %s %s" % (type(exc).__name__, exc)
            self._state("offline", why)

    def _state(self, connection: str, detail: str) -> None:
        """Set the rig's state; a change the operator should know of is one printed line."""
        s = self.status
        if connection != s.connection:
            s.since = self.clock()
        s.connection, s.detail = connection, detail
        if connection != "connecting" and connection != self.reported:
            self.reported = connection
            self.say("%s: %s%s" % (self.rig.name, connection, ": " + detail if detail else ""))

    def _session(self, console: WebReplConsole) -> str:
        """Read the console until the session ends; returns why it ended."""
        now = self.clock()
        session = _Session(self.rig_id, self.store.open_session(self.rig_id, now))
        self.status.sessions += 1
        self.status.last_seen = now
        self._state("online", "%s:%d" % (self.rig.host, self.rig.port))
        for listener in self.listeners:
            listener.online(self.rig.name)
        why = "the monitor stopped"
        flushed = now
        try:
            while not self.stopping.is_set():
                text = console.read(READ_WAIT_S)
                now = self.clock()
                if text is not None:
                    self.status.last_seen = now
                    for line in session.splitter.feed(text):
                        self._take(session, now, session.parser.feed(line))
                if text is None or now - flushed >= FLUSH_EVERY_S:
                    self._flush(session, now)
                    flushed = now
        except ConnectionLost as exc:
            why = str(exc)
        finally:
            console.close()
            rest = session.splitter.rest()  # a line cut off mid-way: kept, never parsed as a turn
            events: list[Event] = [Unparsed(rest)] if rest.strip() else []
            self._take(session, now, events + session.parser.end_turn())
            self._flush(session, now)
            self.store.close_session(session.session_id, now, why)
            self.status.looping = False
            for listener in self.listeners:
                listener.offline(self.rig.name)
        return why

    # -- the events --------------------------------------------------------------------------
    def _take(self, session: _Session, at: float, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, LoopRound):
                if session.run_id is None:
                    self._flush(session, at)
                    session.run_id = self.store.loop_started(self.rig_id, session.session_id, at, event.left)
                    self.status.looping = True
                session.last_round = event.left
            elif isinstance(event, LoopDone):
                self._flush(session, at)
                if session.run_id is not None:
                    self.store.loop_ended(session.run_id, at, session.last_round)
                session.run_id = session.last_round = None
                self.status.looping = False
            else:
                session.pending.append((at, event))

    def _flush(self, session: _Session, at: float) -> None:
        if session.pending:
            self.store.add(self.rig_id, session.session_id, session.pending)
            session.pending = []
        self.store.seen(self.rig_id, at)
