"""A simulated rig with WebREPL, for `make fleet-demo` and the fleet's tests.

Everything `make sim` has: a server emulator (its own, so each rig has its own latency and fault
switches), simulated Mini Pros behind a loopback bus, and the device code on the rigs'
interpreter (MicroPython 1.15 built as the ESP8266 port, the .mpy files `make deploy` copies,
the ESP8266's heap). It starts as the ESP does, boot.py then main.py, with the simulator's own
webrepl_cfg.py (tools/fleet/simweb.py), so WebREPL listens on a loopback port. Keys go to the
device's standard input; what it prints is kept (and written to console.log in its folder).
reset() is the reset button: the process dies with all its connections and starts again.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import bus_server
import micropython_runner as runner
import sim
from duco_server import Emulator, Faults
from fleet import simweb
from minipro_sim import DEFAULT_HASH_RATE, MiniPro, SimBus

KEEP_OUTPUT = 4 << 20  # characters of console kept in memory; the whole console is in console.log


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SimRig:
    def __init__(self, name: str, targets: list[int], folder: Path, *, faults: Faults | None = None,
                 emulator: Emulator | None = None, rate: float = DEFAULT_HASH_RATE,
                 autostart: bool = False, webrepl_port: int = 0, heap: int = runner.ESP8266_HEAP,
                 free: int | None = None) -> None:
        self.name = name
        self.addrs = targets
        self.folder = folder
        self.own_emulator = emulator is None
        self.emulator = emulator or Emulator(faults=faults or Faults())
        self.targets = [MiniPro(a, hash_rate=rate) for a in targets]
        self.autostart = autostart
        self.port = webrepl_port or free_port()
        self.heap = heap
        self.free = free  # heap left free by the firmware's start-up (host_tests/fakes/upy/_boot.py)
        self.bus: bus_server.socketserver.ThreadingTCPServer | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.out = ""
        self.lock = threading.Lock()
        self.code = ""
        self.env: dict[str, str] = {}

    @property
    def password_file(self) -> Path:
        return self.folder / simweb.CFG_NAME

    def fleet_line(self) -> str:
        """This rig's line in a fleet file."""
        return "%s 127.0.0.1 %d %s" % (self.name, self.port, self.password_file)

    def start(self) -> "SimRig":
        runner.ensure_built()
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.own_emulator:
            self.emulator.start(http_port=None)
        self.bus = bus_server.serve(SimBus(self.targets))
        sim.write_setup(self.folder, ("127.0.0.1", self.emulator.port), self.addrs,
                        "autostart yes" if self.autostart else "")
        self.env = sim.device_env(self.bus.server_address[1])
        self.code = simweb.enable(self.folder, self.env, self.port)
        if self.free is not None:  # boot (WebREPL started) leaves the rig only this much
            self.code = self.code.replace("import main", "import _boot\n_boot.hold(%d, False)\nimport main" % self.free)
        self._spawn()
        return self

    def _spawn(self) -> None:
        self.proc = subprocess.Popen(runner.command(self.code, self.heap), cwd=self.folder, env=self.env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     bufsize=0, start_new_session=True)
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        with open(self.folder / "console.log", "ab") as log:
            while True:
                chunk = proc.stdout.read(4096)  # type: ignore[union-attr]
                if not chunk:
                    return
                log.write(chunk)
                log.flush()
                with self.lock:
                    self.out = (self.out + chunk.decode("utf-8", "replace"))[-KEEP_OUTPUT:]

    def type(self, keys: str | bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(keys.encode() if isinstance(keys, str) else keys)

    def output(self) -> str:
        with self.lock:
            return self.out

    def wait_for(self, text: str, count: int = 1, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.output().count(text) < count:
            if time.monotonic() > deadline:
                raise TimeoutError("%s never printed %r %d times:\n%s" % (self.name, text, count, self.output()[-2000:]))
            if self.proc is not None and self.proc.poll() is not None and self.output().count(text) < count:
                raise RuntimeError("%s's device exited (%s):\n%s" % (self.name, self.proc.returncode, self.output()[-2000:]))
            time.sleep(0.02)

    def listening(self) -> bool:
        return "WebREPL daemon started" in self.output()

    def reset(self) -> None:
        """The reset button: the device dies at once, every connection with it, and boots again."""
        self._kill()
        with self.lock:
            self.out += "\n--- reset ---\n"
        self._spawn()

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        self._kill()
        if self.bus is not None:
            self.bus.shutdown()
            self.bus.server_close()
        if self.own_emulator:
            self.emulator.stop()
