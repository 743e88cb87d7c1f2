"""A Duino-Coin server emulator on 127.0.0.1, following the server protocol of docs/protocol.md.

Mining side (TCP): a banner on accept; each read is one message; MOTD, PING, JOB with a real
job whose nonce is 1..100*diff, results checked with SHA-1 and answered GOOD / BLOCK /
BAD,<reason>; one reply per request, each ending in "\\n"; idle timeouts. HTTP side: /getPool,
/balances/<user>, the balance growing with accepted shares (the first 10 shares of a
connection earn nothing, as on the real server), and /mining_key?u=USER&k=KEY, the key check the
official miners (and make deploy) make, against the keys the emulator is given (a user it has no
key for has none: success, has_key false).

Faults for tests: latency (fixed plus jitter), BAD instead of a job, garbage instead of a job,
a half line then close, a drop after N messages, refused connects, silence.

The pool's tier move (off unless TierMove.max_rate is set): a share whose hash rate is at or
above the tier's maximum is answered BAD,Too low starting difficulty once, and from then on
that connection gets the next tier's difficulty, whatever tier its JOB requests name.
"""
from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import random
import socket
import socketserver
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable

from ducos1 import make_job

BANNER = b"3.0\n"
REWARD = 0.00025  # Duco per accepted share after the first 10 of a connection
FREE_SHARES = 10
TOO_FAST = "BAD,Too low starting difficulty"
MIN_TIMED_SHARE_S = 0.5  # the pool computes a share's rate itself only from this share time on


@dataclass
class TierMove:
    """The public pool's answer to a connection faster than its tier allows.

    A share's rate is the one the result reports (its second field) when that is above 0;
    otherwise the nonce over the share time (job sent to result received, on the emulator's
    clock) once the share took MIN_TIMED_SHARE_S or more; a faster share with no reported
    rate is not judged, as on the pool. The pool software's committed table has AVR at
    difficulty 6 up to 240 H/s, then MEGA at difficulty 16 up to 400 H/s. One move is modelled.
    """

    max_rate: float = 0.0  # H/s at or above which a connection moves on; 0: never
    next_diff: int = 16  # the next tier's difficulty (MEGA)


def reply_json(handler: http.server.BaseHTTPRequestHandler, body: dict | str) -> None:
    """A 200 answer of the REST API: `body` as JSON (a str goes as it is, for broken JSON)."""
    data = (body if isinstance(body, str) else json.dumps(body)).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


@dataclass
class Faults:
    """Switches; 0 means off. "every N" counts JOB requests over the whole server."""

    latency_ms: int = 0  # added to every reply
    jitter_ms: int = 0  # plus a uniform 0..jitter
    bad_job_every: int = 0  # answer BAD,<bad_reason> instead of a job
    bad_reason: str = "Too many workers"
    garbage_every: int = 0  # answer a line that is not a job
    half_line_every: int = 0  # send half a job line, then close
    silence_every: int = 0  # never answer that JOB (the client's read times out)
    drop_after: int = 0  # close each connection after this many messages
    refuse: int = 0  # reset this many further connects right after accept
    result_reply: str = ""  # answer every result with this line instead (e.g. "BAD,User banned")
    close_on_result_every: int = 0  # close instead of answering every N-th result
    block_every: int = 0  # answer BLOCK instead of GOOD for every N-th good share
    slow_fraction: float = 0.0  # this fraction of replies (at random, seeded) ...
    slow_ms: int = 10000  # ... comes this much later
    balance_fault: str = ""  # HTTP side: "bad_json" or "http_500" for /balances
    mining_key_fault: str = ""  # HTTP side: "too_many" answers /mining_key "Too many requests"
    next_job: str = ""  # one shot for the next JOB: "bad", "garbage", "half", "silence"
    next_result: str = ""  # one shot for the next result: "close", "bad"


