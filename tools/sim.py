"""`make sim`: the whole rig with no hardware.

Starts the server emulator on a free loopback port (unless --pool names a server), the simulated
Mini Pros behind a loopback bus, writes a setup.txt for them into a fresh folder, and runs
`import mydu` on the rigs' interpreter: MicroPython v1.15 built as the ESP8266 port, loading the
.mpy files `make deploy` copies, in the ESP8266's heap (tools/micropython_runner.py). Without --keys the operator types at the H> prompt (the terminal is put in non-canonical
mode, so a key arrives without Enter, as on the ESP's UART). With --keys "s 5l i x" each word is
typed at the next H> prompt, so a loop runs its rounds to the end.
"""
from __future__ import annotations

import argparse
import os
import pty
import select
import subprocess
import sys
import tempfile
import termios
import time
import tty
from pathlib import Path

import bus_server
import micropython_runner as runner
from duco_server import Emulator, Faults
from minipro_sim import DEFAULT_HASH_RATE, MiniPro, SimBus

NAME = "I2C %d AVR Miner (DUCO-S1A) v2.47"
# Our sketch's core on a 16 MHz ATmega328P, by simavr's cycle count (`make firmware-hashrate`):
# 11,239 cycles a hash on the difficulty 6 job. The Python model keeps the 160 H/s of the ported
# rigs' Mini Pros.
FIRMWARE_HASH_RATE = 1423.0


def write_setup(folder: Path, pool: tuple[str, int], targets: list[int], extra: str = "") -> Path:
    """A setup.txt for simulated Mini Pros; `extra` adds lines (e.g. "mode poll")."""
    lines = ["# written by tools/sim.py for simulated Mini Pros",
             "rig   Sim Rig", "user  simuser", "key   None", "wifi  SimNet simpassword",
             "pool  %s %d" % pool, "i2c   5 4 100000", extra]
    lines += ["%d %s" % (a, NAME % a) for a in targets]
    path = folder / "setup.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def device_env(bus_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env["MICROPYPATH"] = runner.device_path()
    env["DUCO_BUS"] = str(bus_port)
    return env


def run_keys(cmd: list[str], cwd: Path, env: dict[str, str], keys: list[str], timeout: float,
             out=sys.stdout, prompt: str = "H> ") -> tuple[int, str]:
    """Run the device on a pty in cbreak mode, typing one word of keys at each prompt."""
    master, slave = pty.openpty()
    tty.setcbreak(slave)
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~termios.ECHO  # the ESP's UART does not echo; mydu echoes what it reads
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen = ""
    pending = list(keys)
    deadline = time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            proc.kill()
            out.write("\nsim: timed out after %d s\n" % timeout)
            break
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096).decode("utf-8", "replace").replace("\r\n", "\n")
            except OSError:  # the device side closed: micropython has exited
                break
            if not chunk:
                break
            out.write(chunk)
            out.flush()
            seen += chunk
            if seen.endswith(prompt) and pending:
                os.write(master, pending.pop(0).encode())
                seen = ""
            seen = seen[-16:]
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(), seen


def run_interactive(cmd: list[str], cwd: Path, env: dict[str, str]) -> int:
    if not sys.stdin.isatty():
        return subprocess.call(cmd, cwd=cwd, env=env)
    saved = termios.tcgetattr(sys.stdin)
    try:
        tty.setcbreak(sys.stdin)
        attrs = termios.tcgetattr(sys.stdin)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(sys.stdin, termios.TCSANOW, attrs)
        return subprocess.call(cmd, cwd=cwd, env=env)
    finally:
        termios.tcsetattr(sys.stdin, termios.TCSADRAIN, saved)


def make_targets(addrs: list[int], rate: float | None, impl: str) -> list:
    if impl == "firmware":
        rate = rate or FIRMWARE_HASH_RATE
        from firmware_minipro import FirmwareMiniPro
        return [FirmwareMiniPro(a, hash_rate=rate) for a in addrs]
    return [MiniPro(a, hash_rate=rate or DEFAULT_HASH_RATE) for a in addrs]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", default="", help='words typed at successive H> prompts, e.g. "s 5l i x"')
    ap.add_argument("--pool", default="", help="HOST:PORT of a server to use instead of the emulator")
    ap.add_argument("--targets", default="20 21 22", help="I2C addresses of the simulated Mini Pros")
    ap.add_argument("--latency", type=int, default=0, help="emulator: ms added to every reply")
    ap.add_argument("--jitter", type=int, default=0, help="emulator: plus up to this many ms")
    ap.add_argument("--rate", type=float, default=None,
                    help="Mini Pro H/s (default %g, firmware core %g)" % (DEFAULT_HASH_RATE, FIRMWARE_HASH_RATE))
    ap.add_argument("--impl", choices=("python", "firmware"), default="python",
                    help="simulated Mini Pro: the Python model or the firmware's own core")
    ap.add_argument("--heap", type=int, default=runner.ESP8266_HEAP, help="micropython -X heapsize")
    ap.add_argument("--mode", choices=("block", "poll"), default="block",
                    help="setup.txt mode: the faithful blocking loop or the overlapped one")
    ap.add_argument("--timeout", type=float, default=600, help="seconds before a --keys run is stopped")
    args = ap.parse_args()
    runner.ensure_built()

    addrs = [int(a) for a in args.targets.split()]
    targets = make_targets(addrs, args.rate, args.impl)
    bus = SimBus(targets)
    bus_port = bus_server.serve(bus).server_address[1]
    emulator = None
    if args.pool:
        host, _, port = args.pool.rpartition(":")
        pool = (host, int(port))
    else:
        emulator = Emulator(faults=Faults(latency_ms=args.latency, jitter_ms=args.jitter)).start(http_port=None)
        pool = ("127.0.0.1", emulator.port)
    folder = Path(tempfile.mkdtemp(prefix="duco-sim-"))
    write_setup(folder, pool, addrs, "mode %s" % args.mode)
    cmd = runner.command("import mydu", args.heap)
    print("sim: MicroPython %s, pool %s:%d, Mini Pros %s at %g H/s (%s), heap %d" % (
        runner.runner(), pool[0], pool[1], " ".join(map(str, addrs)), targets[0].hash_rate, args.impl,
        args.heap), flush=True)
    env = device_env(bus_port)
    if args.keys:
        rc, _ = run_keys(cmd, folder, env, args.keys.split(), args.timeout)
    else:
        rc = run_interactive(cmd, folder, env)
    if emulator:
        s = emulator.stats
        print("sim: emulator checked %d shares: %d GOOD, %d BLOCK, %d BAD" % (
            s.good + s.bad, s.good - s.blocks, s.blocks, s.bad))
        emulator.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
