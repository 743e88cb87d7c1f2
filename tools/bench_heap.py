"""`make bench`: the heap the rig needs, on the rigs' interpreter (MicroPython 1.15 built as the
ESP8266 port, the .mpy files `make deploy` copies; tools/micropython_runner.py).

For block and poll mode with 3 and 4 simulated Mini Pros (fast ones, so that every round
serves shares) against the server emulator, it prints
1. the peak live heap: the most gc.mem_alloc() after gc.collect() after any connection's turn
   (tools/heap_probe.py), counted from just before `import mydu`;
2. the smallest `-X heapsize` in which `s`, 1,000 rounds of `l`, `i` and `x` run clean, by
   bisection, and the free heap the rig found at `import mydu` in it: what the rig needs of a
   board's free heap after boot;
3. the same run inside the ESP8266's real heap (38,912 B) with boot's leftovers held before
   `import mydu`, in pieces with small gaps between them (host_tests/fakes/upy/_boot.py): 27,000 B
   left free, as an older FAT board with WebREPL has after boot, and 20,480 B, the target.

"Clean": exit status 0, `Loop Done`, shares accepted, and no traceback, no MemoryError and no
"out of memory" line. The interpreter's own start-up and the stand-ins for the ESP's built-in
modules (frozen into the interpreter, as the real ones are built into the board) are allocated
before the rig's figures are taken, so they are not counted as the rig's.
"""
from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import bus_server
import micropython_runner as runner
import sim
from duco_server import Emulator
from minipro_sim import MiniPro, SimBus

TOOLS = Path(__file__).resolve().parent
ROUNDS = 1000
CONFIGS = (("block", 3), ("block", 4), ("poll", 3), ("poll", 4))
BOOT_LEFTOVERS = ((27000, "an older FAT board with WebREPL"), (20480, "the target: 20 KB"))
FREE_LINE = re.compile(r"^FREE (\d+)$", re.M)
# As the ESP starts: boot.py (WiFi, WebREPL), then main.py's `import mydu`; the free heap between
# the two is what boot left the rig.
AFTER_BOOT = "import gc\ngc.collect()\nprint('FREE %d' % gc.mem_free())\n"


@dataclass
class Run:
    clean: bool
    free_at_import: int
    why: str


class Rig:
    """A server emulator and a bus of fast Mini Pros, shared by every run of one configuration."""

    def __init__(self, targets: int) -> None:
        self.addrs = [20 + i for i in range(targets)]
        self.emulator = Emulator().start(http_port=None)
        self.server = bus_server.serve(SimBus([MiniPro(a, hash_rate=1e6) for a in self.addrs]))

    def stop(self) -> None:
        self.server.shutdown()
        self.emulator.stop()

    def setup(self, folder: Path, mode: str) -> dict[str, str]:
        sim.write_setup(folder, ("127.0.0.1", self.emulator.port), self.addrs, "mode " + mode)
        return sim.device_env(self.server.server_address[1])


def run_clean(rig: Rig, mode: str, heap: int, rounds: int, free: int | None = None) -> Run:
    """`s`, `<rounds>l`, `i`, `x` at the H> prompt, as an operator types them."""
    good_before = rig.emulator.stats.good
    with tempfile.TemporaryDirectory() as d:
        env = rig.setup(Path(d), mode)
        held = "import _boot\n_boot.hold(%d)\n" % free if free is not None else ""
        cmd = runner.command("import boot\n" + held + AFTER_BOOT + "import mydu", heap)
        out = io.StringIO()
        rc, _ = sim.run_keys(cmd, Path(d), env, ["s", "%dl" % rounds, "i", "x"], 600, out)
    text = out.getvalue()
    m = FREE_LINE.search(text)
    free_at_import = int(m.group(1)) if m else 0
    for bad in ("Traceback", "MemoryError", "out of memory"):
        if bad in text:
            return Run(False, free_at_import, bad)
    if rc != 0 or "Loop Done" not in text:
        return Run(False, free_at_import, "exit %d" % rc)
    if rig.emulator.stats.good == good_before:
        return Run(False, free_at_import, "no share accepted")
    return Run(True, free_at_import, "")


def peak_live(rig: Rig, mode: str, rounds: int) -> tuple[int, int]:
    """(peak live bytes counted from just before `import mydu`, shares) in the ESP8266's heap."""
    with tempfile.TemporaryDirectory() as d:
        env = rig.setup(Path(d), mode)
        env["ROUNDS"] = str(rounds)
        env["MICROPYPATH"] += ":%s" % TOOLS  # the probe itself, as source: loaded before the count
        proc = subprocess.Popen(runner.command("import boot\nimport heap_probe"), cwd=d, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # "x" leaves the menu at import; stdin stays open and quiet, so no key ends a loop
        proc.stdin.write("x")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        out = proc.stdout.read()  # type: ignore[union-attr]
        proc.wait(timeout=600)
    m = re.search(r"PROBE peak_live (\d+) shares (\d+)", out)
    if not m:
        sys.exit("heap probe failed:\n" + out[-2000:])
    return int(m.group(1)), int(m.group(2))


def smallest_heap(rig: Rig, mode: str, rounds: int) -> tuple[int, Run]:
    """The smallest -X heapsize (within 256 B) in which the run is clean, and that run."""
    hi = runner.ESP8266_HEAP
    best = run_clean(rig, mode, hi, rounds)
    if not best.clean:
        return 0, best
    lo = 8000
    while hi - lo > 256:
        mid = (lo + hi) // 2
        r = run_clean(rig, mode, mid, rounds)
        if r.clean:
            hi, best = mid, r
        else:
            lo = mid
    return hi, best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    args = ap.parse_args()
    runner.ensure_built()
    print("MicroPython %s, .mpy files from build/board, %d rounds per run; about 8 minutes" % (
        runner.runner(), args.rounds), flush=True)
    print("%-6s %7s  %10s  %14s  %12s  %s" % ("mode", "targets", "peak live", "smallest heap",
                                            "needs free", "in 38,912 B with boot's leftovers held"))
    failed = False
    for mode, n in CONFIGS:
        t0 = time.monotonic()
        rig = Rig(n)
        try:
            peak, _ = peak_live(rig, mode, args.rounds)
            heap, run = smallest_heap(rig, mode, args.rounds)
            held = []
            for free, _ in BOOT_LEFTOVERS:
                r = run_clean(rig, mode, runner.ESP8266_HEAP, args.rounds, free)
                held.append("%d free: %s" % (free, "clean" if r.clean else "FAILS (%s)" % r.why))
                failed |= not r.clean
        finally:
            rig.stop()
        print("%-6s %7d  %8d B  %12s  %10s  %s  (%.0f s)" % (
            mode, n, peak, "%d B" % heap if heap else "none", "%d B" % run.free_at_import if heap else "-",
            "; ".join(held), time.monotonic() - t0), flush=True)
        failed |= not heap
    print("boot's leftovers: %s." % "; ".join("%d B free is %s" % b for b in BOOT_LEFTOVERS))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
