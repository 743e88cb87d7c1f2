"""`make sim`: the whole rig with no hardware.

Starts the server emulator on a free loopback port (unless --pool names a server), the simulated
Mini Pros behind a loopback bus, writes a setup.txt for them into a fresh folder (or copies the
operator's own, --setup, with its pool line pointed at the emulator), and runs `import mydu` on
the rigs' interpreter: MicroPython v1.15 built as the ESP8266 port, loading the .mpy files
`make deploy` copies, in the ESP8266's heap (tools/micropython_runner.py).

The device runs on a pty in non-canonical mode, so a key arrives without Enter, as on the ESP's
UART. Without --keys the operator types at the H> prompt. With --keys "s 5l i" each word is
typed at the next H> prompt, so a loop runs its rounds to the end; after the last word the run
ends as `x` would. Ctrl-C (or the end of a piped input) ends the run the same way: `x` at the
next prompt, a key first if a loop is running; a second Ctrl-C stops the device at once. The
emulator's summary is printed either way, and the folder is removed.
"""
from __future__ import annotations

import argparse
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time
import tty
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

import bus_server
import micropython_runner as runner
from duco_server import Emulator, Faults
from minipro_sim import DEFAULT_HASH_RATE, MiniPro, SimBus

ROOT = runner.ROOT
NAME = "I2C %d AVR Miner (DUCO-S1A) v2.47"
# Our sketch's core on a 16 MHz ATmega328P, by simavr's cycle count (`make firmware-hashrate`):
# 11,239 cycles a hash on the difficulty 6 job. The Python model keeps the 160 H/s of the ported
# rigs' Mini Pros.
FIRMWARE_HASH_RATE = 1423.0
END_KEY = b"x"  # mydu's exit key; in a loop it is "any key" first
CTRL_C = b"\x03"
STOPPED = 130  # a run stopped (a second Ctrl-C, a timeout): 128 + SIGINT, as shells report it
END_GRACE_S = 15.0  # after a Ctrl-C: a blocking round may wait out a few server replies
END_KEY_EVERY_S = 2.0  # and `x` again: a loop that was just starting may have let the first one go
TCP_PORTS = range(1, 65536)
I2C_ADDRESSES = range(1, 128)


class SimError(Exception):
    """A value the simulator cannot run with, as the one line the operator sees."""


# ---- the operator's values, checked ----

@dataclass
class Settings:
    keys: list[str]
    pool: tuple[str, int] | None  # None: the emulator
    targets: list[int]
    latency: int
    jitter: int
    rate: float | None
    heap: int
    impl: str
    mode: str
    setup: Path | None
    timeout: float


def parse_pool(text: str) -> tuple[str, int] | None:
    """POOL=HOST:PORT; empty: None, the emulator."""
    if not text.strip():
        return None
    host, _, port = text.strip().rpartition(":")
    if not host or not port.isdigit() or int(port) not in TCP_PORTS:
        raise SimError('POOL "%s" is not HOST:PORT (e.g. POOL=51.15.127.80:2811)' % text)
    return host, int(port)


def parse_targets(text: str) -> list[int]:
    """TARGETS="20 21 22": distinct I2C addresses separated by spaces."""
    words = text.split()
    if not words:
        raise SimError('TARGETS is empty: name at least one simulated Mini Pro (e.g. TARGETS="20 21 22")')
    if not all(w.isdigit() and int(w) in I2C_ADDRESSES for w in words):
        raise SimError('TARGETS "%s" is not I2C addresses 1..127 separated by spaces (e.g. TARGETS="20 21 22")'
                       % text)
    addrs = [int(w) for w in words]
    for a in addrs:
        if addrs.count(a) > 1:
            raise SimError('TARGETS "%s" names address %d twice' % (text, a))
    return addrs


def parse_whole(name: str, text: str, unit: str, least: int = 0) -> int:
    if not text.strip().isdigit() or int(text) < least:
        raise SimError('%s "%s" is not a whole number of %s%s' % (
            name, text, unit, " from %d on" % least if least else ""))
    return int(text)


