"""`make bench-throughput`: where the time goes, blocking loop against polling loop.

For rigs of 1, 2, 3, 4 targets (6 and 10 marked: more than one ESP8266 can hold), the device
code runs on the MicroPython unix port against the emulator with the latency the ported rigs
logged (default 700 ms plus up to 200 ms of jitter per reply, 800 ms on average), simulated
160 H/s Mini Pros and difficulty-6 jobs. After `s`, the loop runs for a bounded time; then:

  shares/min  shares the emulator accepted while the loop ran
  duty        the fraction of wall time the Mini Pros were hashing
  bound       shares/min and duty if every exchange took exactly its latency and the ESP
              nothing: hash / (hash + 2 x latency + I2C), from the measured mean hash and I2C time
  esp ms      CPU time of the device process per share (everything outside waits)
  reply ms    the mean of the log's ReqJob and SndRes times: each reply's latency as the ESP saw it

The whole table takes about 14 minutes; it says how long at its start and reports each run as
it ends. --quick (make bench-throughput QUICK=1) runs 1 and 4 targets for 10 s each, about a
minute, for a first look.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import bus_server
import micropython_runner as runner
import sim
from duco_server import Emulator, Faults
from minipro_sim import MiniPro, SimBus

ESP_MAX_TARGETS = 4
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
FULL_TARGETS = "1 2 3 4 6 10"
FULL_SECONDS = 60.0
QUICK_TARGETS = "1 4"  # one target, and the most one ESP8266 holds: the table's headline ratio
QUICK_SECONDS = 10.0
START_S = 1.0  # the interpreter, its boot and the menu, before `s`


class Device:
    """The device code under micropython with its stdin and stdout on pipes."""

    def __init__(self, folder: Path, env: dict[str, str], heap: int, module: str = "mydu") -> None:
        self.proc = subprocess.Popen(runner.command("import " + module, heap),
                                     cwd=folder, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)
        self.out = ""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            chunk = self.proc.stdout.read(4096)  # type: ignore[union-attr]
            if not chunk:
                return
            with self.lock:
                self.out += chunk.decode("utf-8", "replace")

    def type(self, keys: str) -> None:
        self.proc.stdin.write(keys.encode())  # type: ignore[union-attr]

    def wait_for(self, text: str, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.out.count(text) >= count:
                    return
            time.sleep(0.05)
        raise TimeoutError("device never printed %r %d times:\n%s" % (text, count, self.out[-2000:]))

    def kill(self) -> None:
        """Stop the device if it still runs (a test that failed half-way leaves it running)."""
        if self.proc.poll() is None:
            self.proc.kill()

    def cpu_seconds(self) -> float:
        fields = Path("/proc/%d/stat" % self.proc.pid).read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime + stime


def run(n: int, mode: str, seconds: float, latency: int, jitter: int, rate: float, heap: int) -> dict:
    emulator = Emulator(diff=6, seed=n, faults=Faults(latency_ms=latency, jitter_ms=jitter)).start(http_port=None)
    targets = [MiniPro(20 + i, hash_rate=rate) for i in range(n)]
    server = bus_server.serve(SimBus(targets))
    with tempfile.TemporaryDirectory() as d:
        sim.write_setup(Path(d), ("127.0.0.1", emulator.port), [t.addr for t in targets], "mode " + mode)
        env = sim.device_env(server.server_address[1])
        env["DUCO_TCP_LIMIT"] = "0"  # let the rigs beyond one ESP8266 run, to show the trend
        dev = Device(Path(d), env, heap)
        dev.wait_for("H> ", 1, 30)
        dev.type("s")
        dev.wait_for("H> ", 2, 60 + 3 * n)
        good0, cpu0, t0 = emulator.stats.good, dev.cpu_seconds(), time.monotonic()
        dev.type("l")
        time.sleep(seconds)
        dev.type("z")  # any key ends the loop
        dev.wait_for("Loop Done", 1, 60)
        good1, cpu1, t1 = emulator.stats.good, dev.cpu_seconds(), time.monotonic()
        dev.type("x")
        dev.proc.wait(timeout=30)
    server.shutdown()
    emulator.stop()
    shares = good1 - good0
    wall = t1 - t0
    hashes = [b - a for t in targets for a, b in t.hashing if t0 <= a and b <= t1]
    mean_hash = sum(hashes) / len(hashes) if hashes else 0.0
    sent = [int(x) for x in re.findall(r"Hashes sent  (\d+)", dev.out)]
    replies = [int(x) for x in re.findall(r"(?:ReqJob|SndRes) took  (\d+)", dev.out)]
    i2c = (sum(sent) / len(sent) / 1000) if sent else 0.0
    cycle = mean_hash + 2 * (latency + jitter / 2) / 1000 + i2c
    return {
        "targets": n, "mode": mode, "shares": shares, "per_min": shares * 60 / wall,
        "duty": sum(t.busy_seconds(t0, t1) for t in targets) / (n * wall),
        "bound_per_min": n * 60 / cycle if cycle else 0.0, "bound_duty": mean_hash / cycle if cycle else 0.0,
        "esp_ms": 1000 * (cpu1 - cpu0) / shares if shares else 0.0,
        "reply_ms": sum(replies) / len(replies) if replies else 0.0,
    }


def expected_seconds(n: int, mode: str, seconds: float, latency_s: float) -> float:
    """A run's wall time: the start, `s` (a connect and a first job per target, one after the
    other), the loop, and its last round (block: every target's result and job in turn; poll:
    the exchanges in flight)."""
    last_round = (2 * n if mode == "block" else 2) * latency_s
    return START_S + n * latency_s + seconds + last_round


def minutes(s: float) -> str:
    return "%dm%02ds" % divmod(round(s), 60)


def table(rows: list[dict]) -> str:
    lines = ["mode   targets  shares/min   duty   bound/min  bound duty  esp ms/share  reply ms",
             "-----  -------  ----------  -----  ---------  ----------  ------------  --------"]
    for r in rows:
        mark = " *" if r["targets"] > ESP_MAX_TARGETS else ""
        lines.append("%-5s  %5d%-2s  %10.1f  %4.0f%%  %9.1f  %9.0f%%  %12.1f  %8.0f" % (
            r["mode"], r["targets"], mark, r["per_min"], 100 * r["duty"], r["bound_per_min"],
            100 * r["bound_duty"], r["esp_ms"], r["reply_ms"]))
    lines.append("* beyond what one ESP8266 holds (5 TCP connections, 4 targets in practice)")
    return "\n".join(lines)


def arguments() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help='a first look in about a minute: --targets "%s" --seconds %g' % (QUICK_TARGETS, QUICK_SECONDS))
    ap.add_argument("--targets", default=None, help='rig sizes (default "%s")' % FULL_TARGETS)
    ap.add_argument("--modes", default="block poll")
    ap.add_argument("--seconds", type=float, default=None, help="loop time per rig (default %g)" % FULL_SECONDS)
    ap.add_argument("--latency", type=int, default=700, help="emulator ms per reply, fixed part")
    ap.add_argument("--jitter", type=int, default=200, help="plus uniform 0..jitter ms")
    ap.add_argument("--rate", type=float, default=160.0, help="Mini Pro H/s")
    ap.add_argument("--heap", type=int, default=100000,
                    help="micropython -X heapsize (10 targets need more than the ESP8266's heap)")
    return ap


def plan(args: argparse.Namespace) -> tuple[list[tuple[str, int]], float]:
    """The runs (mode, targets) in order, and the loop seconds of each."""
    targets = args.targets or (QUICK_TARGETS if args.quick else FULL_TARGETS)
    seconds = args.seconds if args.seconds is not None else (QUICK_SECONDS if args.quick else FULL_SECONDS)
    return [(mode, int(n)) for mode in args.modes.split() for n in targets.split()], seconds


def main(argv: list[str] | None = None) -> int:
    args = arguments().parse_args(argv)
    runs, seconds = plan(args)
    latency_s = (args.latency + args.jitter / 2) / 1000
    expected = [expected_seconds(n, mode, seconds, latency_s) for mode, n in runs]
    print("latency %d + 0..%d ms, %g H/s, difficulty 6, %g s per rig" % (
        args.latency, args.jitter, args.rate, seconds))
    print("%d runs, about %s in all%s" % (len(runs), minutes(sum(expected)),
                                          "" if args.quick else " (QUICK=1: about a minute)"), flush=True)
    runner.ensure_built()
    rows = []
    started = time.monotonic()
    for k, (mode, n) in enumerate(runs):
        print("[%d/%d] %s, %d target%s, %g s of loop ..." % (
            k + 1, len(runs), mode, n, "s" if n > 1 else "", seconds), flush=True)
        rows.append(run(n, mode, seconds, args.latency, args.jitter, args.rate, args.heap))
        r = rows[-1]
        took = time.monotonic() - started
        left = sum(expected[k + 1:]) * took / sum(expected[:k + 1])  # scaled by how the estimate fared
        print("  %s %2d targets: %d shares, %.1f/min, duty %.0f%%  (%s so far, about %s left)" % (
            mode, n, r["shares"], r["per_min"], 100 * r["duty"], minutes(took), minutes(left)), flush=True)
    print(table(rows))
    by = {(r["mode"], r["targets"]): r for r in rows}
    if ("block", 4) in by and ("poll", 4) in by:
        b, p = by[("block", 4)], by[("poll", 4)]
        print("4 targets: poll/block shares %.2fx, poll reaches %.0f%% of its bound" % (
            p["per_min"] / b["per_min"] if b["per_min"] else 0, 100 * p["per_min"] / p["bound_per_min"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
