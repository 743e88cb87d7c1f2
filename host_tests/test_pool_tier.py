"""The pool's answer to a Mini Pro faster than its tier allows, and what the rig does with it.

The public pool moves a connection whose share hash rate is at or above its tier's maximum: it
answers `BAD,Too low starting difficulty` once and from then on hands that connection the next
tier's jobs (AVR at difficulty 6 up to 240 H/s, then MEGA at 16), whatever tier the later `JOB`
requests name. The emulator models that with its TierMove switch. Here the device code runs on
CPython against it: duclas.Connection share by share, and mydu's loop as on a rig. The rig must
then send the new difficulty to its target (`D16` on the bus) and go on mining GOOD shares.
Time is the fake clock, shared by the targets, the device code and the emulator's share times.
"""
from __future__ import annotations

import os
import re
import sys

import pytest

import machine
from conftest import fake_loop_waits, import_mydu, request_job, submit
from duclas import ACCEPTED, REJECTED, Connection
from duco_server import TOO_FAST, Emulator, TierMove
from i2ct import Target
from minipro_sim import SimBus
from recording_bus import RecordingBus

NAME = b"I2C 20 AVR Miner (DUCO-S1A) v2.47"
AVR_MAX_RATE = 240.0  # H/s, the AVR tier's maximum in the pool software's committed table
MEGA_DIFF = 16  # the next tier's difficulty in that table
FAST_SKETCH = 1424.0  # H/s of our sketch in simavr (`make firmware-hashrate`)
OFFICIAL_CLASS = 400.0  # H/s of a target as fast as the official sketch on a real board, rounded up


@pytest.fixture
def pool(clock):
    """The emulator with the AVR tier's maximum switched on, timing shares on the fake clock."""
    emu = Emulator(seed=7, tier=TierMove(max_rate=AVR_MAX_RATE, next_diff=MEGA_DIFF), clock=clock).start()
    yield emu
    emu.stop()


def connection(sim_bus, clock, port: int, target_cls, hash_rate: float) -> tuple[Connection, RecordingBus]:
    sim_bus.targets.append(target_cls(20, hash_rate=hash_rate, clock=clock))
    bus = RecordingBus(sim_bus)
    machine.bus = bus
    c = Connection(Target(machine.I2C(), 20), NAME, b"Rig 42", b"targon", b"None", ("127.0.0.1", port))
    return c, bus


def one_share(c: Connection, clock, report_rate: bool = True) -> tuple[int, str]:
    """Job, hash, result, as the blocking loop runs it: (the job's difficulty, the feedback).
    report_rate: the result carries the rig's rate, as after the menu's `h`."""
    request_job(c)
    diff = c.diff
    c.send_job()
    while c.poll() != "C":
        clock.advance(0.05)
    nonce, ms = c.take_result()
    rate = (1000 * nonce + ms // 2) // ms if ms else 0  # the rig's rate: round(1000 * nonce / ms)
    return diff, submit(c, nonce, rate if report_rate else None)[1]


def d_letters(bus: RecordingBus) -> list[bytes]:
    return [w for w in bus.queued() if w[:1] == b"D"]


def test_target_reporting_a_rate_over_the_maximum_moves_once_then_mines_the_next_tier(
        sim_bus, clock, pool, minipro_cls):
    c, bus = connection(sim_bus, clock, pool.port, minipro_cls, FAST_SKETCH)
    c.connect()
    shares = [one_share(c, clock) for _ in range(5)]
    assert shares[0] == (6, TOO_FAST)
    assert shares[1:] == [(MEGA_DIFF, "GOOD")] * 4  # every later JOB names AVR, and gets MEGA
    assert d_letters(bus) == [b"D06", b"D%02d" % MEGA_DIFF]  # the new difficulty, sent once
    assert (c.n[ACCEPTED], c.n[REJECTED]) == (4, 1)
    assert (pool.stats.tier_moves, pool.stats.good, pool.stats.bad) == (1, 4, 1)


def test_switch_off_by_default_keeps_a_fast_target_in_its_tier(sim_bus, clock, emulator, minipro_cls):
    c, bus = connection(sim_bus, clock, emulator.port, minipro_cls, FAST_SKETCH)
    c.connect()
    assert [one_share(c, clock) for _ in range(3)] == [(6, "GOOD")] * 3
    assert d_letters(bus) == [b"D06"] and emulator.stats.tier_moves == 0


def test_share_under_half_a_second_with_no_rate_is_not_judged(sim_bus, clock, pool, minipro_cls):
    # as on the pool: no reported rate, and too short a share to time, so no move
    c, bus = connection(sim_bus, clock, pool.port, minipro_cls, 1e6)
    c.connect()
    assert [one_share(c, clock, report_rate=False) for _ in range(3)] == [(6, "GOOD")] * 3
    assert pool.stats.tier_moves == 0


@pytest.fixture(params=["block", "poll"])
def rig(request, tmp_path, monkeypatch, clock, pool, capsys, minipro_cls):
    """One target on a rig of setup.txt, in either loop, mining on the pool with the tier switch."""
    sim = SimBus([minipro_cls(20, hash_rate=OFFICIAL_CLASS, clock=clock)])
    bus = RecordingBus(sim)
    machine.bus = bus
    lines = ["rig Rig 42", "user targon", "key None", "pool 127.0.0.1 %d" % pool.port,
             "mode %s" % request.param, "20 %s" % NAME.decode()]
    (tmp_path / "setup.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    r, _ = os.pipe()  # stdin that select.poll understands; nobody types
    monkeypatch.setattr(sys, "stdin", os.fdopen(r, "r"))
    mydu = import_mydu()
    fake_loop_waits(monkeypatch, request.param, clock)
    mydu.start()
    capsys.readouterr()
    yield mydu, bus
    machine.bus = None


def test_rig_leaving_the_rate_to_the_pool_is_moved_by_its_share_time_and_mines_on(rig, pool, capsys):
    mydu, bus = rig
    mydu.loop(150)
    text = capsys.readouterr().out
    feedback = re.findall(r"^SndRes took  \d+\n(.*)$", text, re.M)
    assert feedback.count(TOO_FAST) == 1  # the result's rate field was empty: timed by the pool
    after = feedback[feedback.index(TOO_FAST) + 1:]
    assert len(after) >= 3 and set(after) == {"GOOD"}
    assert d_letters(bus) == [b"D06", b"D%02d" % MEGA_DIFF]
    c = mydu.cons[0]
    assert c.diff == MEGA_DIFF and c.target.diff == MEGA_DIFF and not mydu.send_rate
    assert pool.stats.tier_moves == 1 and pool.stats.bad == 1
