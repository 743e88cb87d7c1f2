"""`make bench`: the RAM the device code needs, measured on the MicroPython unix port.

Runs the rig of 3 simulated Mini Pros against the emulator for 200 rounds and prints
1. the peak live heap after gc.collect() in any round (tools/heap_probe.py), and
2. the smallest `micropython -X heapsize` with which `s 200l i x` completes, by bisection.
The unix port is 64-bit: its objects are about twice the ESP8266's, so both figures are an
upper bound for the ESP's ~30 KB of free heap.
"""
from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import bus_server
import sim
from duco_server import Emulator
from minipro_sim import MiniPro, SimBus

TARGETS = [20, 21, 22]


def completes(heap: int, rounds: int, pool: tuple[str, int], bus_port: int) -> bool:
    with tempfile.TemporaryDirectory() as d:
        sim.write_setup(Path(d), pool, TARGETS)
        cmd = [str(sim.MICROPYTHON), "-X", "heapsize=%d" % heap, "-c", "import mydu"]
        out = io.StringIO()
        rc, _ = sim.run_keys(cmd, Path(d), sim.device_env(bus_port), ["s", "%dl" % rounds, "i", "x"], 300, out)
        text = out.getvalue()
    return rc == 0 and "Loop Done" in text and "Traceback" not in text and "MemoryError" not in text


def peak_live(rounds: int, pool: tuple[str, int], bus_port: int, heap: int) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as d:
        sim.write_setup(Path(d), pool, TARGETS)
        env = sim.device_env(bus_port)
        env["ROUNDS"] = str(rounds)
        env["MICROPYPATH"] += ":%s" % Path(__file__).resolve().parent
        r = subprocess.run([str(sim.MICROPYTHON), "-X", "heapsize=%d" % heap, "-c", "import heap_probe"],
                           cwd=d, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    m = re.search(r"PROBE peak_live (\d+) shares (\d+)", r.stdout)
    if not m:
        sys.exit("heap probe failed:\n" + r.stdout[-2000:] + r.stderr)
    return int(m.group(1)), int(m.group(2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--rate", type=float, default=1e6, help="Mini Pro H/s: fast, so rounds serve shares")
    args = ap.parse_args()
    emulator = Emulator().start(http_port=None)
    pool = ("127.0.0.1", emulator.port)
    bus_port = bus_server.serve(SimBus([MiniPro(a, hash_rate=args.rate) for a in TARGETS])).server_address[1]

    peak, shares = peak_live(args.rounds, pool, bus_port, 64000)
    print("peak live heap after gc.collect(): %d bytes (%d rounds, %d shares)" % (peak, args.rounds, shares))

    lo, hi = 4000, 64000  # lo fails, hi completes (checked below)
    if not completes(hi, args.rounds, pool, bus_port):
        print("the rig does not complete in -X heapsize=%d" % hi)
        return 1
    while hi - lo > 500:
        mid = (lo + hi) // 2
        ok = completes(mid, args.rounds, pool, bus_port)
        print("  heapsize %6d: %s" % (mid, "completes" if ok else "fails"), flush=True)
        lo, hi = (lo, mid) if ok else (mid, hi)
    print("smallest -X heapsize that completes %d rounds: %d bytes (within 500)" % (args.rounds, hi))
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