def parse_rate(text: str) -> float | None:
    """RATE in H/s; empty: the simulated Mini Pro's own."""
    if not text.strip():
        return None
    try:
        rate = float(text)
    except ValueError:
        rate = 0.0
    if not 0 < rate < float("inf"):
        raise SimError('RATE "%s" is not a hash rate in H/s (e.g. RATE=160)' % text)
    return rate


def parse_choice(name: str, text: str, choices: tuple[str, ...]) -> str:
    if text not in choices:
        raise SimError('%s "%s" is %s' % (name, text, " or ".join(choices)))
    return text


def settings_from(args: argparse.Namespace) -> Settings:
    setup = Path(args.setup) if args.setup.strip() else None
    if setup is not None and not setup.is_file():
        raise SimError("SETUP %s does not exist" % setup)
    try:
        timeout = float(args.timeout)
    except ValueError:
        timeout = 0.0
    if not timeout > 0:
        raise SimError('--timeout "%s" is not a number of seconds' % args.timeout)
    return Settings(
        keys=args.keys.split(), pool=parse_pool(args.pool),
        # with SETUP the Mini Pros are the file's targets: TARGETS (always passed by make) is not used
        targets=parse_targets(args.targets) if setup is None else [],
        latency=parse_whole("LATENCY", args.latency, "ms"), jitter=parse_whole("JITTER", args.jitter, "ms"),
        rate=parse_rate(args.rate), heap=parse_whole("HEAP", args.heap, "bytes", least=8192),
        impl=parse_choice("TARGETS_IMPL", args.impl, ("python", "firmware")),
        mode=parse_choice("MODE", args.mode, ("block", "poll")), setup=setup, timeout=timeout)


# ---- the folder the device runs in ----

def write_setup(folder: Path, pool: tuple[str, int], targets: list[int], extra: str = "") -> Path:
    """A setup.txt for simulated Mini Pros; `extra` adds lines (e.g. "mode poll")."""
    lines = ["# written by tools/sim.py for simulated Mini Pros",
             "rig   Sim Rig", "user  simuser", "key   None", "wifi  SimNet simpassword",
             "pool  %s %d" % pool, "i2c   5 4 100000", extra]
    lines += ["%d %s" % (a, NAME % a) for a in targets]
    path = folder / "setup.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def operator_targets(setup: Path) -> list[int]:
    """The target addresses of the operator's setup file, read by the device's own parser."""
    import deploy  # one place loads setupfile.py on CPython and words its refusals

    try:
        cfg = deploy.parse_setup(setup)
    except deploy.DeployError as e:
        raise SimError(str(e).removeprefix("deploy: ")) from None
    return [addr for addr, _ in cfg["targets"]]


def write_operator_setup(folder: Path, setup: Path, pool: tuple[str, int]) -> Path:
    """The operator's setup file with its pool line (or a new last line) naming `pool`. Every
    other line stays as it is, so the device's line numbers are the file's; the copy holds the
    operator's WiFi password and key, and goes with the folder."""
    lines = setup.read_bytes().decode("ascii", "replace").splitlines()
    pool_line = "pool  %s %d  # set by make sim" % pool
    pool_lines = [i for i, line in enumerate(lines) if line.split("#")[0].split()[:1] == ["pool"]]
    for i in pool_lines:
        lines[i] = pool_line
    if not pool_lines:
        lines.append(pool_line)
    path = folder / "setup.txt"
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n")
    return path


