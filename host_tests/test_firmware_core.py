"""The Mini Pro sketch's core against the spec, on the bus, side by side with the simulator.

Every bus scenario runs against minipro_sim.MiniPro and against FirmwareMiniPro (the C core
of target/minipro built for the host), so one scenario proves both behave as the spec says
and as each other. Time is a fake clock the test advances; nothing sleeps.
The last tests build the real AVR firmware and run it in simavr.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT / "tools", ROOT / "target"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from ducos1 import duco_hash, find_nonce, make_job  # noqa: E402
from firmware_minipro import VARIANTS, FirmwareMiniPro, core_search, core_sha1  # noqa: E402
from minipro_sim import MiniPro  # noqa: E402

REAL_LAST = "08cc80c947162d4b58c1ebe18a76699ae4bd4fe6"
REAL_EXPECTED = "1ad343a3a8050df4d7f7c1800ee746391a89abb2"
SELFTEST_LAST = "ba29a15896fd2d792d5c4b60668bf2b9feebc51d"
SELFTEST_EXPECTED = "d0beba883d7e8cd119ea2b0e09b78f60f29e0968"
POLL_S = 0.001  # the master's pause between status polls, in fake time
FLASH_LIMIT = 28 * 1024
RAM_LIMIT = 1536


class FakeTime:
    """The injected clock: seconds, moved only by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture(params=[MiniPro, FirmwareMiniPro], ids=["sim", "firmware"])
def make_target(request, fake_time):
    """Builds a target of the class under test on the fake clock."""

    def make(addr: int = 8, **kwargs):
        return request.param(addr, clock=fake_time, **kwargs)

    return make


def status(target) -> bytes:
    target.write(b"S")
    return target.read(3)


def number(target, letter: bytes) -> bytes:
    target.write(letter)
    return target.read(5)


def wait_not_busy(target, fake_time: FakeTime, limit_s: float = 120.0) -> bytes:
    """Polls `S` as the master does, moving fake time on between polls."""
    deadline = fake_time.now + limit_s
    while fake_time.now < deadline:
        st = status(target)
        if st[:1] != b"B":
            return st
        fake_time.advance(POLL_S)
    raise AssertionError("target still busy after %s s of fake time" % limit_s)


def send(target, fake_time: FakeTime, data: bytes) -> bytes:
    """One queued command, then the status once loop() has carried it out."""
    target.write(data)
    return wait_not_busy(target, fake_time)


def big_chunks(last: str, expected: str) -> list[bytes]:
    return [
        b"L" + last[:20].encode(),
        b"M" + last[20:].encode(),
        b"N" + expected[:20].encode(),
        b"O" + expected[20:].encode(),
    ]


def small_chunks(last: str, expected: str) -> list[bytes]:
    out = []
    for letters, text in (("LMN", last), ("OPQ", expected)):
        for letter, (a, b) in zip(letters, ((0, 14), (14, 28), (28, 40))):
            out.append(letter.encode() + text[a:b].encode())
    return out


def run_job(target, fake_time, chunks: list[bytes], diff: int | None = None) -> tuple[int, int]:
    """Sends a job as the master does and returns (nonce, ms) once the target is done."""
    if diff is not None:
        send(target, fake_time, b"D%02d" % diff)
    for chunk in chunks:
        send(target, fake_time, chunk)
    assert wait_not_busy(target, fake_time) == b"C? "
    return int(number(target, b"R")), int(number(target, b"E"))


# -- status and the one-slot queue ---------------------------------------------------------
def test_status_after_reset_is_idle_with_version_letter(make_target):
    assert status(make_target()) == b"Ic "


def test_queued_letter_shows_busy_and_letter_then_runs(make_target, fake_time):
    target = make_target()
    target.write(b"D06")
    assert status(target) == b"BcD"  # queued: version letter still shown
    fake_time.advance(POLL_S)
    assert status(target) == b"I? "  # carried out by loop()
    target.write(b"A")
    assert status(target) == b"B?A"
    fake_time.advance(POLL_S)
    assert status(target) == b"Ic "  # `A` brings the version letter back


def test_unknown_letter_and_empty_write_change_nothing(make_target, fake_time):
    target = make_target()
    target.write(b"")
    target.write(b"Z12")
    fake_time.advance(POLL_S)
    assert status(target) == b"Ic "


def test_reads_past_the_prepared_reply_are_ff(make_target):
    target = make_target()
    assert target.read(4) == b"\xff" * 4  # nothing prepared yet
    target.write(b"S")
    assert target.read(6) == b"Ic \xff\xff\xff"
    target.write(b"R")
    assert target.read(7) == b"    0\xff\xff"


