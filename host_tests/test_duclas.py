"""duclas.Connection against the server emulator on loopback and a simulated Mini Pro:
one share end to end, and each way the server or the target can go wrong."""
from __future__ import annotations

import socket

import pytest

import machine
from duclas import ACCEPTED, FAULTS, LOST, REJECTED, REQUESTS, RESULTS, Connection, DucoError, check_nonce
from i2ct import Target
from conftest import request_job, submit
from recording_bus import RecordingBus

NAME = b"I2C 20 AVR Miner (DUCO-S1A) v2.47"


def connection(sim_bus, clock, port, minipro_cls, addr=20):
    sim_bus.targets.append(minipro_cls(addr, clock=clock))
    machine.bus = RecordingBus(sim_bus)
    return Connection(Target(machine.I2C(), addr), NAME, b"Rig 42", b"targon", b"None", ("127.0.0.1", port))


def job_hashed(c, clock):
    """Connect, fetch a job, give it to the target, let it hash: the nonce it found."""
    c.connect()
    request_job(c)
    c.send_job()
    return hash_share(c, clock)[0]


def hash_share(c, clock):
    while c.poll() != "C":
        clock.advance(0.05)
    return c.take_result()


def test_one_share_end_to_end_is_good_and_counted(sim_bus, clock, emulator, minipro_cls):
    c = connection(sim_bus, clock, emulator.port, minipro_cls)
    assert c.connect() == "3.0" and c.state == "C"
    assert c.ducoid == sim_bus.targets[0].ducoid.encode()
    request_job(c)
    assert c.state == "J" and c.diff == 6
    c.send_job()
    assert c.state == "K"
    nonce, ms = hash_share(c, clock)
    assert check_nonce(c.line[:40], c.line[41:81], nonce)
    took, feedback = submit(c, nonce, 160)
    assert feedback == "GOOD" and c.state == "C"
    assert (c.n[REQUESTS], c.n[RESULTS], c.n[ACCEPTED], c.n[REJECTED]) == (1, 1, 1, 0)
    assert emulator.stats.good == 1
    assert emulator.stats.ducoids == {c.ducoid.decode()}


def test_wrong_nonce_is_a_target_fault_and_never_submitted(sim_bus, clock, emulator, minipro_cls):
    c = connection(sim_bus, clock, emulator.port, minipro_cls)
    nonce = job_hashed(c, clock)
    with pytest.raises(DucoError, match="wrong nonce"):
        submit(c, nonce + 1, 160)
    assert c.n[FAULTS] == 1 and c.n[RESULTS] == 0
    assert emulator.stats.good + emulator.stats.bad == 0


def test_bad_instead_of_a_job_keeps_the_connection(sim_bus, clock, emulator, minipro_cls):
    emulator.faults.bad_job_every = 1
    c = connection(sim_bus, clock, emulator.port, minipro_cls)
    c.connect()
    with pytest.raises(DucoError, match="no job: BAD,Too many workers"):
        request_job(c)
    assert c.state == "C" and c.sock is not None


def test_garbage_instead_of_a_job_is_not_sent_to_the_target(sim_bus, clock, emulator, minipro_cls):
    emulator.faults.garbage_every = 1
    c = connection(sim_bus, clock, emulator.port, minipro_cls)
    c.connect()
    with pytest.raises(DucoError, match="no job"):
        request_job(c)
    with pytest.raises(DucoError):
        request_job(c)
    assert not [w for w in c.target.i2c.bus.queued() if w[:1] in b"LMNO"]


def test_half_line_then_close_disconnects(sim_bus, clock, emulator, minipro_cls):
    emulator.faults.half_line_every = 1
    c = connection(sim_bus, clock, emulator.port, minipro_cls)
    c.connect()
    with pytest.raises(DucoError, match="half line"):
        request_job(c)
    assert c.state == "D" and c.sock is None


def test_refused_connect_names_the_error(sim_bus, clock, minipro_cls):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there now
    c = connection(sim_bus, clock, port, minipro_cls)
    with pytest.raises(DucoError, match="server error ECONNREFUSED"):
        c.connect()
    assert c.state == "D"


def test_silence_after_job_times_out(sim_bus, clock, emulator, minipro_cls):
    emulator.faults.silence_every = 1
    c = connection(sim_bus, clock, emulator.port, minipro_cls)
    c.timeout = 0.2
    c.connect()
    with pytest.raises(DucoError, match="server error"):
        request_job(c)
    assert c.state == "D"


def test_bad_banner(sim_bus, clock, minipro_cls):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    c = connection(sim_bus, clock, srv.getsockname()[1], minipro_cls)
    c.timeout = 2

    import threading

    def serve_garbage():
        conn, _ = srv.accept()
        conn.sendall(b"HELO\n")
        conn.close()

    threading.Thread(target=serve_garbage, daemon=True).start()
    with pytest.raises(DucoError, match="bad banner"):
        c.connect()
    srv.close()


def test_absent_target_is_an_i2c_error_before_any_socket(sim_bus, clock, emulator, minipro_cls):
    c = connection(sim_bus, clock, emulator.port, minipro_cls)
    c.target.addr = 23
    with pytest.raises(DucoError, match="I2C error ENODEV"):
        c.connect()
    assert emulator.stats.connects == 0 and c.n[FAULTS] == 1


def test_rejected_share_is_counted(sim_bus, clock, emulator, minipro_cls):
    emulator.faults.result_reply = "BAD,Incorrect result"
    c = connection(sim_bus, clock, emulator.port, minipro_cls)
    took, feedback = submit(c, job_hashed(c, clock), 0)
    assert feedback == "BAD,Incorrect result"
    assert (c.n[ACCEPTED], c.n[REJECTED]) == (0, 1)


def test_difficulty_above_99_is_not_sent_to_the_target(sim_bus, clock, emulator, minipro_cls):
    emulator.diff = 120
    c = connection(sim_bus, clock, emulator.port, minipro_cls)
    c.connect()
    request_job(c)
    with pytest.raises(DucoError, match="difficulty 120"):
        c.send_job()
    assert not [w for w in c.target.i2c.bus.queued() if w[:1] in b"LMNO"]


def test_lost_result_is_reported_with_its_nonce(sim_bus, clock, emulator, minipro_cls):
    c = connection(sim_bus, clock, emulator.port, minipro_cls)
    nonce = job_hashed(c, clock)
    c.sock.close()
    c.sock = socket.socket()  # a dead socket: the send fails
    with pytest.raises(DucoError, match="result %d lost" % nonce):
        submit(c, nonce, 0)
    assert c.n[LOST] == 1 and c.state == "D"