def device_env(bus_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env["MICROPYPATH"] = runner.device_path()
    env["DUCO_BUS"] = str(bus_port)
    return env


# ---- the device on a pty ----

class CtrlC:
    """Ctrl-C presses, from SIGINT or from the keyboard's byte 3 (the terminal's ISIG is off)."""

    def __init__(self) -> None:
        self.presses = 0

    def press(self, *_: object) -> None:
        self.presses += 1


def quiet_pty() -> tuple[int, int]:
    """A pty in cbreak mode without echo: the ESP's UART does not echo; mydu echoes what it reads."""
    master, slave = pty.openpty()
    tty.setcbreak(slave)
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    return master, slave


class Session:
    """micropython on a pty: its output to `out`, words typed at each prompt, the operator's
    keyboard (if any) passed through, and the ending of the run (by keys, Ctrl-C or timeout)."""

    def __init__(self, cmd: list[str], cwd: Path, env: dict[str, str], out: TextIO, prompt: str,
                 keys: list[str], end_after_keys: bool, keyboard: int | None = None,
                 ctrl_c: CtrlC | None = None, timeout: float | None = None) -> None:
        self.out = out
        self.prompt = prompt
        self.pending = list(keys)
        self.end_after_keys = end_after_keys
        self.keyboard = keyboard
        self.ctrl_c = ctrl_c or CtrlC()
        self.handled = 0  # Ctrl-C presses acted on
        self.deadline = time.monotonic() + timeout if timeout else None
        self.timeout = timeout
        self.end_by: float | None = None  # set once the run is ending
        self.end_key_at = 0.0  # when to type `x` again while ending
        self.stopped = False  # killed: by a second Ctrl-C or a timeout
        self.seen = ""
        self.master, slave = quiet_pty()
        # its own session: a SIGINT meant for the simulator never reaches the device
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave,
                                     close_fds=True, start_new_session=True)
        os.close(slave)

    def say(self, line: str) -> None:
        self.out.write("\nsim: %s\n" % line)
        self.out.flush()

    def type(self, data: bytes) -> None:
        try:
            os.write(self.master, data)
        except OSError:
            pass  # the device has just exited

    def begin_end(self, why: str) -> None:
        """`x` now (it ends a running loop, or leaves the menu) and at every prompt from now on."""
        if self.end_by is None:
            self.say("%s: ending the run" % why)
            self.end_by = time.monotonic() + END_GRACE_S
            self.pending.clear()
            self.type_end_key()

    def type_end_key(self) -> None:
        self.type(END_KEY)
        self.end_key_at = time.monotonic() + END_KEY_EVERY_S

    def stop(self, why: str) -> None:
        self.proc.kill()
        self.stopped = True
        self.say(why)

    def on_ctrl_c(self) -> bool:
        """Act on new presses; True when the device was stopped."""
        new = self.ctrl_c.presses - self.handled
        self.handled = self.ctrl_c.presses
        if new and self.end_by is None:
            self.begin_end("Ctrl-C (again: stop at once)")
            new -= 1
        if not new:
            return False
        self.stop("stopped by Ctrl-C")
        return True

    def from_keyboard(self) -> None:
        assert self.keyboard is not None
        data = os.read(self.keyboard, 1024)
        if not data:  # the end of a piped input
            self.keyboard = None
            self.begin_end("end of input")
            return
        before, _, _ = data.partition(CTRL_C)
        if before:
            self.type(before)
        for _ in range(data.count(CTRL_C)):  # what follows a Ctrl-C is not typed: the run ends
            self.ctrl_c.press()

    def from_device(self) -> bool:
        """Pass the device's output on and answer its prompts; False once it has exited."""
        try:
            chunk = os.read(self.master, 4096).decode("utf-8", "replace").replace("\r\n", "\n")
        except OSError:  # the device side closed: micropython has exited
            return False
        if not chunk:
            return False
        self.out.write(chunk)
        self.out.flush()
        self.seen += chunk
        if self.seen.endswith(self.prompt):
            if self.pending:
                self.type(self.pending.pop(0).encode())
            elif self.end_by is not None or self.end_after_keys:
                self.type_end_key()
            self.seen = ""
        self.seen = self.seen[-16:]
        return True

    def drain(self) -> None:
        """What the device printed before it exited."""
        while select.select([self.master], [], [], 0.05)[0] and self.from_device():
            pass

    def overdue(self) -> bool:
        now = time.monotonic()
        if self.deadline is not None and now > self.deadline:
            self.stop("timed out after %d s" % self.timeout)
            return True
        if self.end_by is not None and now > self.end_by:
            self.stop("the device did not end within %d s: stopped" % END_GRACE_S)
            return True
        if self.end_by is not None and now > self.end_key_at:
            self.type_end_key()
        return False

    def run(self) -> tuple[int, str]:
        try:
            while not self.on_ctrl_c() and not self.overdue():
                watched = [self.master] + ([self.keyboard] if self.keyboard is not None else [])
                ready, _, _ = select.select(watched, [], [], 0.2)
                if self.keyboard is not None and self.keyboard in ready:
                    self.from_keyboard()
                if self.master in ready:
                    if not self.from_device():
                        break
                elif self.proc.poll() is not None:  # it may have exited just now, after a key
                    self.drain()
                    break
        finally:
            os.close(self.master)
        rc = self.proc.wait()
        return (STOPPED if self.stopped else rc), self.seen