def test_ducoid_is_ready_after_about_10_ms(make_target, fake_time):
    target = make_target(21)
    target.write(b"I")
    assert status(target) == b"BcI"
    fake_time.advance(0.011)
    target.write(b"I")  # the master writes `I` and reads 22 bytes after the delay
    fake_time.advance(0.011)
    ducoid = target.read(22).decode()
    assert re.fullmatch(r"DUCOID[0-9A-F]{16}", ducoid)
    other = make_target(21)  # stable: a second target at the same address has the same id
    other.write(b"I")
    fake_time.advance(0.011)
    assert other.read(22).decode() == ducoid


# -- hashing -------------------------------------------------------------------------------
def test_real_avr_job_finds_nonce_38(make_target, fake_time):
    target = make_target()
    nonce, ms = run_job(target, fake_time, big_chunks(REAL_LAST, REAL_EXPECTED), diff=6)
    assert nonce == 38
    assert number(target, b"R") == b"   38"
    assert ms == round(1000 * 39 / 160)  # 39 hashes at the default 160 H/s
    assert send(target, fake_time, b"A") == b"Ic "


def test_exact_spec_chunks_for_the_real_job(make_target, fake_time):
    target = make_target()
    for chunk in (b"D06", b"L08cc80c947162d4b58c1", b"Mebe18a76699ae4bd4fe6",
                  b"N1ad343a3a8050df4d7f7", b"Oc1800ee746391a89abb2"):
        send(target, fake_time, chunk)
    assert number(target, b"R") == b"   38"


def test_selftest_job_finds_nonce_50_at_default_difficulty(make_target, fake_time):
    target = make_target()
    nonce, _ = run_job(target, fake_time, big_chunks(SELFTEST_LAST, SELFTEST_EXPECTED))
    assert nonce == 50


def test_busy_until_hashes_over_rate_and_E_reports_that_time(make_target, fake_time):
    target = make_target(hash_rate=100.0)
    for chunk in big_chunks(SELFTEST_LAST, SELFTEST_EXPECTED):
        target.write(chunk)
        fake_time.advance(POLL_S)
    # `O` was carried out when the clock reached its due time; 51 hashes at 100 H/s = 0.51 s
    assert status(target) == b"B?O"
    fake_time.advance(0.505)
    assert status(target) == b"B?O"
    fake_time.advance(0.006)
    assert status(target) == b"C? "
    assert number(target, b"E") == b"  510"


def test_small_target_takes_six_chunks_and_q_starts(make_target, fake_time):
    target = make_target(60)
    chunks = small_chunks(REAL_LAST, REAL_EXPECTED)
    assert [len(c) - 1 for c in chunks] == [14, 14, 12, 14, 14, 12]
    send(target, fake_time, b"D06")
    for chunk in chunks[:4]:
        assert send(target, fake_time, chunk) == b"I? "  # `O` does not start a small target
    send(target, fake_time, chunks[4])
    target.write(chunks[5])
    fake_time.advance(POLL_S)
    assert status(target) == b"B?O"
    assert wait_not_busy(target, fake_time) == b"C? "
    assert number(target, b"R") == b"   38"


def test_small_target_chunks_match_the_spec_text(make_target, fake_time):
    chunks = small_chunks(REAL_LAST, REAL_EXPECTED)
    assert chunks[:3] == [b"L08cc80c947162d", b"M4b58c1ebe18a76", b"N699ae4bd4fe6"]
    nonce, _ = run_job(make_target(99), fake_time, small_chunks(SELFTEST_LAST, SELFTEST_EXPECTED))
    assert nonce == 50


def test_h_hashes_the_stored_job_again(make_target, fake_time):
    target = make_target()
    run_job(target, fake_time, big_chunks(REAL_LAST, REAL_EXPECTED), diff=6)
    send(target, fake_time, b"A")
    target.write(b"H")
    fake_time.advance(POLL_S)
    assert status(target) == b"B?O"
    assert wait_not_busy(target, fake_time) == b"C? "
    assert number(target, b"R") == b"   38"


def test_d_sets_the_nonce_range(make_target, fake_time):
    last = "%040x" % random.Random(3).getrandbits(160)
    expected = duco_hash(last, 150)
    target = make_target()
    nonce, ms = run_job(target, fake_time, big_chunks(last, expected), diff=1)
    assert nonce == 0  # 150 is above 100 * 1: not found
    assert ms == round(1000 * 101 / 160)  # the whole range 0..100 was hashed
    send(target, fake_time, b"D02")
    target.write(b"H")
    assert wait_not_busy(target, fake_time) == b"C? "
    assert number(target, b"R") == b"  150"


def test_letter_sent_while_hashing_waits_for_the_hash(make_target, fake_time):
    target = make_target()
    chunks = big_chunks(REAL_LAST, REAL_EXPECTED)
    for chunk in chunks[:3]:
        send(target, fake_time, chunk)
    target.write(chunks[3])
    fake_time.advance(POLL_S)
    assert status(target) == b"B?O"
    target.write(b"A")
    assert status(target) == b"B?A"
    assert wait_not_busy(target, fake_time) == b"Ic "  # `A` ran after the hash
    assert number(target, b"R") == b"   38"


