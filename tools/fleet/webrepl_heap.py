"""`make webrepl-heap`: what one attached WebREPL client costs the ESP8266's heap.

Measured on the rigs' interpreter (MicroPython 1.15 built as the ESP8266 port, in the ESP8266's
38,912-byte heap), for v1.15's own webrepl.py with its C parts (`_webrepl`, `uwebsocket`,
uos.dupterm) and for the simulator's stand-in (host_tests/fakes/webrepl.py). A probe
(webrepl_heap_probe.py) takes gc.mem_alloc() after gc.collect() before WebREPL, once it
listens, and once a client has logged in; this side is that client (fleet/webrepl_client.py),
and reads the probe's figures through the session itself, which proves it attached.

"started" is the module imported and start() done, listening: on the ESP webrepl.py is frozen,
so only its globals are in the heap there, while here v1.15's is imported from source and its
bytecode counts too (the stand-in is frozen here as well). "client" is the attached session: its socket, the WebSocket and `_webrepl`
objects (the handshake's garbage is collected first, as the ESP's next collection would).
"login" is everything allocated from the accept to the logged-in session with the collector
off, garbage included: the free heap the accept needs at that moment.
"""
from __future__ import annotations

import re
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __name__ == "__main__":  # run as a script: the package and the other tools from tools/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import micropython_runner as runner
from fleet.simrig import free_port
from fleet.webrepl_client import WebReplConsole

HERE = Path(__file__).resolve().parent
V115_WEBREPL = runner.ROOT / "build" / "mp115" / "micropython-1.15" / "extmod" / "webrepl" / "webrepl.py"
FIGURES = re.compile(r"PROBE module (-?\d+) listening (-?\d+) client (-?\d+) login (-?\d+)")
TIMEOUT_S = 30.0


@dataclass
class HeapCost:
    module: int
    listening: int
    client: int  # live while the client is attached
    login: int  # allocated from the accept to the login, garbage included: free heap it needs then


def measure(kind: str) -> HeapCost:
    """kind: "v115" (v1.15's webrepl.py) or "standin" (the simulator's)."""
    runner.ensure_built()
    password = "".join(secrets.choice(string.ascii_letters) for _ in range(9))
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="webrepl-heap-") as folder:
        shutil.copy(V115_WEBREPL, Path(folder) / "webrepl_v115.py")
        env = {"MICROPYPATH": "%s:%s" % (runner.device_path(), HERE), "DUCO_WEBREPL": str(port),
               "PROBE_WEBREPL": kind, "PROBE_PASSWORD": password, "PATH": "/usr/bin:/bin"}
        proc = subprocess.Popen(runner.command("import webrepl_heap_probe"), cwd=folder, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            out = _read_until(proc, "PROBE ready")
            console = WebReplConsole("127.0.0.1", port, password, timeout=TIMEOUT_S)
            console.open()
            seen = ""
            deadline = time.monotonic() + TIMEOUT_S
            while not FIGURES.search(seen) and time.monotonic() < deadline:
                seen += console.read(1.0) or ""
            console.close()
            out += proc.communicate(timeout=TIMEOUT_S)[0]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    m = FIGURES.search(seen)
    if not m:
        raise RuntimeError("the probe's figures did not come through WebREPL:\n%s" % out[-2000:])
    return HeapCost(*(int(g) for g in m.groups()))


def _read_until(proc: subprocess.Popen[str], mark: str) -> str:
    out = ""
    while mark not in out:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise RuntimeError("the probe ended before %r:\n%s" % (mark, out[-2000:]))
        out += line
    return out


def main() -> int:
    print("WebREPL on the rigs' interpreter (MicroPython 1.15 as the ESP8266 port, %d-byte heap);"
          " live heap after gc.collect(), bytes:" % runner.ESP8266_HEAP)
    print("%-30s %8s %8s %8s" % ("", "started", "client", "login"))
    for kind, label in (("v115", "v1.15 webrepl.py + _webrepl"), ("standin", "the simulator's stand-in")):
        cost = measure(kind)
        print("%-30s %8d %8d %8d" % (label, cost.module + cost.listening, cost.client, cost.login))
    print("started: the module imported and listening (v1.15's from source here, its bytecode"
          " included; frozen on the ESP)\nclient: live while one client is attached; login: all that"
          " the accept, the handshake and the password allocate, garbage included")
    return 0


if __name__ == "__main__":
    sys.exit(main())
