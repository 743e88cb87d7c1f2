"""The H> menu on the rigs' interpreter as an operator meets it: Enter after a command, the
answers to unreasonable input, what `o`, `u`, `m`, `t`, `x` and `i` print, coming back with
mydu.menu(), and a connection the pool closed while the rig sat in the menu."""
from __future__ import annotations

import io
import re
import time
from pathlib import Path

import bus_server
import micropython_runner as runner
import sim
from bench_throughput import Device
from duco_server import Emulator
from minipro_sim import MiniPro, SimBus
from test_unix_port import SHARE, run_rig


def test_enter_after_l_does_not_end_the_loop(tmp_path, emulator):
    # a terminal sends CR LF after the letter; the pty is in cbreak mode, as a terminal's is
    text = run_rig(tmp_path, "s 20l\r\n x", pool=("127.0.0.1", emulator.port))
    assert re.findall(r"===Loop  (\d+)\n", text) == [str(n) for n in range(20, 0, -1)]
    assert text.count("Loop Done\n") == 1


def test_unreasonable_numbers_and_keys_before_s_get_one_line_each(tmp_path, emulator):
    text = run_rig(tmp_path, "5q 2d 99999999999999999999t s 601t 30t 0t 7q x", pool=("127.0.0.1", emulator.port))
    assert text.count("no connections: s first\n") == 2  # 5q and 2d before s
    assert text.count("timeout 1..600 s\n") == 2
    assert "timeout 30 s\n" in text and "timeout 10 s\n" in text  # 0t: the default
    assert "no connection 7: the index from o, 0..2\n" in text
    assert "Traceback" not in text


def test_o_u_m_print_what_the_docs_say(tmp_path, emulator):
    # Mini Pros at 1 H/s: every target is still hashing its first job when 0m asks
    text = run_rig(tmp_path, "s o u 0m x", rate=1.0, pool=("127.0.0.1", emulator.port))
    assert re.search(r"cons 3\nidx addr sta st tmo\n0 20 B.. K 10\n1 21 B.. K 10\n2 22 B.. K 10\n", text), text
    assert "statistics zeroed\n" in text
    assert "H> 0m\nbusy\n" in text


def test_s_hands_each_target_its_first_job(tmp_path, emulator):
    text = run_rig(tmp_path, "s x", pool=("127.0.0.1", emulator.port))
    for addr in (20, 21, 22):
        assert "Targ  %d connected to 127.0.0.1:%d, server 3.0, first job sent\n" % (addr, emulator.port) in text
    assert emulator.stats.jobs == 3


def test_i_adds_the_rigs_own_lines_after_the_exact_block(tmp_path, emulator):
    text = run_rig(tmp_path, "s 60l i x", pool=("127.0.0.1", emulator.port))
    shares = len(SHARE.findall(text))
    block = text[text.index("H> i\n"):]
    assert re.search(r"Faults  0  Lost  0  Reconnects  0\nRig up 0h00m\d\ds\n"
                     r"Shares per minute  life \d+\.\d accepted 0\.0 rejected\n"
                     r"Shares per minute  last 10 min \d+\.\d accepted 0\.0 rejected\n"
                     r"Targ 20 mean rate (\d+) H/s\nTarg 21 mean rate \d+ H/s\nTarg 22 mean rate \d+ H/s\n"
                     r"Free \d+\nI2C scan \[20, 21, 22\]\n", block), block
    assert shares > 0
    rates = [int(r) for r in re.findall(r"Targ \d+ mean rate (\d+) H/s", block)]
    assert all(r > 0 for r in rates)


def test_x_says_how_to_come_back_and_mydu_menu_does(tmp_path, emulator):
    bus = SimBus([MiniPro(20, hash_rate=4000.0)])
    server = bus_server.serve(bus)
    sim.write_setup(tmp_path, ("127.0.0.1", emulator.port), [20])
    out = io.StringIO()
    cmd = runner.command("import mydu\nmydu.menu()")
    rc, _ = sim.run_keys(cmd, tmp_path, sim.device_env(server.server_address[1]),
                         ["s", "x", "20l", "x"], 120, out)
    server.shutdown()
    text = out.getvalue()
    assert rc == 0, text[-2000:]
    first, again = text.split("back at the REPL: mydu.menu() returns to the menu\n", 1)
    assert "closed\n" in first and again.startswith("s start, <n>l loop")
    assert SHARE.search(again)  # the closed connection came back at l without s


def test_a_connection_the_pool_closed_in_the_menu_is_made_again_quietly(tmp_path):
    # the pool's idle limits shortened by its switches: 1 s before the first job, 1 s after
    pool = Emulator(idle_first=1.0, idle_after=1.0).start(http_port=None)
    bus = SimBus([MiniPro(a, hash_rate=4000.0) for a in (20, 21)])
    server = bus_server.serve(bus)
    sim.write_setup(Path(tmp_path), ("127.0.0.1", pool.port), [20, 21])
    dev = Device(tmp_path, sim.device_env(server.server_address[1]), runner.ESP8266_HEAP)
    try:
        dev.wait_for("H> ", 1, 30)
        dev.type("s")
        dev.wait_for("H> ", 2, 30)
        time.sleep(2.5)  # past the pool's idle limit: it drops both while the rig sits in the menu
        dev.type("30l")
        dev.wait_for("Loop Done", 1, 60)
        dev.type("i")
        dev.wait_for("I2C scan", 1, 30)
        dev.type("x")
        assert dev.proc.wait(timeout=30) == 0
    finally:
        dev.kill()
        server.shutdown()
        pool.stop()
    loop = dev.out[dev.out.index("H> 30l"):]
    assert "***" not in loop.replace("*** Targ  ", "") and "retry in" not in loop, loop
    assert loop.count("Reconnects  1\n") == 2
    assert SHARE.search(loop)