def test_chunk_of_the_wrong_length_matches_nothing(make_target, fake_time):
    target = make_target()
    chunks = big_chunks(REAL_LAST, REAL_EXPECTED)
    chunks[0] = chunks[0][:-1]  # 19 characters: the last block hash is not the job's
    nonce, _ = run_job(target, fake_time, chunks, diff=6)
    assert nonce == 0


# -- the address ---------------------------------------------------------------------------
def test_v_moves_the_address_and_stores_it(make_target, fake_time):
    target = make_target(8)
    assert target.addr == 8
    target.write(b"V12")
    assert target.addr == 8  # not before loop() has run it
    assert wait_not_busy(target, fake_time) == b"I? "
    assert target.addr == 12
    assert target.eeprom == 12


def test_v_to_a_small_address_switches_to_six_chunks(make_target, fake_time):
    target = make_target(8)
    send(target, fake_time, b"V55")
    nonce, _ = run_job(target, fake_time, small_chunks(SELFTEST_LAST, SELFTEST_EXPECTED))
    assert nonce == 50


@pytest.mark.parametrize("eeprom, addr", [(200, 4), (128, 4), (127, 127), (9, 9)])
def test_eeprom_byte_above_127_means_address_4(make_target, eeprom, addr):
    assert make_target(30, eeprom_addr=eeprom).addr == addr


# -- the core's own pieces -----------------------------------------------------------------
@pytest.mark.parametrize("length", [0, 1, 40, 45, 55, 56, 63, 64, 65, 119, 120, 300])
def test_core_sha1_matches_hashlib(length):
    message = random.Random(length).randbytes(length)
    assert core_sha1(message) == hashlib.sha1(message).digest()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_core_search_agrees_with_the_reference_on_random_jobs(fake_time, variant):
    rng = random.Random(11)
    target = FirmwareMiniPro(8, hash_rate=1e6, clock=fake_time, variant=variant)
    send(target, fake_time, b"D03")
    for _ in range(25):
        last, expected, nonce = make_job(3, rng)
        if rng.random() < 0.3:
            expected = expected.upper()  # either case is a match, per the spec
        for chunk in big_chunks(last, expected):
            send(target, fake_time, chunk)
        assert int(number(target, b"R")) == nonce == find_nonce(last, expected, 3)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("nonce", [1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 25500])
def test_core_search_counts_digits_up_across_every_length(variant, nonce):
    """The core counts the nonce's ASCII digits up instead of converting each nonce: every
    carry into one more digit (9 -> 10 ... 9999 -> 10000) must give the right message."""
    diff = max(1, -(-nonce // 100))  # the smallest difficulty whose range holds the nonce
    assert core_search(SELFTEST_LAST, duco_hash(SELFTEST_LAST, nonce), diff, variant) == (nonce, nonce + 1)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_core_search_without_a_match_hashes_the_whole_range(variant):
    expected = duco_hash(REAL_LAST, 701)  # just past difficulty 7's range 0..700
    assert core_search(REAL_LAST, expected, 7, variant) == (0, 701)


def test_highest_difficulty_on_the_bus_reaches_its_last_nonce(make_target, fake_time):
    target = make_target(hash_rate=1e6)
    nonce, _ = run_job(target, fake_time, big_chunks(REAL_LAST, duco_hash(REAL_LAST, 9900)), diff=99)
    assert nonce == 9900


# -- the AVR build -------------------------------------------------------------------------
def _avr_toolchain_or_skip() -> None:
    needed = ("avr-gcc", "simavr", "avr-size")
    if all(shutil.which(tool) for tool in needed):
        return
    if os.geteuid() != 0:
        pytest.skip("avr-gcc/simavr missing and not root, so `make firmware` cannot install them")


def _make_firmware() -> str:
    proc = subprocess.run(
        ["make", "--no-print-directory", "firmware"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_firmware_builds_for_the_atmega328p_within_size_limits():
    _avr_toolchain_or_skip()
    out = _make_firmware()
    match = re.search(r"flash (\d+) bytes .*static RAM (\d+) bytes", out)
    assert match, out
    flash, ram = int(match.group(1)), int(match.group(2))
    assert 0 < flash < FLASH_LIMIT
    assert 0 < ram < RAM_LIMIT
    assert (ROOT / "build" / "minipro-avr" / "minipro.hex").stat().st_size > 0


def test_firmware_in_simavr_finds_the_selftest_nonce():
    _avr_toolchain_or_skip()
    _make_firmware()
    from simavr_selftest import run_selftest

    result = run_selftest(str(ROOT / "build" / "minipro-avr" / "minipro.elf"))
    assert result["nonce"] == 50
    assert result["hashes"] == 51
    assert 100 <= result["rate"] <= 2000  # H/s of a 16 MHz AVR, from simulated micros()
