"""`make help` names every target of the Makefile and of the files it includes (mk/*.mk,
target/firmware.mk), and every variable an operator can set, each on one line of its own."""
from __future__ import annotations

import re
import subprocess

from conftest import ROOT

MAKEFILES = [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk")), ROOT / "target" / "firmware.mk"]
MAKE_BUILTINS = {"MAKE", "MAKEFILE_LIST", "MAKEFLAGS", "CURDIR", "SHELL"}


def help_text() -> str:
    r = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def targets() -> set[str]:
    """Every target make knows from the Makefile and its includes, but the files it names."""
    db = subprocess.run(["make", "-pRrq", "-f", "Makefile", ":"], cwd=ROOT, capture_output=True,
                        text=True).stdout
    files = db.split("\n# Files\n", 1)[1].split("\n# VPATH", 1)[0]  # the rules, not the variables' text
    names = {m.group(1) for m in re.finditer(r"^([a-zA-Z][\w-]*):", files, re.M)}
    return {n for n in names if not (ROOT / n).exists()}


def variables() -> set[str]:
    """What an operator sets: every `NAME ?= ...`, and every $(NAME) a recipe reads that no
    makefile assigns (USER, API)."""
    settable, assigned, read = set(), set(), set()
    for path in MAKEFILES:
        text = path.read_text()
        settable |= set(re.findall(r"^([A-Z][A-Z0-9_]*)\s*\?=", text, re.M))
        assigned |= set(re.findall(r"^([A-Za-z_][\w]*)\s*(?::=|\?=|\+=|=)", text, re.M))
        assigned |= set(re.findall(r"^define\s+(\w+)", text, re.M))
        read |= set(re.findall(r"(?<!\$)\$\(([A-Z][A-Z0-9_]*)\)", text))
    return settable | (read - assigned - MAKE_BUILTINS)


def line_names(text: str) -> list[str]:
    """The name each indented line of the help starts with (a target, or a variable before `=`)."""
    return [m.group(1) for m in re.finditer(r"^  ([A-Za-z][\w-]*)", text, re.M)]


def test_help_names_every_target_once():
    found = targets()
    assert {"sim", "test", "deploy", "help", "firmware", "balance"} <= found  # the includes were read
    names = line_names(help_text())
    assert sorted(t for t in found if names.count(t) != 1) == []


def test_help_names_every_variable_once():
    found = variables()
    assert {"KEYS", "SETUP", "QUICK", "PORT", "USER", "API"} <= found
    names = line_names(help_text())
    assert sorted(v for v in found if names.count(v) != 1) == []


def test_every_help_line_is_one_short_line():
    for line in help_text().splitlines():
        assert len(line) <= 110, line
