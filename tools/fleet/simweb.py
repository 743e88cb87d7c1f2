"""The simulator's WebREPL: a password of its own, and the start-up that serves it.

On the ESP, boot.py starts WebREPL when webrepl_cfg.py holds a real password, then main.py starts
the rig. The simulator does the same in its own folder: it writes a webrepl_cfg.py with a fresh
random password there (never the repository's, which holds the placeholder), tells the
device's WebREPL stand-in (host_tests/fakes/webrepl.py) which port to listen on, and runs boot.py
before main.py. The password is never printed; a client reads it from that file.
"""
from __future__ import annotations

import secrets
import socket
import string
from pathlib import Path

CFG_NAME = "webrepl_cfg.py"
PASSWORD_LENGTH = 9  # the most the ESP's WebREPL takes
DEVICE_CODE = "import boot\nimport main"  # as the ESP starts: boot.py, then main.py


def write_password(folder: Path) -> Path:
    """A webrepl_cfg.py with a fresh password in `folder` (readable by its owner only)."""
    alphabet = string.ascii_letters + string.digits
    password = "".join(secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH))
    path = folder / CFG_NAME
    path.touch(mode=0o600)
    path.write_text('PASS = "%s"\n' % password)
    return path


def port_or_free(port: int) -> int:
    """`port` when nothing listens on it on 127.0.0.1, else one the system has free."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def enable(folder: Path, env: dict[str, str], port: int, announce: bool = False) -> str:
    """Serve WebREPL on 127.0.0.1:port (another free port if that one is taken) for the device
    run in `folder` with `env` (changed in place); returns the device code to run instead of
    `import mydu`. With `announce`, one line says where, and where the password is."""
    path = write_password(folder)
    port = port_or_free(port)
    env["DUCO_WEBREPL"] = str(port)
    if announce:
        print("sim: WebREPL on ws://127.0.0.1:%d, its password in %s" % (port, path), flush=True)
    return DEVICE_CODE