@dataclass
class Stats:
    connects: int = 0
    jobs: int = 0
    good: int = 0
    blocks: int = 0
    bad: int = 0
    balances: dict[str, float] = field(default_factory=dict)
    ducoids: set[str] = field(default_factory=set)
    tier_moves: int = 0  # connections moved to the next tier


class Emulator:
    def __init__(self, diff: int = 6, seed: int = 1, idle_first: float = 30.0, idle_after: float = 90.0,
                 faults: Faults | None = None, tier: TierMove | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 mining_keys: dict[str, str] | None = None) -> None:
        self.diff = diff
        self.mining_keys = dict(mining_keys or {})  # user -> mining key; a user not here has none
        self.tier = tier or TierMove()
        self.clock = clock  # share times; tests on a fake clock pass theirs
        self.rng = random.Random(seed)
        self.idle_first = idle_first
        self.idle_after = idle_after
        self.faults = faults or Faults()
        self.stats = Stats()
        self.lock = threading.Lock()
        self.tcp: socketserver.ThreadingTCPServer | None = None
        self.clients: set[socket.socket] = set()
        self.results_seen = 0
        self.http: http.server.ThreadingHTTPServer | None = None

    # -- one mining connection ---------------------------------------------------------------
    def _delay(self) -> None:
        f = self.faults
        with self.lock:
            extra = self.rng.uniform(0, f.jitter_ms) if f.jitter_ms else 0.0
            if f.slow_fraction and self.rng.random() < f.slow_fraction:
                extra += f.slow_ms
        if f.latency_ms or extra:
            time.sleep((f.latency_ms + extra) / 1000)

    def _count_job(self, moved: bool) -> tuple[int, tuple[str, str, int]]:
        """The request's number and a fresh job (last, expected, diff) of the connection's tier."""
        with self.lock:
            self.stats.jobs += 1
            diff = self.tier.next_diff if moved else self.diff
            last, expected, _ = make_job(diff, self.rng)
            return self.stats.jobs, (last, expected, diff)

    def _share_rate(self, fields: list[str], took_s: float) -> float | None:
        """The share's hash rate as the pool judges it; None when it cannot tell."""
        try:
            reported = float(fields[1])
        except ValueError:
            reported = 0.0  # empty, as the ported rigs send it
        if reported > 0:
            return reported
        if took_s >= MIN_TIMED_SHARE_S:
            return int(fields[0]) / took_s
        return None

    def _too_fast(self, fields: list[str], job: tuple[str, str, int] | None, took_s: float) -> bool:
        """A well-formed result of a connection still in its first tier, at or above its maximum."""
        if not self.tier.max_rate or job is None or len(fields) < 5 or not fields[0].isdigit():
            return False
        rate = self._share_rate(fields, took_s)
        return rate is not None and rate >= self.tier.max_rate

    def handle(self, sock: socket.socket) -> None:
        with self.lock:
            self.clients.add(sock)
        try:
            self._serve(sock)
        except OSError:
            pass  # the rig went away mid-reply: as a real server, forget the connection
        finally:
            with self.lock:
                self.clients.discard(sock)

    def restart(self) -> None:
        """As a server restart looks to the rig: every connection drops at once."""
        with self.lock:
            clients = list(self.clients)
        for sock in clients:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _serve(self, sock: socket.socket) -> None:
        f = self.faults
        with self.lock:
            self.stats.connects += 1
            if f.refuse > 0:
                f.refuse -= 1
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return
        sock.sendall(BANNER)
        job: tuple[str, str, int] | None = None
        job_sent = 0.0  # on self.clock
        moved = False  # to the next tier, for good
        user = ""
        shares = 0
        messages = 0
        while True:
            sock.settimeout(self.idle_first if job is None else self.idle_after)
            try:
                data = sock.recv(1024)
            except (socket.timeout, OSError):
                return
            if not data:
                return
            messages += 1
            fields = data.decode("ascii", "replace").strip().split(",")
            self._delay()
            if fields[0] == "MOTD":
                reply = "You are mining on the duco-i2c-rig emulator\n"
            elif fields[0] == "PING":
                reply = "Pong!\n"
            elif fields[0] == "JOB":
                n, new = self._count_job(moved)
                with self.lock:
                    once, f.next_job = f.next_job, ""
                if len(fields) < 2 or not fields[1]:
                    reply = "BAD,No username specified\n"
                elif once == "silence" or f.silence_every and n % f.silence_every == 0:
                    continue
                elif once == "bad" or f.bad_job_every and n % f.bad_job_every == 0:
                    reply = "BAD,%s\n" % f.bad_reason
                elif once == "garbage" or f.garbage_every and n % f.garbage_every == 0:
                    reply = "\x7fgarbage%d\n" % n
                elif once == "half" or f.half_line_every and n % f.half_line_every == 0:
                    line = "%s,%s,%d\n" % new
                    sock.sendall(line[: len(line) // 2].encode())
                    return
                else:
                    job = new
                    job_sent = self.clock()
                    user = fields[1]
                    reply = "%s,%s,%d\n" % job
            else:
                with self.lock:
                    self.results_seen += 1
                    n = self.results_seen
                    once, f.next_result = f.next_result, ""
                if once == "close" or f.close_on_result_every and n % f.close_on_result_every == 0:
                    return
                if once == "bad":
                    reply = "BAD,Too low difficulty\n"
                elif not moved and self._too_fast(fields, job, self.clock() - job_sent):
                    moved = True  # checked before the result itself, as the pool does
                    with self.lock:
                        self.stats.bad += 1
                        self.stats.tier_moves += 1
                    reply = TOO_FAST + "\n"
                else:
                    reply = self._result(fields, job, user, shares)
                if reply.startswith(("GOOD", "BLOCK")):
                    shares += 1
                job = None if reply.startswith(("GOOD", "BLOCK")) else job
            sock.sendall(reply.encode())
            if f.drop_after and messages >= f.drop_after:
                return

    def _result(self, fields: list[str], job: tuple[str, str, int] | None, user: str, shares: int) -> str:
        f = self.faults
        with self.lock:
            if job is None or len(fields) < 5 or not fields[0].isdigit():
                self.stats.bad += 1
                return "BAD,Incorrect data\n"
            last, expected, diff = job
            nonce = int(fields[0])
            ok = nonce <= 100 * diff and hashlib.sha1((last + str(nonce)).encode()).hexdigest() == expected
            if not ok:
                self.stats.bad += 1
                return "BAD,Incorrect result\n"
            if f.result_reply:
                self.stats.bad += f.result_reply.startswith("BAD")
                return f.result_reply + "\n"
            self.stats.good += 1
            self.stats.ducoids.add(fields[4])
            self.stats.balances.setdefault(user, 0.0)
            if shares >= FREE_SHARES:
                self.stats.balances[user] = self.stats.balances.get(user, 0.0) + REWARD
            if f.block_every and self.stats.good % f.block_every == 0:
                self.stats.blocks += 1
                return "BLOCK\n"
            return "GOOD\n"

    # -- HTTP side ---------------------------------------------------------------------------
    def mining_key_answer(self, query: str) -> dict:
        """/mining_key?u=USER&k=KEY as the REST API answers it; no k (or None) asks with no key."""
        fields = urllib.parse.parse_qs(query)
        user = fields.get("u", [""])[0]
        given = fields.get("k", ["None"])[0]
        if self.faults.mining_key_fault == "too_many":
            return {"success": False, "message": "Too many requests"}
        if not user:
            return {"success": False, "has_key": False, "message": "No username specified"}
        key = self.mining_keys.get(user)
        if key is None:
            return {"success": True, "has_key": False, "message": "This user has no mining key"}
        if given == key:
            return {"success": True, "has_key": True, "message": "Mining key is valid"}
        return {"success": False, "has_key": True, "message": "Invalid mining key"}

    def _http_handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        emulator = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path == "/mining_key":
                    body: dict | str = emulator.mining_key_answer(query)
                elif self.path == "/getPool":
                    port = emulator.tcp.server_address[1] if emulator.tcp else 0
                    body = {"name": "emulator", "ip": "127.0.0.1", "port": port, "success": True}
                elif self.path.startswith("/balances/") and emulator.faults.balance_fault == "http_500":
                    self.send_error(500)
                    return
                elif self.path.startswith("/balances/") and emulator.faults.balance_fault == "bad_json":
                    body = "{not json"
                elif self.path.startswith("/balances/"):
                    user = self.path[len("/balances/"):]
                    with emulator.lock:
                        balance = emulator.stats.balances.get(user)
                    if balance is None:
                        body = {"success": False, "message": "User not found"}
                    else:
                        body = {"success": True, "result": {"username": user, "balance": round(balance, 8)}}
                else:
                    self.send_error(404)
                    return
                reply_json(self, body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    # -- life cycle --------------------------------------------------------------------------
    def start(self, port: int = 0, http_port: int | None = 0) -> "Emulator":
        emulator = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                emulator.handle(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
        self.tcp.daemon_threads = True
        threading.Thread(target=self.tcp.serve_forever, args=(0.05,), daemon=True).start()
        if http_port is not None:
            self.http = http.server.ThreadingHTTPServer(("127.0.0.1", http_port), self._http_handler())
            self.http.daemon_threads = True
            threading.Thread(target=self.http.serve_forever, args=(0.05,), daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self.tcp is not None
        return self.tcp.server_address[1]

    @property
    def http_port(self) -> int:
        assert self.http is not None
        return self.http.server_address[1]

    def stop(self) -> None:
        for server in (self.tcp, self.http):
            if server is not None:
                server.shutdown()
                server.server_close()


def main() -> None:
    ap = argparse.ArgumentParser(description="Duino-Coin server emulator on 127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="mining port (0: a free one)")
    ap.add_argument("--http-port", type=int, default=0, help="REST port (0: a free one)")
    ap.add_argument("--diff", type=int, default=6, help="difficulty of AVR jobs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--latency", type=int, default=0, help="ms added to every reply")
    ap.add_argument("--jitter", type=int, default=0, help="plus up to this many ms")
    ap.add_argument("--bad-job-every", type=int, default=0)
    ap.add_argument("--garbage-every", type=int, default=0)
    ap.add_argument("--half-line-every", type=int, default=0)
    ap.add_argument("--silence-every", type=int, default=0)
    ap.add_argument("--drop-after", type=int, default=0)
    ap.add_argument("--refuse", type=int, default=0)
    ap.add_argument("--tier-max-rate", type=float, default=0.0,
                    help="H/s at or above which a connection moves to the next tier (0: never)")
    ap.add_argument("--next-diff", type=int, default=16, help="the next tier's difficulty (MEGA: 16)")
    ap.add_argument("--mining-key", action="append", default=[], metavar="USER:KEY",
                    help="the mining key /mining_key accepts for USER (repeatable); other users have none")
    args = ap.parse_args()
    mining_keys = dict(pair.partition(":")[::2] for pair in args.mining_key)
    faults = Faults(latency_ms=args.latency, jitter_ms=args.jitter, bad_job_every=args.bad_job_every,
                    garbage_every=args.garbage_every, half_line_every=args.half_line_every,
                    silence_every=args.silence_every, drop_after=args.drop_after, refuse=args.refuse)
    tier = TierMove(max_rate=args.tier_max_rate, next_diff=args.next_diff)
    emulator = Emulator(diff=args.diff, seed=args.seed, faults=faults, tier=tier,
                        mining_keys=mining_keys).start(args.port, args.http_port)
    print("mining 127.0.0.1:%d  http 127.0.0.1:%d" % (emulator.port, emulator.http_port), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
