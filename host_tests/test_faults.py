"""A rig that runs for weeks: each fault from the server, the bus and the operator gives one
line naming it, the other targets keep mining, the faulty one recovers by itself, and nothing
counted is lost. mydu's real loop runs on CPython: time is the fake clock (the loop's 100 ms
waits and the back-off advance it), the server is the emulator on loopback."""
from __future__ import annotations

import os
import re
import sys

import pytest

import machine
from conftest import fake_loop_waits, import_mydu
from minipro_sim import MiniPro, SimBus
from duclas import ACCEPTED, BLOCKS, FAULTS, LOST, RECONNECTS, REJECTED, REQUESTS, REQ_WAIT

NAME = "I2C %d AVR Miner (DUCO-S1A) v2.47"
KEY = "k3y-Secret"


class Rig:
    def __init__(self, mydu, bus: SimBus, emulator, capsys, keys_w: int) -> None:
        self.mydu = mydu
        self.bus = bus
        self.emulator = emulator
        self.capsys = capsys
        self.keys_w = keys_w

    def loop(self, rounds: int) -> str:
        self.mydu.loop(rounds)
        return self.capsys.readouterr().out

    def con(self, addr: int):
        return next(c for c in self.mydu.cons if c.target.addr == addr)

    def target(self, addr: int) -> MiniPro:
        return next(t for t in self.bus.targets if t.addr == addr)

    def good(self, text: str, addr: int) -> int:
        return len(re.findall(r"\*\*\* Targ  %d Sta  C\n.*\n.*\n(?:GOOD|BLOCK)\n" % addr, text))


@pytest.fixture(params=["block", "poll"])
def rig(request, tmp_path, monkeypatch, clock, emulator, capsys):
    """The rig of setup.txt, in the blocking loop and in the overlapped one (`mode poll`)."""

    def make(addrs=(20, 21, 22), on_bus=None, timeout=2):
        bus = SimBus([MiniPro(a, clock=clock) for a in (on_bus if on_bus is not None else addrs)])
        machine.bus = bus
        lines = ["rig Rig 42", "user targon", "key %s" % KEY, "pool 127.0.0.1 %d" % emulator.port,
                 "mode %s" % request.param]
        lines += ["%d %s" % (a, NAME % a) for a in addrs]
        (tmp_path / "setup.txt").write_text("\n".join(lines) + "\n")
        monkeypatch.chdir(tmp_path)
        r, w = os.pipe()  # stdin that select.poll understands, empty until a test types
        monkeypatch.setattr(sys, "stdin", os.fdopen(r, "r"))
        mydu = import_mydu()
        fake_loop_waits(monkeypatch, request.param, clock)
        mydu.start()
        for c in mydu.cons:
            c.timeout = timeout
        capsys.readouterr()
        return Rig(mydu, bus, emulator, capsys, w)

    yield make
    machine.bus = None


def test_healthy_rig_mines_on_every_target(rig):
    r = rig()
    text = r.loop(80)
    for addr in (20, 21, 22):
        assert r.good(text, addr) >= 2
    assert r.emulator.stats.bad == 0


# -- server side ---------------------------------------------------------------------------
def test_refused_connects_back_off_then_reconnect(rig):
    r = rig()
    r.emulator.restart()
    r.emulator.faults.refuse = 2  # the next two connects are reset at once
    text = r.loop(400)
    errors = re.findall(r"\*\*\* Targ  (\d+) (server error \w+|server closed|bad banner [^,]*), retry in (\d+) s", text)
    assert errors, text[-2000:]
    waits = [int(w) for _, _, w in errors]
    assert min(waits) >= 2  # never a tight loop
    for addr in (20, 21, 22):
        assert r.good(text, addr) >= 1
    assert r.emulator.stats.connects <= 3 + 3 + 2 + 3  # start, restart, refused, one spare


@pytest.mark.parametrize("switch, message", [
    ("bad_job_every", "no job: BAD,Too many workers"),
    ("garbage_every", "no job: \x7fgarbage"),
    ("half_line_every", "half line"),
])
def test_server_fault_instead_of_a_job(rig, switch, message):
    r = rig(addrs=(20, 21))
    setattr(r.emulator.faults, switch, 3)  # every third JOB request
    text = r.loop(300)
    assert message in text
    for addr in (20, 21):
        assert r.good(text, addr) >= 2
    assert r.emulator.stats.bad == 0  # nothing unchecked was ever sent


