"""The docs show only commands that exist: every `make X` in README.md and docs/ is a target of
the Makefile, and every local link points at a file that is there."""
from __future__ import annotations

import re
import subprocess

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def make_targets() -> set[str]:
    db = subprocess.run(["make", "-pRrq", "-f", "Makefile", ":"], cwd=ROOT, capture_output=True, text=True).stdout
    return {m.group(1) for m in re.finditer(r"^([a-zA-Z][\w-]*):", db, re.M)}


def test_every_make_command_in_the_docs_is_a_target():
    targets = make_targets()
    shown = set()
    for page in PAGES:
        text = page.read_text()
        fenced = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", text, re.S))
        shown |= {(page.name, t) for t in re.findall(r"`make ([a-z][a-z0-9-]*)", text)}
        shown |= {(page.name, t) for t in re.findall(r"^\s*make ([a-z][a-z0-9-]*)", fenced, re.M)}
    assert shown, "the docs show no make command"
    assert {(page, t) for page, t in shown if t not in targets} == set()


def test_every_local_link_in_the_docs_exists():
    missing = []
    for page in PAGES:
        for link in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / link).exists():
                missing.append((page.name, link))
    assert missing == []
