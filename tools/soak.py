"""`make soak`: the rig of 3 targets against the emulator, a fault every few seconds at random
(seeded), for a bounded time, on the rigs' interpreter (MicroPython 1.15 built as the ESP8266 port,
the .mpy files deploy copies) in the ESP8266's heap of 38,912 bytes, started as the ESP starts:
boot.py, then the rig. `--mode poll` soaks the overlapped loop.

Prints shares accepted, faults injected, faults recovered (the target hit got an accepted share
afterwards), shares lost, the peak live heap, and each target's longest time without an accepted
share. Exits 1 if a target stayed dead longer than 60 s or the live heap grew (last third of the
run against the first, more than 1 KB). The device's whole log goes to build/soak.log.
"""
from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import bus_server
import micropython_runner as runner
import sim
from duco_server import Emulator, Faults
from minipro_sim import MiniPro, SimBus

TARGETS = [20, 21, 22]
DEAD_LIMIT_S = 60
HEAP_GROWTH_LIMIT = 1024
SERVER_FAULTS = ["restart", "refuse", "job:bad", "job:garbage", "job:half", "job:silence",
                 "result:close", "result:bad", "slow"]
BUS_FAULTS = ["hang", "wrong_nonce", "garbage", "power_cycle", "unplug", "stuck"]


@dataclass
class Injected:
    at: float
    kind: str
    addr: int | None  # None: every target is hit


@dataclass
class Progress:
    """What the device reported, by host time."""

    heap: list[tuple[float, int]] = field(default_factory=list)
    accepted: dict[int, list[tuple[float, int]]] = field(default_factory=dict)
    lost: dict[int, int] = field(default_factory=dict)


def inject(kind: str, rng: random.Random, emulator: Emulator, bus: SimBus, targets: dict[int, MiniPro],
           undo: list[tuple[float, object]]) -> int | None:
    f = emulator.faults
    addr = rng.choice(TARGETS)
    t = targets[addr]
    now = time.monotonic()
    if kind == "restart":
        emulator.restart()
        return None
    if kind == "refuse":
        f.refuse += 1
        emulator.restart()
        return None
    if kind.startswith("job:"):
        f.next_job = kind[4:]
        return None
    if kind.startswith("result:"):
        f.next_result = kind[7:]
        return None
    if kind == "slow":
        f.slow_fraction, f.slow_ms = 1.0, 3000
        undo.append((now + 1.0, lambda: setattr(f, "slow_fraction", 0.0)))
        return None
    if kind == "hang":
        t.hang = True
        undo.append((now + 5, lambda: setattr(t, "hang", False)))
    elif kind == "wrong_nonce":
        t.wrong_nonce = True
        undo.append((now + 3, lambda: setattr(t, "wrong_nonce", False)))
    elif kind == "garbage":
        t.garbage = True
        undo.append((now + 3, lambda: setattr(t, "garbage", False)))
    elif kind == "power_cycle":
        with bus.lock:
            t.power_cycle()
    elif kind == "unplug":
        with bus.lock:
            bus.targets.remove(t)
        undo.append((now + 5, lambda: bus.targets.append(t)))
    elif kind == "stuck":
        bus.stuck = rng.randint(1, 9)
        return None
    return addr


def read_device(proc: subprocess.Popen, log: Path, progress: Progress, t0: float) -> None:
    line_re = re.compile(r"SOAK (\d+) (\d+) (.*)")
    with log.open("w") as out:
        for line in proc.stdout:  # type: ignore[union-attr]
            out.write(line)
            m = line_re.match(line)
            if not m:
                continue
            now = time.monotonic() - t0
            progress.heap.append((now, int(m.group(2))))
            for item in m.group(3).split():
                addr, accepted, _faults, lost = (int(x) for x in item.split(":"))
                progress.accepted.setdefault(addr, []).append((now, accepted))
                progress.lost[addr] = lost


