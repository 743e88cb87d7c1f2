"""The device code on the real MicroPython unix port, in -X heapsize=64000, against the
emulator and the simulated Mini Pros: the exact per-loop log, the statistics, and the
one-line errors for a broken setup.txt, an unreachable pool and an absent target."""
from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import bus_server
import micropython_runner as runner
import sim
from conftest import ROOT
from minipro_sim import MiniPro, SimBus

SHARE = re.compile(
    r"\*\*\* Targ  (\d+) Sta  C\n"
    r"ela (\d+)  res  (\d+)  rat (\d+)\n"
    r"SndRes took  \d+\n"
    r"(GOOD|BLOCK|BAD,[^\n]*)\n"
    r"ReqJob took  \d+\n"
    r"Hashes sent  \d+\n")
STATS = re.compile(
    r"Target (\d+)  Connected True\n"
    r"Name >I2C \1 AVR Miner \(DUCO-S1A\) v2\.47<\n"
    r"Requests  (\d+)\n"
    r"ReqWait  \d+  per  \d+\n"
    r"ReqZwi  \d+  per  \d+\n"
    r"SndWait  \d+  per  \d+\n"
    r"SndZwi  \d+  per  \d+\n"
    r"Targ Busy  \d+\n"
    r"Accepted  (\d+)  Rejected  0  Blocks  0\n")


def run_rig(tmp_path: Path, keys: str, targets=(20, 21, 22), pool=None, on_bus=None, setup=None,
            rate=4000.0, heap=runner.ESP8266_HEAP, extra="") -> str:
    bus = SimBus([MiniPro(a, hash_rate=rate) for a in (on_bus or targets)])
    server = bus_server.serve(bus)
    if setup is None:
        sim.write_setup(tmp_path, pool, list(targets), extra)
    else:
        (tmp_path / "setup.txt").write_text(setup)
    out = io.StringIO()
    cmd = runner.command("import mydu", heap)
    rc, _ = sim.run_keys(cmd, tmp_path, sim.device_env(server.server_address[1]), keys.split(), 120, out)
    server.shutdown()
    text = out.getvalue()
    assert rc == 0, text[-2000:]
    assert "Traceback" not in text and "MemoryError" not in text, text[-2000:]
    return text


@pytest.mark.parametrize("mode", ["block", "poll"])
def test_rig_mines_good_shares_with_the_exact_log(tmp_path, emulator, mode):
    text = run_rig(tmp_path, "s 100l i x", pool=("127.0.0.1", emulator.port), extra="mode " + mode)
    shares = SHARE.findall(text)
    assert shares, text[-3000:]
    for addr, ela, res, rat, feedback in shares:
        assert feedback == "GOOD"
        assert int(rat) == (1000 * int(res) + int(ela) // 2) // int(ela)
    assert len(shares) == emulator.stats.good
    assert {a for a, *_ in shares} == {"20", "21", "22"}
    loops = re.findall(r"===Loop  (\d+)\n", text)
    assert loops == [str(n) for n in range(100, 0, -1)]
    assert "Loop Done\n" in text
    stats = STATS.findall(text)
    assert [s[0] for s in stats] == ["20", "21", "22"]
    assert sum(int(s[2]) for s in stats) == emulator.stats.good
    assert re.findall(r"^closed$", text, re.M) == ["closed"] * 3


def test_broken_setup_line_is_one_line_and_nothing_connects(tmp_path, emulator):
    setup = "rig R\nuser u\npool 127.0.0.1 %d\n20 name\n200 far\n" % emulator.port
    text = run_rig(tmp_path, "s x", setup=setup)
    assert "setup.txt line 5: address 200 out of range 1..127\n" in text
    assert emulator.stats.connects == 0


def test_unreachable_pool_is_one_line_per_target(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    text = run_rig(tmp_path, "s 3l x", pool=("127.0.0.1", port))
    for addr in (20, 21, 22):
        assert "*** Targ  %d server error ECONNREFUSED, retry in 2 s\n" % addr in text


def test_absent_target_is_named_and_the_others_mine(tmp_path, emulator):
    text = run_rig(tmp_path, "s 60l i x", targets=(20, 21, 23), on_bus=(20, 21),
                   pool=("127.0.0.1", emulator.port))
    assert "*** Targ  23 I2C error ENODEV, retry in 2 s\n" in text
    assert {a for a, *_ in SHARE.findall(text)} == {"20", "21"}
    assert "I2C scan [20, 21]" in text


def test_second_s_changes_nothing(tmp_path, emulator):
    text = run_rig(tmp_path, "s s o x", pool=("127.0.0.1", emulator.port))
    assert "3 connections exist, s changes nothing" in text
    assert "cons 3\n" in text
    assert emulator.stats.connects == 3


def test_make_sim_runner_end_to_end(tmp_path):
    """What `make sim KEYS=...` runs: emulator, bus, setup and the device, all from sim.py."""
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "sim.py"), "--keys", "s 30l x",
                          "--rate", "4000"], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    good = len(SHARE.findall(out.stdout))
    assert good > 0
    assert "sim: emulator checked %d shares: %d GOOD, 0 BLOCK, 0 BAD" % (good, good) in out.stdout


