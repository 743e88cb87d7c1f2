"""The Mini Pro core's hash rate, by simulated CPU cycles of the build `make firmware` ships.

`make firmware-hashrate` links the sketch's own duco_core.c object with a bench main
(target/bench/hashrate.c) that counts cycles with Timer1 and runs it in simavr. Simulated
cycles do not depend on the host, so the figures are exact and the same on every run, and a
floor can be asserted on them: 1.05 times the official Duino-Coin Arduino core's 335.1 H/s
in the same terms, on the real AVR job searched over its whole range (nonces 0..600) and on
a difficulty 100 job over 4-digit nonces.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "target") not in sys.path:
    sys.path.insert(0, str(ROOT / "target"))

from simavr_hashrate import F_CPU, JobRate, run_bench  # noqa: E402

BENCH = ROOT / "build" / "minipro-bench" / "hashrate.elf"
OFFICIAL_RATE = 335.1  # H/s of the official Arduino core in the same simavr terms
FLOOR = 1.05 * OFFICIAL_RATE  # 351.9 H/s: "at least 352 H/s"


def _toolchain_or_skip() -> None:
    if all(shutil.which(tool) for tool in ("avr-gcc", "simavr", "avr-size")):
        return
    if os.geteuid() != 0:
        pytest.skip("avr-gcc/simavr missing and not root, so `make firmware` cannot install them")


@pytest.fixture(scope="module")
def make_output() -> str:
    """`make firmware-hashrate` once for the module: it builds the sketch and the bench."""
    _toolchain_or_skip()
    proc = subprocess.run(
        ["make", "--no-print-directory", "firmware-hashrate"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def rates(make_output: str) -> dict[str, JobRate]:
    return {r.name: r for r in run_bench(str(BENCH))}


def test_make_target_prints_cycles_per_hash_and_rate_for_each_job(make_output):
    for job in ("diff6", "diff100", "selftest"):
        assert re.search(r"%s +nonce +\d+ +\d+ hashes +\d+ cycles +\d+ cycles/hash +[\d.]+ H/s\n" % job,
                         make_output), make_output


def test_bench_searches_the_jobs_it_names_and_finds_their_nonces(rates):
    assert (rates["diff6"].nonce, rates["diff6"].hashes) == (600, 601)  # the whole range 0..600
    assert (rates["diff100"].nonce, rates["diff100"].hashes) == (1999, 1000)  # 1000..1999 timed
    assert (rates["selftest"].nonce, rates["selftest"].hashes) == (50, 51)
    assert all(r.nonce_is_right() for r in rates.values())  # each checked with hashlib


@pytest.mark.parametrize("job", ["diff6", "diff100"])
def test_rate_is_at_least_1_05_times_the_official_core(rates, job):
    rate = rates[job]
    assert rate.exact_rate >= FLOOR, "%s: %.2f H/s, %d cycles/hash" % (job, rate.exact_rate, rate.cycles_per_hash)
    assert rate.cycles_per_hash <= F_CPU / FLOOR


def test_printed_figures_agree_with_the_cycle_count(rates):
    for rate in rates.values():
        assert abs(rate.cycles_per_hash - rate.cycles / rate.hashes) <= 0.5
        assert abs(rate.rate - rate.exact_rate) < 0.01  # the AVR prints hundredths, truncated


def test_simulated_cycles_are_the_same_on_every_run(rates):
    again = {r.name: r for r in run_bench(str(BENCH))}
    assert again == rates
