"""Run the hash-rate bench (target/bench/hashrate.c) in simavr and read its figures.

The bench links the shipped sketch's duco_core.c object with a bare main that counts CPU
cycles with Timer1 around each job and prints one line per job on serial:

    hashrate diff6 nonce 600 hashes 601 cycles 6754432 cycles/hash 11239 rate 1423.65 H/s

simavr shows serial output on stderr (in colour codes, "\\n" as "."). Simulated cycles do not
depend on the host, so the figures are the same on every run and are those of a real
16 MHz ATmega328P. The bench stops the CPU when done, which ends simavr; the timeout only
guards against a bench that never gets there.

Usage: python target/simavr_hashrate.py build/minipro-bench/hashrate.elf
Standard library only, so any python3 can run it.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass

F_CPU = 16_000_000
LINE = re.compile(
    r"hashrate (\w+) nonce (\d+) hashes (\d+) cycles (\d+) cycles/hash (\d+) rate (\d+\.\d+) H/s"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# The bench's jobs, so each nonce it reports can be checked here with SHA-1.
JOBS = {
    "diff6": ("08cc80c947162d4b58c1ebe18a76699ae4bd4fe6", "1f0c52c9a242c460a96d42ce34edb97cf7f0b5b5"),
    "diff100": ("ba29a15896fd2d792d5c4b60668bf2b9feebc51d", "26ccd80b1a483aef984b5c1699c76f074819bb2f"),
    "selftest": ("ba29a15896fd2d792d5c4b60668bf2b9feebc51d", "d0beba883d7e8cd119ea2b0e09b78f60f29e0968"),
}


@dataclass(frozen=True)
class JobRate:
    """One job of the bench, as the AVR printed it."""

    name: str
    nonce: int
    hashes: int
    cycles: int
    cycles_per_hash: int
    rate: float  # H/s at 16 MHz, as printed (hundredths)

    @property
    def exact_rate(self) -> float:
        """H/s from the cycle count, without the AVR's rounding."""
        return F_CPU * self.hashes / self.cycles

    def nonce_is_right(self) -> bool:
        last, expected = JOBS[self.name]
        return hashlib.sha1((last + str(self.nonce)).encode()).hexdigest() == expected


def parse(text: str) -> list[JobRate]:
    """Every bench line in simavr's output."""
    plain = ANSI.sub("", text)
    return [
        JobRate(m.group(1), *(int(g) for g in m.groups()[1:5]), float(m.group(6)))
        for m in LINE.finditer(plain)
    ]


def run_bench(elf: str, timeout_s: float = 30.0) -> list[JobRate]:
    """The bench's figures; RuntimeError when simavr does not print all of them in time."""
    try:
        proc = subprocess.run(
            ["simavr", "-m", "atmega328p", "-f", str(F_CPU), elf],
            capture_output=True, text=True, errors="replace", timeout=timeout_s,
        )
        output = proc.stderr + proc.stdout
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr or b""
        output = err.decode("latin-1") if isinstance(err, bytes) else err
    rates = parse(output)
    if {r.name for r in rates} != set(JOBS):
        raise RuntimeError("the bench did not finish in simavr; it printed: %r" % ANSI.sub("", output)[-400:])
    return rates


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: simavr_hashrate.py <bench elf>", file=sys.stderr)
        return 2
    try:
        rates = run_bench(argv[1])
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print("simavr, ATmega328P at 16 MHz, cycles counted by Timer1:")
    for r in rates:
        print(
            "  %-8s nonce %5d  %5d hashes  %9d cycles  %6d cycles/hash  %8.2f H/s%s"
            % (r.name, r.nonce, r.hashes, r.cycles, r.cycles_per_hash, r.exact_rate,
               "" if r.nonce_is_right() else "  WRONG NONCE")
        )
    return 0 if all(r.nonce_is_right() for r in rates) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