def test_bare_bad_instead_of_a_job(rig):
    r = rig(addrs=(20,))
    r.emulator.faults.bad_job_every = 2
    r.emulator.faults.bad_reason = ""
    text = r.loop(200)
    assert "no job: BAD," in text and r.good(text, 20) >= 2


def test_silence_after_job_times_out_and_reconnects(rig):
    r = rig(addrs=(20, 21), timeout=0.3)
    r.emulator.faults.silence_every = 4
    text = r.loop(200)
    assert re.search(r"\*\*\* Targ  2[01] server error [\w ]+, retry in 2 s", text)
    assert r.con(20).n[RECONNECTS] + r.con(21).n[RECONNECTS] >= 1
    for addr in (20, 21):
        assert r.good(text, addr) >= 2


@pytest.mark.parametrize("reason", ["BAD", "BAD,Incorrect result", "BAD,Too low starting difficulty",
                                    "BAD,Too high starting difficulty", "BAD,Too many workers",
                                    "BAD,Invalid data", "BAD,Modified hashrate", "BAD,Too low difficulty",
                                    "BAD,User banned", "BAD,Incorrect data", "BAD,No username specified"])
def test_every_rejection_is_counted_and_logged_with_its_reason(rig, reason):
    r = rig(addrs=(20,))
    r.emulator.faults.result_reply = reason
    text = r.loop(60)
    rejected = re.findall(r"^SndRes took  \d+\n(.*)$", text, re.M)
    assert rejected and set(rejected) == {reason}
    assert r.con(20).n[REJECTED] == len(rejected) and r.con(20).n[ACCEPTED] == 0


def test_block_is_accepted_and_counted(rig):
    r = rig(addrs=(20,))
    r.emulator.faults.block_every = 2
    text = r.loop(60)
    c = r.con(20)
    assert text.count("\nBLOCK\n") == c.n[BLOCKS] >= 1
    assert c.n[ACCEPTED] == c.n[BLOCKS] + text.count("\nGOOD\n")


def test_server_closing_between_jobs_reconnects_and_keeps_counters(rig):
    r = rig(addrs=(20, 21))
    r.emulator.faults.drop_after = 4  # JOB, result, JOB, result, then close
    text = r.loop(300)
    c = r.con(20)
    assert c.n[RECONNECTS] >= 1 and "server closed" in text
    assert c.n[ACCEPTED] == r.good(text, 20) and c.n[REQUESTS] >= c.n[ACCEPTED]


def test_server_restart_while_in_the_menu_reconnects_every_target_quietly(rig):
    r = rig()
    r.loop(30)
    before = {c.target.addr: c.n[ACCEPTED] for c in r.mydu.cons}
    r.emulator.restart()  # between two `l`: the rig sits in the menu
    text = r.loop(200)
    for c in r.mydu.cons:
        assert c.n[RECONNECTS] == 1
        assert c.n[ACCEPTED] > before[c.target.addr]  # counted shares survive the reconnect
    assert "retry in" not in text and "***" not in text.replace("*** Targ  ", "")  # no fault line


def test_result_lost_when_the_server_closes_is_logged_with_its_nonce(rig):
    r = rig(addrs=(20,))
    r.emulator.faults.close_on_result_every = 3
    text = r.loop(120)
    lost = re.findall(r"\*\*\* Targ  20 result (\d+) lost, server closed", text)
    assert lost and r.con(20).n[LOST] == len(lost)
    assert r.good(text, 20) >= 2


def test_slow_replies_time_out_and_the_rig_goes_on(rig, clock):
    r = rig(addrs=(20, 21), timeout=0.3)
    r.emulator.faults.slow_fraction = 0.2
    r.emulator.faults.slow_ms = 600  # past the timeout: those replies time out
    text = r.loop(600)
    assert "server error" in text
    for addr in (20, 21):
        assert r.good(text, addr) >= 2


# -- bus side --------------------------------------------------------------------------------
def test_unplugged_target_is_retried_and_the_others_mine(rig):
    r = rig()
    r.loop(10)
    gone = r.target(21)
    r.bus.targets.remove(gone)
    text = r.loop(100)
    assert "*** Targ  21 I2C error ENODEV, retry in 2 s" in text
    assert r.good(text, 20) >= 2 and r.good(text, 22) >= 2
    r.bus.targets.append(gone)  # plugged back in: reset, new job, mining again
    text = r.loop(300)
    assert r.good(text, 21) >= 1


