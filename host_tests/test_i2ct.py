"""i2ct.Target against simulated Mini Pros through the fake machine.I2C: the exact bytes of
the letter protocol, status polling with the busy count, chunking, and bus errors."""
from __future__ import annotations

import errno

import pytest

import machine
from i2ct import Target
from recording_bus import RecordingBus

VECTOR = (b"08cc80c947162d4b58c1ebe18a76699ae4bd4fe6", b"1ad343a3a8050df4d7f7c1800ee746391a89abb2", 6)
SELF_TEST = (b"ba29a15896fd2d792d5c4b60668bf2b9feebc51d", b"d0beba883d7e8cd119ea2b0e09b78f60f29e0968", 10)


def target_at(sim_bus, clock, minipro_cls, addr=20):
    sim_bus.targets.append(minipro_cls(addr, clock=clock))
    rec = RecordingBus(sim_bus)
    machine.bus = rec
    return Target(machine.I2C(scl=machine.Pin(5), sda=machine.Pin(4)), addr), rec


def run_to_result(t, clock):
    while t.status()[0] != ord("C"):
        clock.advance(0.05)
    return t.number("R"), t.number("E")


def test_job_bytes_on_the_bus_are_the_spec_test_vector(sim_bus, clock, minipro_cls):
    t, rec = target_at(sim_bus, clock, minipro_cls)
    t.send_job(*VECTOR)
    queued = rec.queued()
    assert queued == [b"D06", b"L08cc80c947162d4b58c1", b"Mebe18a76699ae4bd4fe6",
                      b"N1ad343a3a8050df4d7f7", b"Oc1800ee746391a89abb2"]
    nonce, ms = run_to_result(t, clock)
    assert nonce == 38
    assert ms == round(1000 * 39 / 160)


def test_difficulty_is_sent_only_when_it_changes(sim_bus, clock, minipro_cls):
    t, rec = target_at(sim_bus, clock, minipro_cls)
    t.send_job(*VECTOR)
    run_to_result(t, clock)
    rec.writes.clear()
    t.send_job(*VECTOR)
    assert [w[:1] for w in rec.writes if w != b"S"] == [b"L", b"M", b"N", b"O"]


def test_self_test_job_finds_nonce_50(sim_bus, clock, minipro_cls):
    t, _ = target_at(sim_bus, clock, minipro_cls)
    t.send_job(*SELF_TEST)
    assert run_to_result(t, clock)[0] == 50


def test_small_target_gets_six_chunks_of_14_14_12(sim_bus, clock, minipro_cls):
    t, rec = target_at(sim_bus, clock, minipro_cls, addr=55)
    t.send_job(*VECTOR)
    queued = rec.queued()
    assert queued[1:4] == [b"L08cc80c947162d", b"M4b58c1ebe18a76", b"N699ae4bd4fe6"]
    assert [w[:1] for w in queued[4:]] == [b"O", b"P", b"Q"]
    assert run_to_result(t, clock)[0] == 38


def test_status_polling_counts_busy_and_gives_up_after_ten_polls(sim_bus, clock, minipro_cls):
    t, rec = target_at(sim_bus, clock, minipro_cls)
    t.send_job(*VECTOR)  # the target now hashes for about 240 ms
    before = t.busy
    with pytest.raises(OSError) as e:
        t.send("A")  # 10 polls, 1 ms apart: still hashing
    assert e.value.args[0] == errno.ETIMEDOUT
    assert t.busy - before == 10


def test_reset_brings_back_the_version_letter(sim_bus, clock, minipro_cls):
    t, _ = target_at(sim_bus, clock, minipro_cls)
    t.send("D", b"06")
    clock.advance(0.01)
    assert bytes(t.status()) == b"I? "
    t.send("A")
    clock.advance(0.01)
    assert bytes(t.status()) == b"Ic "


def test_ducoid_is_read_after_its_delay(sim_bus, clock, minipro_cls):
    t, _ = target_at(sim_bus, clock, minipro_cls)
    ducoid = t.ducoid()
    assert ducoid.startswith(b"DUCOID") and len(ducoid) == 22
    assert ducoid == sim_bus.targets[0].ducoid.encode()


def test_garbage_in_result_is_a_value_error(sim_bus, clock, minipro_cls):
    t, _ = target_at(sim_bus, clock, minipro_cls)
    sim_bus.targets[0].result = 0
    assert t.number("R") == 0
    t.i2c.readfrom_into = lambda addr, buf: buf.__setitem__(slice(None), b"\xff" * len(buf))
    with pytest.raises(ValueError):
        t.number("R")


def test_absent_target_raises_enodev(sim_bus, clock, minipro_cls):
    t, _ = target_at(sim_bus, clock, minipro_cls)
    lonely = Target(t.i2c, 23)
    with pytest.raises(OSError) as e:
        lonely.status()
    assert e.value.args[0] == errno.ENODEV


def test_new_address_moves_the_target(sim_bus, clock, minipro_cls):
    t, _ = target_at(sim_bus, clock, minipro_cls)
    t.send("V", b"30")
    clock.advance(0.01)
    assert t.i2c.scan() == [30]
    assert Target(t.i2c, 30).status()[:1] == b"I"