def run_keys(cmd: list[str], cwd: Path, env: dict[str, str], keys: list[str], timeout: float,
             out: TextIO = sys.stdout, prompt: str = "H> ") -> tuple[int, str]:
    """Run the device on a pty in cbreak mode, typing one word of keys at each prompt, then `x`."""
    return Session(cmd, cwd, env, out, prompt, keys, end_after_keys=True, timeout=timeout).run()


class KeyboardAsIs:
    """The operator's terminal for the run: cbreak, no echo (the device echoes), and no ISIG, so
    Ctrl-C arrives as a byte and the run can end cleanly. Restored afterwards."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.saved: list | None = None

    def __enter__(self) -> "KeyboardAsIs":
        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        attrs = termios.tcgetattr(self.fd)
        attrs[3] &= ~(termios.ECHO | termios.ISIG)
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        return self

    def __exit__(self, *_: object) -> None:
        termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)


def run_device(cmd: list[str], folder: Path, env: dict[str, str], keys: list[str], timeout: float,
               ctrl_c: CtrlC) -> int:
    """With keys: typed, then `x`; the keyboard (a terminal only) still passes keys and Ctrl-C.
    Without: the operator types, from a terminal or a pipe (whose end ends the run)."""
    stdin = sys.stdin.fileno()
    is_tty = os.isatty(stdin)
    keyboard = stdin if is_tty or not keys else None

    def session() -> int:
        return Session(cmd, folder, env, sys.stdout, "H> ", keys, end_after_keys=bool(keys),
                       keyboard=keyboard, ctrl_c=ctrl_c, timeout=timeout if keys else None).run()[0]

    # while the device runs a SIGINT (from `kill -INT`, or a terminal that still sends one) is
    # counted as a Ctrl-C press, never a traceback
    previous = signal.signal(signal.SIGINT, ctrl_c.press)
    try:
        if is_tty:
            with KeyboardAsIs(stdin):
                return session()
        return session()
    finally:
        signal.signal(signal.SIGINT, previous)


def make_targets(addrs: list[int], rate: float | None, impl: str) -> list:
    if impl == "firmware":
        rate = rate or FIRMWARE_HASH_RATE
        from firmware_minipro import FirmwareMiniPro
        return [FirmwareMiniPro(a, hash_rate=rate) for a in addrs]
    return [MiniPro(a, hash_rate=rate or DEFAULT_HASH_RATE) for a in addrs]


# ---- the whole run ----

class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print("sim: %s" % message, file=sys.stderr)
        sys.exit(2)


def arguments() -> argparse.ArgumentParser:
    ap = OneLineParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", default="", help='words typed at successive H> prompts, then x, e.g. "s 5l i"')
    ap.add_argument("--pool", default="", help="HOST:PORT of a server to use instead of the emulator")
    ap.add_argument("--targets", default="20 21 22", help="I2C addresses of the simulated Mini Pros")
    ap.add_argument("--setup", default="", help="the operator's own setup.txt: its targets, its pool "
                    "line pointed at the emulator unless --pool")
    ap.add_argument("--latency", default="0", help="emulator: ms added to every reply")
    ap.add_argument("--jitter", default="0", help="emulator: plus up to this many ms")
    ap.add_argument("--rate", default="",
                    help="Mini Pro H/s (default %g, firmware core %g)" % (DEFAULT_HASH_RATE, FIRMWARE_HASH_RATE))
    ap.add_argument("--impl", default="python", help="simulated Mini Pro: python (the model) or firmware "
                    "(the sketch's own core)")
    ap.add_argument("--heap", default=str(runner.ESP8266_HEAP), help="micropython -X heapsize")
    ap.add_argument("--mode", default="block", help="setup.txt mode: block (the faithful loop) or poll")
    ap.add_argument("--timeout", default="600", help="seconds before a --keys run is stopped")
    ap.add_argument("--webrepl", type=int, default=8266,
                    help="WebREPL on 127.0.0.1:PORT (another free one if taken; 0: none), see docs/fleet.md")
    return ap


def quiet(*_: object) -> None:
    pass


def summary(emulator: Emulator | None) -> None:
    if emulator:
        s = emulator.stats
        print("sim: emulator checked %d shares: %d GOOD, %d BLOCK, %d BAD" % (
            s.good + s.bad, s.good - s.blocks, s.blocks, s.bad), flush=True)


def simulate(args: argparse.Namespace, folder: Path, ctrl_c: CtrlC, stack: list[Callable[[], None]]) -> int:
    """Everything from the checked values to the summary; `stack` collects what to stop after."""
    settings = settings_from(args)
    addrs = settings.targets if settings.setup is None else operator_targets(settings.setup)
    runner.ensure_built()
    targets = make_targets(addrs, settings.rate, settings.impl)
    bus = bus_server.serve(SimBus(targets))
    bus.handle_error = quiet  # a device stopped mid-transaction resets its bus socket: no traceback
    stack.append(bus.shutdown)
    bus_port = bus.server_address[1]
    emulator = None
    pool = settings.pool
    if pool is None:
        emulator = Emulator(faults=Faults(latency_ms=settings.latency, jitter_ms=settings.jitter)).start(http_port=None)
        stack.append(emulator.stop)
        pool = ("127.0.0.1", emulator.port)
    if settings.setup is None:
        write_setup(folder, pool, addrs, "mode %s" % settings.mode)
    else:
        write_operator_setup(folder, settings.setup, pool)
    env = device_env(bus_port)
    code = "import mydu"
    if args.webrepl:  # as on the ESP: boot.py starts WebREPL with the sim's own password, then main.py
        from fleet import simweb
        code = simweb.enable(folder, env, args.webrepl, announce=True)
    cmd = runner.command(code, settings.heap)
    print("sim: MicroPython %s, pool %s:%d, Mini Pros %s at %g H/s (%s), heap %d%s" % (
        runner.runner(), pool[0], pool[1], " ".join(map(str, addrs)), targets[0].hash_rate, settings.impl,
        settings.heap, ", setup from %s" % settings.setup if settings.setup else ""), flush=True)
    rc = run_device(cmd, folder, env, settings.keys, settings.timeout, ctrl_c)
    summary(emulator)
    return rc


def main() -> int:
    args = arguments().parse_args()
    stack: list[Callable[[], None]] = []
    folder = Path(tempfile.mkdtemp(prefix="duco-sim-"))
    try:
        return simulate(args, folder, CtrlC(), stack)
    except SimError as e:
        print("sim: %s" % e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before the device runs (building it, say): nothing to sum up
        print("\nsim: stopped by Ctrl-C", file=sys.stderr)
        return STOPPED
    finally:
        for stop in reversed(stack):
            stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
