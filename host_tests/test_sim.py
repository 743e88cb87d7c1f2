"""`make sim` as an operator meets it: a KEYS run without a final x, Ctrl-C at the terminal and as
a signal, values it cannot use, the operator's own setup file, and no folder left behind."""
from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from conftest import ROOT

SIM = [sys.executable, str(ROOT / "tools" / "sim.py")]
SUMMARY = re.compile(r"^sim: emulator checked (\d+) shares: (\d+) GOOD, 0 BLOCK, 0 BAD$", re.M)
SHARE = re.compile(r"\*\*\* Targ  (\d+) Sta  C\n[^\n]*\n[^\n]*\n(GOOD|BAD[^\n]*)\n")
FAST = "RATE=4000"  # a share every few rounds, so short runs see some


def env_with_tmpdir(tmp_path: Path) -> dict[str, str]:
    """The simulator's folder goes under tmp_path, where a test can see what is left."""
    return dict(os.environ, TMPDIR=str(tmp_path))


def sim_folders(tmp_path: Path) -> list[Path]:
    return list(tmp_path.glob("duco-sim-*"))


def make(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def own_error_lines(stderr: str) -> list[str]:
    """stderr without make's own `make: *** ...` lines."""
    return [line for line in stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", line)]


class Terminal:
    """A command on a pty, as an operator's terminal runs it; reads what it prints."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        self.master, self.slave = pty.openpty()
        self.modes = termios.tcgetattr(self.slave)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=self.slave, stdout=self.slave,
                                     stderr=self.slave, start_new_session=True)
        self.out = ""

    def _read(self, wait: float) -> bool:
        """What arrived within `wait` seconds; False when nothing did."""
        if not select.select([self.master], [], [], wait)[0]:
            return False
        try:
            chunk = os.read(self.master, 4096)
        except OSError:
            return False
        self.out += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        return bool(chunk)

    def read_until(self, text: str, timeout: float = 30, count: int = 1) -> bool:
        deadline = time.monotonic() + timeout
        while self.out.count(text) < count:
            if time.monotonic() > deadline:
                return False
            self._read(0.2)
        return True

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def finish(self, timeout: float = 40) -> int:
        """Everything it prints until it exits; its exit status."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        while self._read(0.2):
            pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.wait()

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def terminal(tmp_path):
    """Start `make sim RATE=4000` on a pty, as an operator would in a terminal."""
    terminals = []

    def start(*args: str) -> Terminal:
        terminals.append(Terminal(["make", "--no-print-directory", "sim", *args], env_with_tmpdir(tmp_path)))
        return terminals[-1]

    yield start
    for term in terminals:
        if term.proc.poll() is None:
            os.killpg(term.proc.pid, signal.SIGKILL)
            term.proc.wait()
        term.close()


def test_keys_without_a_final_x_end_the_run_as_x_would(tmp_path):
    # without the ending the device would wait at H> until --timeout and print "timed out"
    r = subprocess.run(SIM + ["--keys", "s 3l", "--rate", "4000", "--webrepl", "0", "--timeout", "20"],
                       env=env_with_tmpdir(tmp_path), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=60)

    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert "timed out" not in r.stdout
    assert "Loop Done\nH> x\n" in r.stdout
    assert re.findall(r"^closed$", r.stdout, re.M) == ["closed"] * 3
    assert SUMMARY.search(r.stdout), r.stdout[-1000:]
    assert sim_folders(tmp_path) == []


def looping(terminal):
    """A sim at a terminal, started with `s` and looping (`l`) for a while."""
    term = terminal(FAST)
    assert term.read_until("H> "), term.out
    term.type(b"s")
    assert term.read_until("H> ", count=2), term.out
    term.type(b"l")
    assert term.read_until("===Loop  99990"), term.out[-2000:]
    return term


def test_ctrl_c_at_the_terminal_ends_the_loop_and_the_run_with_the_summary(tmp_path, terminal):
    term = looping(terminal)

    term.type(b"\x03")  # Ctrl-C, as the terminal sends it with ISIG off

    rc = term.finish()
    out = term.out
    assert rc == 0, out[-2000:]
    assert "Traceback" not in out and "KeyboardInterrupt" not in out and "make: ***" not in out
    assert "Loop Done\n" in out
    assert re.findall(r"^closed$", out, re.M) == ["closed"] * 3
    assert SUMMARY.search(out), out[-1000:]
    assert termios.tcgetattr(term.slave) == term.modes  # the terminal as it was
    assert sim_folders(tmp_path) == []


def test_ctrl_c_twice_stops_the_device_at_once(tmp_path, terminal):
    term = looping(terminal)

    term.type(b"\x03\x03")

    term.finish()
    out = term.out
    assert "sim: stopped by Ctrl-C" in out
    assert "Traceback" not in out and "KeyboardInterrupt" not in out
    assert SUMMARY.search(out), out[-1000:]
    assert sim_folders(tmp_path) == []


def test_sigint_to_the_whole_make_ends_a_keys_run_cleanly(tmp_path):
    """What a terminal's Ctrl-C does when the simulator's input is not that terminal: SIGINT to
    make, sim.py and all in the foreground process group."""
    proc = subprocess.Popen(["make", "--no-print-directory", "sim", "KEYS=s l", FAST], cwd=ROOT,
                            env=env_with_tmpdir(tmp_path), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    out = b""
    deadline = time.monotonic() + 30
    while b"===Loop  99990" not in out and time.monotonic() < deadline:
        if select.select([proc.stdout], [], [], 1)[0]:
            out += os.read(proc.stdout.fileno(), 4096)
    assert b"===Loop  99990" in out, out[-2000:]

    os.killpg(proc.pid, signal.SIGINT)

    rest, err = proc.communicate(timeout=40)
    text = (out + rest).decode()
    assert "Traceback" not in text + err.decode() and "KeyboardInterrupt" not in text
    assert own_error_lines(err.decode()) == []
    assert "Loop Done\n" in text
    assert re.findall(r"^closed$", text, re.M) == ["closed"] * 3
    assert SUMMARY.search(text), text[-1000:]
    assert sim_folders(tmp_path) == []


@pytest.mark.parametrize("value, message", [
    ("POOL=host", 'sim: POOL "host" is not HOST:PORT'),
    ("POOL=host:http", 'sim: POOL "host:http" is not HOST:PORT'),
    ("TARGETS=20,21", 'sim: TARGETS "20,21" is not I2C addresses 1..127 separated by spaces'),
    ("TARGETS=", "sim: TARGETS is empty"),
    ("TARGETS=20 200", 'sim: TARGETS "20 200" is not I2C addresses 1..127'),
    ("TARGETS=20 20", 'sim: TARGETS "20 20" names address 20 twice'),
    ("LATENCY=fast", 'sim: LATENCY "fast" is not a whole number of ms'),
    ("LATENCY=", 'sim: LATENCY "" is not a whole number of ms'),
    ("JITTER=-5", 'sim: JITTER "-5" is not a whole number of ms'),
    ("RATE=1 2", 'sim: RATE "1 2" is not a hash rate in H/s'),
    ("HEAP=lots", 'sim: HEAP "lots" is not a whole number of bytes'),
    ("MODE=fast", 'sim: MODE "fast" is block or poll'),
    ("TARGETS_IMPL=c", 'sim: TARGETS_IMPL "c" is python or firmware'),
    ("SETUP=/nonexistent/my-setup.txt", "sim: SETUP /nonexistent/my-setup.txt does not exist"),
])
def test_a_value_sim_cannot_use_is_one_line_naming_it(tmp_path, value, message):
    r = make("sim", value, env=env_with_tmpdir(tmp_path))

    assert r.returncode != 0
    errors = own_error_lines(r.stderr)
    assert len(errors) == 1 and errors[0].startswith(message), r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert sim_folders(tmp_path) == []


def operator_setup(path: Path, pool_line: bool = True) -> Path:
    """An operator's own setup file: two targets that are not the simulator's default, secrets."""
    lines = ["# my rig", "rig   Attic Rig", "user  attic", "key   M1ningK3y", "wifi  Home Net 2G W1fiPassw0rd",
             "pool  51.15.127.80 2811" if pool_line else "# no pool line: the pool picker", "mode  poll",
             "21 I2C 21 AVR Miner (DUCO-S1A) v2.47", "23 I2C 23 AVR Miner (DUCO-S1A) v2.47"]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("pool_line", [True, False])
def test_sim_runs_the_operators_own_setup_file(tmp_path, pool_line):
    setup = operator_setup(tmp_path / "my-setup.txt", pool_line)

    r = make("sim", "SETUP=" + str(setup), "KEYS=s 40l", FAST, env=env_with_tmpdir(tmp_path), timeout=120)

    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert re.search(r"^sim: .*Mini Pros 21 23 at .*setup from %s$" % re.escape(str(setup)), r.stdout, re.M)
    shares = SHARE.findall(r.stdout)
    assert {addr for addr, _ in shares} == {"21", "23"}, r.stdout[-3000:]
    assert {feedback for _, feedback in shares} == {"GOOD"}
    assert SUMMARY.search(r.stdout).group(2) == str(len(shares))
    assert "M1ningK3y" not in r.stdout + r.stderr and "W1fiPassw0rd" not in r.stdout + r.stderr
    assert sim_folders(tmp_path) == []


def test_sim_with_setup_and_pool_mines_on_that_pool(tmp_path, emulator):
    setup = operator_setup(tmp_path / "my-setup.txt")

    r = make("sim", "SETUP=" + str(setup), "POOL=127.0.0.1:%d" % emulator.port, "KEYS=s 20l", FAST,
             env=env_with_tmpdir(tmp_path), timeout=120)

    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert "pool 127.0.0.1:%d" % emulator.port in r.stdout
    assert emulator.stats.good == len(SHARE.findall(r.stdout)) > 0


def test_a_setup_file_the_rig_rejects_is_one_line_with_its_line_number(tmp_path):
    setup = tmp_path / "my-setup.txt"
    setup.write_text("rig R\nusr targon\n20 I2C 20 AVR Miner (DUCO-S1A) v2.47\n")

    r = make("sim", "SETUP=" + str(setup), env=env_with_tmpdir(tmp_path))

    assert r.returncode != 0
    assert own_error_lines(r.stderr) == ["sim: %s line 2: unknown setting usr" % setup]
    assert sim_folders(tmp_path) == []
