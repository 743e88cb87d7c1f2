"""Run the Mini Pro sketch in simavr and report its boot self-test (nonce, ms, H/s).

The sketch hashes the official self-test job at boot, times it with micros() and prints
`selftest nonce 50 hashes 51 ms ... rate ... H/s` on serial. simavr's micros() follows
simulated time, so that rate is the rate of a real 16 MHz ATmega328P. simavr never exits
by itself: this stops it as soon as the line is seen, or after the timeout. For the hash
rate by counted cycles, see simavr_hashrate.py (`make firmware-hashrate`).

Usage: python target/simavr_selftest.py build/minipro-avr/minipro.elf
Standard library only, so any python3 can run it.
"""
from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time

LINE = re.compile(r"selftest nonce (\d+) hashes (\d+) ms (\d+) rate (\d+)\.(\d) H/s")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_selftest(elf: str, timeout_s: float = 30.0) -> dict[str, float]:
    """The parsed self-test line; raises RuntimeError when simavr never prints it."""
    proc = subprocess.Popen(
        ["simavr", "-m", "atmega328p", "-f", "16000000", elf],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # so the stop below reaches only this simavr
    )
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 0.2)
            if ready:
                chunk = os.read(proc.stderr.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
                match = LINE.search(ANSI.sub("", seen.decode("latin-1")))
                if match:
                    nonce, hashes, ms, whole, tenth = (int(g) for g in match.groups())
                    return {
                        "nonce": nonce,
                        "hashes": hashes,
                        "ms": ms,
                        "rate": whole + tenth / 10,
                    }
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()
    text = ANSI.sub("", seen.decode("latin-1")).strip()
    raise RuntimeError("no self-test line from simavr; it printed: %r" % text[-300:])


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: simavr_selftest.py <elf>", file=sys.stderr)
        return 2
    try:
        result = run_selftest(argv[1])
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        "simavr self-test: nonce %d, %d hashes in %d ms of simulated time: %.1f H/s at 16 MHz"
        % (result["nonce"], result["hashes"], result["ms"], result["rate"])
    )
    return 0 if result["nonce"] == 50 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
