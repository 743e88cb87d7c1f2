"""What comes with the fleet monitor: `make sim`'s WebREPL endpoint, `make fleet-demo`, the
monitor's command line, and the heap an attached WebREPL client costs on the rigs' interpreter."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from conftest import ROOT
from fleet import webrepl_heap
from fleet.fleetfile import pass_of
from fleet.logparse import LineSplitter, LogParser, Share
from fleet.simrig import SimRig, free_port
from fleet.store import Store
from fleet.webrepl_client import ConnectionLost, WebReplConsole, WebReplError

PAGE = re.compile(r"the page: (http://127\.0\.0\.1:\d+/)")
CONSOLE_SHARE = re.compile(r"\*\*\* Targ  (\d+) Sta  C\nela \d+\s+res\s+(\d+)\s+rat \d+\nSndRes took\s+\d+\nGOOD\n")


def read_lines(proc: subprocess.Popen[str], into: list[str]) -> threading.Thread:
    def run() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            into.append(line)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wait_for_line(lines: list[str], pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(lines):
            if m := pattern.search(line):
                return m
        time.sleep(0.05)
    raise TimeoutError("no line like %s in:\n%s" % (pattern.pattern, "".join(lines)[-2000:]))


def test_make_sim_serves_webrepl_with_its_own_password_and_the_same_console(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "sim.py"), "--keys", "s 60l x", "--rate", "4000",
                             "--latency", "20", "--webrepl", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = read_lines(proc, lines)
    try:
        m = wait_for_line(lines, re.compile(r"sim: WebREPL on ws://127\.0\.0\.1:(\d+), its password in (\S+)"), 60)
        assert int(m[1]) == port
        wait_for_line(lines, re.compile(r"WebREPL daemon started on ws://"), 60)  # the device listens now
        password = pass_of(open(m[2]).read())
        assert password and password != "changeme" and password not in "".join(lines)
        with WebReplConsole("127.0.0.1", port, password, timeout=30) as console:
            seen = ""
            try:
                while True:
                    seen += console.read(30) or ""
            except ConnectionLost:
                pass  # the sim ended: x, then micropython exited
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join(timeout=10)
    parser, splitter = LogParser(), LineSplitter()
    over_webrepl = [(e.target, e.nonce) for line in splitter.feed(seen) for e in parser.feed(line) if isinstance(e, Share)]
    on_terminal = [(int(t), int(n)) for t, n in CONSOLE_SHARE.findall("".join(lines))]
    assert over_webrepl, seen[-2000:]
    # the client logged in while the rig ran: from then on it saw what the terminal saw
    assert on_terminal[len(on_terminal) - len(over_webrepl):] == over_webrepl


def test_fleet_demo_shows_two_live_rigs_within_a_minute():
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "fleet" / "demo.py"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = read_lines(proc, lines)
    try:
        url = wait_for_line(lines, PAGE, 60)[1]
        rigs: list[dict] = []

        def live() -> bool:  # both rigs online, and every Mini Pro of each with an accepted share
            return (len(rigs) == 2 and all(r["connection"] == "online" for r in rigs)
                    and [[t["accepted"] > 0 for t in r["targets"]] for r in rigs] == [[True] * 3, [True] * 2])

        while not live() and time.monotonic() - started < 60:
            time.sleep(0.5)
            with urllib.request.urlopen(url + "api/fleet", timeout=10) as answer:
                rigs = json.load(answer)["rigs"]
        assert live(), rigs
        assert [r["name"] for r in rigs] == ["rig-a", "rig-b"]
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert b'<script src="fleet.js">' in answer.read()
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the demo stops its rigs and its monitor
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        reader.join(timeout=10)
    assert proc.returncode == 0, "".join(lines)[-2000:]
    assert "Traceback" not in "".join(lines)


def test_monitor_command_says_what_is_wrong_with_the_fleet_file_in_one_line(tmp_path):
    (tmp_path / "fleet.txt").write_text("rig40 192.168.1.40 8266\n")
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "fleet" / "monitor.py"), str(tmp_path / "fleet.txt")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert r.stdout == "fleet: %s line 1: want `name host port password-file`, got 3 words\n" % (tmp_path / "fleet.txt")


def test_monitor_command_runs_serves_and_keeps_its_history(tmp_path):
    rig = SimRig("rig-x", [20], tmp_path / "rig", rate=4000, autostart=True).start()
    try:
        (tmp_path / "fleet.txt").write_text(rig.fleet_line() + "\n")
        for _ in range(2):  # a second start goes on with the same file
            r = subprocess.run([sys.executable, str(ROOT / "tools" / "fleet" / "monitor.py"), str(tmp_path / "fleet.txt"),
                                "--port", "0", "--seconds", "2"], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stdout + r.stderr
            assert re.search(r"^fleet: 1 rigs from \S+fleet.txt, history in \S+fleet.sqlite; the page: "
                             r"http://127\.0\.0\.1:\d+/$", r.stdout, re.M), r.stdout
            assert "fleet: rig-x: online: 127.0.0.1:%d\n" % rig.port in r.stdout
    finally:
        rig.stop()
    store = Store(tmp_path / "fleet.sqlite")
    assert store.query("SELECT COUNT(*) FROM sessions")[0][0] == 2
    assert store.query("SELECT COUNT(*) FROM shares")[0][0] > 0
    store.close()


def test_a_rig_of_four_mines_in_20_kb_with_webrepl_started_and_a_client_attached(tmp_path):
    """The rig's memory target: at most 20 KB of free heap after boot (boot.py has started
    WebREPL). Those 20,480 bytes, left in pieces, must hold the attached client's session too."""
    rig = SimRig("rig-20k", [20, 21, 22, 23], tmp_path / "rig", rate=4000, free=20480).start()
    seen: list[str] = []
    try:
        rig.wait_for("H> ")
        console = WebReplConsole("127.0.0.1", rig.port, pass_of(rig.password_file.read_text()), timeout=30)
        opened = threading.Thread(target=console.open, daemon=True)
        opened.start()
        typed = 0
        while opened.is_alive():  # the stand-in serves the client at the rig's next output:
            rig.type("v")  # a key that prints a line and loads nothing
            typed += 1
            opened.join(0.5)
        if typed % 2:
            rig.type("v")  # verbose off again, as the rig mines by default
        rig.type("s")
        rig.wait_for("H> ", rig.output().count("H> ") + 1, 60)
        rig.type("120l")
        deadline = time.monotonic() + 90
        while "Loop Done" not in "".join(seen) and time.monotonic() < deadline:
            seen.append(console.read(1.0) or "")
        console.close()
    finally:
        rig.stop()
    out, over_webrepl = rig.output(), "".join(seen)
    assert "Loop Done" in over_webrepl, out[-2000:]
    assert not any(bad in out for bad in ("MemoryError", "out of memory", "Traceback")), out[-2000:]
    assert over_webrepl.count("\nGOOD\n") == out.count("\nGOOD\n") > 0


def test_an_attached_webrepl_client_costs_the_esp_heap_little():
    real = webrepl_heap.measure("v115")
    standin = webrepl_heap.measure("standin")
    assert 0 < real.client < 512  # live while attached: the socket, the WebSocket, _webrepl
    assert real.client < real.login < 4096  # the handshake's garbage, needed free at the login
    assert abs(standin.client - real.client) <= 128  # the simulator's costs about the same


def test_a_wrong_port_is_a_clear_error_not_a_hang():
    with pytest.raises(WebReplError, match="refused"):
        WebReplConsole("127.0.0.1", free_port(), "whatever", timeout=5).open()