def longest_dead(samples: list[tuple[float, int]], end: float) -> float:
    """The longest time between increases of the accepted count (from the start and to the end)."""
    last_change, last_value, worst = 0.0, 0, 0.0
    for when, value in samples:
        if value > last_value:
            worst = max(worst, when - last_change)
            last_change, last_value = when, value
    return max(worst, end - last_change)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--heap", type=int, default=runner.ESP8266_HEAP)
    ap.add_argument("--rate", type=float, default=160.0, help="Mini Pro H/s")
    ap.add_argument("--every", type=float, nargs=2, default=(2.0, 6.0), metavar=("MIN", "MAX"),
                    help="seconds between faults, uniform")
    ap.add_argument("--mode", choices=("block", "poll"), default="block", help="setup.txt's mode: the loop soaked")
    ap.add_argument("--log", default=str(sim.ROOT / "build" / "soak.log"))
    args = ap.parse_args()
    runner.ensure_built()

    rng = random.Random(args.seed)
    emulator = Emulator(seed=args.seed, faults=Faults(latency_ms=30, jitter_ms=40)).start(http_port=None)
    targets = {a: MiniPro(a, hash_rate=args.rate) for a in TARGETS}
    bus = SimBus(list(targets.values()))
    bus_port = bus_server.serve(bus).server_address[1]
    folder = Path(args.log).parent / "soak-run"
    folder.mkdir(parents=True, exist_ok=True)
    sim.write_setup(folder, ("127.0.0.1", emulator.port), TARGETS, "mode " + args.mode)
    env = sim.device_env(bus_port)
    env["SOAK_SECONDS"] = str(int(args.minutes * 60))
    env["MICROPYPATH"] += ":%s" % Path(__file__).resolve().parent
    proc = subprocess.Popen(runner.command("import boot\nimport soak_probe", args.heap),
                            cwd=folder, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    proc.stdin.write("x")  # type: ignore[union-attr]  # leaves the menu; the pipe stays open and quiet
    proc.stdin.flush()  # type: ignore[union-attr]
    t0 = time.monotonic()
    progress = Progress()
    reader = threading.Thread(target=read_device, args=(proc, Path(args.log), progress, t0), daemon=True)
    reader.start()

    injected: list[Injected] = []
    undo: list[tuple[float, object]] = []
    end = t0 + args.minutes * 60
    next_fault = t0 + 10 + rng.uniform(*args.every)  # let every target mine first
    print("soak: %g min, mode %s, seed %d, heap %s, MicroPython %s, log %s" % (
        args.minutes, args.mode, args.seed, args.heap, runner.runner(), args.log), flush=True)
    while proc.poll() is None and time.monotonic() < end + 60:
        now = time.monotonic()
        for item in [u for u in undo if u[0] <= now]:
            undo.remove(item)
            item[1]()  # type: ignore[operator]
        if now >= next_fault and now < end - 20:
            kind = rng.choice(SERVER_FAULTS + BUS_FAULTS)
            injected.append(Injected(now - t0, kind, inject(kind, rng, emulator, bus, targets, undo)))
            next_fault = now + rng.uniform(*args.every)
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
    reader.join(timeout=5)
    for _, action in undo:
        action()  # type: ignore[operator]
    emulator.stop()
    duration = time.monotonic() - t0

    accepted = sum(s[-1][1] for s in progress.accepted.values() if s)
    recovered = 0
    for fault in injected:
        hit = TARGETS if fault.addr is None else [fault.addr]
        before = {a: max([v for w, v in progress.accepted.get(a, []) if w <= fault.at] or [0]) for a in hit}
        if all(any(w > fault.at and v > before[a] for w, v in progress.accepted.get(a, [])) for a in hit):
            recovered += 1
    heaps = [h for _, h in progress.heap]
    third = max(1, len(heaps) // 3)
    growth = max(heaps[-third:]) - max(heaps[:third]) if heaps else 0
    dead = {a: longest_dead(progress.accepted.get(a, []), duration) for a in TARGETS}
    kinds: dict[str, int] = {}
    for fault in injected:
        kinds[fault.kind] = kinds.get(fault.kind, 0) + 1

    print("soak: %.0f s, device exit %s" % (duration, proc.returncode))
    print("shares accepted   %d" % accepted)
    print("faults injected   %d  (%s)" % (len(injected), ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
    print("faults recovered  %d" % recovered)
    print("shares lost       %d" % sum(progress.lost.values()))
    print("peak live heap    %d bytes (growth last third vs first: %+d)" % (max(heaps or [0]), growth))
    print("longest dead      %s" % "  ".join("%d: %.0f s" % (a, d) for a, d in dead.items()))
    failed = []
    if proc.returncode != 0:
        failed.append("the device exited with %s" % proc.returncode)
    if any(d > DEAD_LIMIT_S for d in dead.values()):
        failed.append("a target stayed dead longer than %d s" % DEAD_LIMIT_S)
    if growth > HEAP_GROWTH_LIMIT:
        failed.append("the live heap grew by %d bytes" % growth)
    if not heaps:
        failed.append("no progress lines from the device")
    print("soak: " + ("FAILED: " + "; ".join(failed) if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