def test_without_pool_line_the_pool_picker_names_the_pool(tmp_path, emulator):
    setup = ("rig R\nuser u\npicker 127.0.0.1 %d\n20 I2C 20 AVR Miner (DUCO-S1A) v2.47\n"
             % emulator.http_port)
    text = run_rig(tmp_path, "s 20l x", targets=(20,), setup=setup)
    assert "pool 127.0.0.1 %d from the pool picker\n" % emulator.port in text
    assert SHARE.search(text) and emulator.stats.good > 0


def test_pool_picker_down_is_one_line(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    text = run_rig(tmp_path, "s x", setup="rig R\nuser u\npicker 127.0.0.1 %d\n20 n\n" % port)
    assert "no pool line, and the pool picker failed: ECONNREFUSED\n" in text


def test_drop_with_a_bad_index_and_a_good_one(tmp_path, emulator):
    text = run_rig(tmp_path, "s 7d 1d o x", pool=("127.0.0.1", emulator.port))
    assert "no connection 7: the index from o, 0..2\n" in text
    assert "dropped 21\n" in text
    assert "cons 2\nidx addr sta st tmo\n0 20 " in text and "\n1 22 " in text


def test_sim_with_the_firmware_core_behind_the_bus_mines_good_shares():
    """`make sim TARGETS_IMPL=firmware`: our sketch's own core answers the device code."""
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "sim.py"), "--keys", "s 30l x",
                          "--impl", "firmware", "--rate", "4000"], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    good = len(SHARE.findall(out.stdout))
    assert good > 0 and "(firmware)" in out.stdout
    assert "sim: emulator checked %d shares: %d GOOD, 0 BLOCK, 0 BAD" % (good, good) in out.stdout


def test_mining_key_and_wifi_password_are_never_printed(tmp_path, emulator):
    setup = ("rig R\nuser u\nkey Sup3rKey\nwifi Net W1fiPass\npool 127.0.0.1 %d\n"
             "20 I2C 20 AVR Miner (DUCO-S1A) v2.47\n" % emulator.port)
    text = run_rig(tmp_path, "s v h 30l i o 0q 0w 0m u 5t x", setup=setup)
    assert SHARE.search(text) or "job " in text
    assert "Sup3rKey" not in text and "W1fiPass" not in text


def test_more_targets_than_tcp_blocks_warns_and_names_the_error(tmp_path, emulator):
    text = run_rig(tmp_path, "s 20l x", targets=(20, 21, 22, 23, 24, 25), pool=("127.0.0.1", emulator.port))
    assert "warning: 6 targets, one ESP8266 holds about 4 server connections (lwIP)\n" in text
    assert "*** Targ  25 server error ENOMEM, retry in 2 s\n" in text
    assert {a for a, *_ in SHARE.findall(text)} <= {"20", "21", "22", "23", "24"}


def test_autostart_mines_after_a_reset_until_a_key(tmp_path, emulator):
    """main.py with `autostart yes`: s and l by themselves; a key gives the menu back."""
    from bench_throughput import Device

    bus = SimBus([MiniPro(a, hash_rate=4000.0) for a in (20, 21)])
    server = bus_server.serve(bus)
    sim.write_setup(tmp_path, ("127.0.0.1", emulator.port), [20, 21], "autostart yes")
    dev = Device(tmp_path, sim.device_env(server.server_address[1]), runner.ESP8266_HEAP, module="main")
    try:
        dev.wait_for("\nGOOD\n", 3, 60)
        dev.type("z")
        dev.wait_for("H> ", 1, 30)
        dev.type("x")
        assert dev.proc.wait(timeout=30) == 0
    finally:
        dev.kill()
        server.shutdown()
    assert "autostart: s, then l until a key\n" in dev.out
    assert "Loop Done\n" in dev.out and "Traceback" not in dev.out
    assert re.findall(r"^closed$", dev.out, re.M) == ["closed"] * 2


def test_reconnects_beyond_five_sockets_ever_made_keep_working(tmp_path, emulator):
    # lwIP's limit counts open TCP blocks: a closed socket gives its block back
    emulator.faults.drop_after = 3  # the pool closes each connection after three messages
    text = run_rig(tmp_path, "s 300l i x", targets=(20,), pool=("127.0.0.1", emulator.port))
    assert "ENOMEM" not in text
    reconnects = int(re.search(r"Reconnects  (\d+)\n", text).group(1))
    assert reconnects >= 6 and SHARE.search(text)