def test_target_stuck_busy_is_reset_and_recovers(rig):
    r = rig(addrs=(20, 21))
    r.loop(5)
    r.target(20).hang = True
    text = r.loop(400)
    assert "*** Targ  20 busy too long, target reset" in text
    assert r.good(text, 21) >= 5
    r.target(20).hang = False
    text = r.loop(300)
    assert r.good(text, 20) >= 1


def test_wrong_nonce_is_never_submitted(rig):
    r = rig(addrs=(20, 21))
    r.target(20).wrong_nonce = True
    text = r.loop(100)
    assert re.search(r"\*\*\* Targ  20 wrong nonce \d+ from target, not submitted, retry in", text)
    assert r.emulator.stats.bad == 0 and r.con(20).n[ACCEPTED] == 0 and r.con(20).n[FAULTS] >= 1
    assert r.good(text, 21) >= 2


def test_non_digits_in_result_are_a_target_fault(rig):
    r = rig(addrs=(20, 21))
    r.target(20).garbage = True
    text = r.loop(100)
    assert "*** Targ  20 I2C error R answer not a number" in text
    assert r.good(text, 21) >= 2 and r.emulator.stats.bad == 0


def test_target_reset_in_the_middle_of_a_job_gets_the_job_again(rig):
    r = rig(addrs=(20,))
    r.loop(3)
    assert r.con(20).state == "K"
    r.target(20).power_cycle()
    text = r.loop(60)
    assert "*** Targ  20 lost its job (status I), job sent again" in text
    assert r.good(text, 20) >= 1 and r.con(20).n[FAULTS] == 1


def test_target_missing_at_start_joins_when_plugged_in(rig, clock):
    r = rig(addrs=(20, 23), on_bus=(20,))
    r.bus.targets.append(MiniPro(23, clock=clock))
    text = r.loop(200)
    assert r.good(text, 23) >= 1 and r.con(23).n[FAULTS] == 1


def test_stuck_bus_is_freed_with_scl_pulses(rig):
    r = rig(addrs=(20, 21))
    r.loop(5)
    r.bus.stuck = 6  # a target holds SDA low until six clocks
    text = r.loop(100)
    assert "*** I2C bus was stuck (SDA low), freed with SCL pulses" in text
    assert 6 <= r.bus.pulses <= 9 and r.mydu.bus.inits >= 1
    for addr in (20, 21):
        assert r.good(text, addr) >= 1


def test_memory_error_in_a_round_is_one_line(rig):
    r = rig(addrs=(20, 21))
    real = r.bus.readfrom
    calls = {"n": 0}

    def flaky(addr, n):
        calls["n"] += 1
        if calls["n"] == 7:
            raise MemoryError
        return real(addr, n)

    r.bus.readfrom = flaky
    text = r.loop(100)
    assert re.search(r"\*\*\* Targ  2[01] out of memory in its turn, retry in 2 s", text)
    assert r.good(text, 20) >= 1 and r.good(text, 21) >= 1


# -- operator side ------------------------------------------------------------------------------
def test_key_pressed_during_a_blocking_wait_ends_the_loop_after_that_exchange(rig):
    r = rig(addrs=(20,))
    r.loop(3)
    handle = r.emulator.handle

    typed = {"done": False}

    def typing_while_served(sock):
        # the key arrives while the device waits for the server
        if not typed["done"]:
            typed["done"] = True
            os.write(r.keys_w, b"z")
        handle(sock)

    r.emulator.restart()
    r.emulator.handle = typing_while_served
    text = r.loop(500)
    assert text.rstrip().endswith("Loop Done")
    assert len(re.findall(r"===Loop", text)) < 500


def test_counters_survive_dropping_another_connection(rig):
    r = rig()
    r.loop(60)
    c20 = r.con(20)
    snapshot = (c20.n[REQUESTS], c20.n[ACCEPTED], c20.n[REQ_WAIT], c20.target.busy)
    r.mydu.cons.remove(r.con(21))
    assert (c20.n[REQUESTS], c20.n[ACCEPTED], c20.n[REQ_WAIT], c20.target.busy) == snapshot


def test_the_mining_key_is_never_printed(rig, capsys, monkeypatch):
    r = rig()
    r.mydu.verbose = True
    text = r.loop(40)
    import rigstats

    for c in r.mydu.cons:
        rigstats.stats(c)
    import blockloop

    blockloop.serve(r.mydu.cons[0])
    text += capsys.readouterr().out
    assert KEY not in text and "job " in text
