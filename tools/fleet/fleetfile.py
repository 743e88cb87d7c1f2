"""The fleet file: one rig a line, `name host port password-file`, `#` starts a comment.

    # name   host             port   where the WebREPL password is
    rig40    192.168.178.40   8266   webrepl_cfg-40.py
    rig41    192.168.178.41   8266   webrepl_cfg-41.py

The password file is the webrepl_cfg.py that `make deploy WEBREPL=...` put on that rig (a
relative path is taken from the fleet file's folder). It is read at every login, so a corrected
file counts at the next attempt; a password never stands in the fleet file and is never printed.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # it becomes part of MQTT topics and the page


class FleetFileError(ValueError):
    """A line of the fleet file is wrong; the text names the file, the line and what."""


@dataclass(frozen=True)
class RigConfig:
    name: str
    host: str
    port: int
    password_file: Path

    def password(self) -> str:
        """The rig's WebREPL password, from its file now (FleetFileError when there is none)."""
        try:
            text = self.password_file.read_text()
        except OSError as exc:
            raise FleetFileError("%s: cannot read %s (%s)" % (self.name, self.password_file,
                                                             exc.strerror or exc)) from None
        password = pass_of(text)
        if password is None:
            raise FleetFileError('%s: %s has no PASS = "..." line' % (self.name, self.password_file))
        return password


def pass_of(text: str) -> str | None:
    """PASS of a webrepl_cfg.py, read as `make deploy` reads it: parsed, never run."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "PASS"
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            return node.value.value
    return None


def parse(text: str, folder: Path, source: str = "fleet file") -> list[RigConfig]:
    rigs: list[RigConfig] = []
    for number, raw in enumerate(text.splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        where = "%s line %d" % (source, number)
        if len(words) != 4:
            raise FleetFileError("%s: want `name host port password-file`, got %d words" % (where, len(words)))
        name, host, port, password_file = words
        if not NAME.match(name):
            raise FleetFileError("%s: rig name %r: letters, digits, _ and - only, at most 32" % (where, name))
        if any(r.name == name for r in rigs):
            raise FleetFileError("%s: rig name %s is there twice" % (where, name))
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise FleetFileError("%s: port %r is not a TCP port" % (where, port))
        path = Path(password_file)
        rigs.append(RigConfig(name, host, int(port), path if path.is_absolute() else folder / path))
    if not rigs:
        raise FleetFileError("%s: no rig in it" % source)
    return rigs


def read(path: Path) -> list[RigConfig]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise FleetFileError("cannot read the fleet file %s: %s" % (path, exc.strerror or exc)) from None
    return parse(text, path.resolve().parent, str(path))
