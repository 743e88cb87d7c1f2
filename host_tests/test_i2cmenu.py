"""The bring-up menu (i2cmenu.py, `import i2ct; i2ct.menu()`). On CPython: simulated Mini Pros
(the Python model and the sketch's own core) behind the fake machine.I2C, keys fed through a
sys.stdin replacement. On the MicroPython unix port: the loopback bus, where a Mini Pro that the
menu re-addressed from 20 to 30 then mines GOOD shares at 30 under mydu."""
from __future__ import annotations

import gc
import io
import re
import sys

import pytest

import bus_server
import micropython_runner as runner
import i2cmenu
import machine
import menu_cost
import mpy_check
import sim
from minipro_sim import MiniPro, SimBus, ducoid_for
from recording_bus import RecordingBus

SCAN_LINE = re.compile(r"^(\d+)  Sta (...)  (DUCOID[0-9A-F]{16})$", re.M)
SELF_TEST_BYTES = [b"D10", b"Lba29a15896fd2d792d5c", b"M4b60668bf2b9feebc51d",
                   b"Nd0beba883d7e8cd119ea", b"O2b0e09b78f60f29e0968"]


class NotAMiniPro:
    """Another chip on the bus (a display, say): acknowledges, reads back 0xFF."""

    def __init__(self, addr: int) -> None:
        self.addr = addr

    def write(self, data: bytes) -> None:
        pass

    def read(self, n: int) -> bytes:
        return b"\xff" * n


@pytest.fixture
def make(minipro_cls, clock):
    """A Mini Pro on the test's clock: the Python model, then the sketch's own core."""
    return lambda addr, **kw: minipro_cls(addr, clock=clock, **kw)


@pytest.fixture
def rig(sim_bus, make, tmp_path, monkeypatch):
    """Mini Pros at 20 21 22 behind a recording bus; no setup.txt, so the default pins."""
    sim_bus.targets.extend(make(a) for a in (20, 21, 22))
    rec = RecordingBus(sim_bus)
    machine.bus = rec
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(gc, "mem_free", lambda: 23456, raising=False)  # CPython's gc has none
    return rec


def letters(rec: RecordingBus) -> list[bytes]:
    """The queued letters the menu wrote: without the S, R and E queries."""
    return [w for w in rec.queued() if w not in (b"R", b"E")]


def run_menu(monkeypatch, capsys, keys: str) -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO(keys))
    i2cmenu.menu()
    out = capsys.readouterr().out
    assert "Traceback" not in out
    return out


def after(text: str, prompt_and_keys: str) -> str:
    """What the menu printed after the operator typed prompt_and_keys (e.g. "I> 30v")."""
    return text.split(prompt_and_keys + "\n", 1)[1].split("I> ", 1)[0]


def test_scan_lists_every_target_with_status_and_ducoid(rig, monkeypatch, capsys):
    out = run_menu(monkeypatch, capsys, "d")
    assert SCAN_LINE.findall(out) == [("%d" % a, "Ic ", ducoid_for(a)) for a in (20, 21, 22)]


def test_self_test_passes_with_nonce_50_and_the_spec_bytes(rig, monkeypatch, capsys, clock):
    start = clock.now
    out = run_menu(monkeypatch, capsys, "20th")
    ms = round(1000 * 51 / rig.bus.targets[0].hash_rate)  # nonce 50: 51 hashes
    rate = (1000 * 50 + ms // 2) // ms
    assert "self-test at 20: nonce 50 ela %d ms rat %d H/s PASS\n" % (ms, rate) in out
    assert letters(rig) == [b"A"] + SELF_TEST_BYTES
    assert clock.now - start < 1  # waited for C by polling the fake clock, about 0.3 s of it


def test_self_test_gives_up_on_a_target_that_never_finishes(rig, make, monkeypatch, capsys, clock):
    rig.bus.targets.append(make(25, hash_rate=0.001))
    start = clock.now
    out = run_menu(monkeypatch, capsys, "25th")
    assert "self-test at 25: no result after 5000 ms, Sta B?O FAIL\n" in out
    assert 5 <= clock.now - start < 6


def test_readdress_20_to_30_then_the_scan_shows_30_and_not_20(rig, monkeypatch, capsys):
    out = run_menu(monkeypatch, capsys, "20t30vd")
    moved = after(out, "I> 30v")
    assert "target 20 now answers at 30: put 30 in setup.txt\n" in moved
    assert [a for a, _, _ in SCAN_LINE.findall(moved)] == ["21", "22", "30"]
    final = {int(a): ducoid for a, _, ducoid in SCAN_LINE.findall(after(out, "I> d"))}
    assert sorted(final) == [21, 22, 30]
    assert final[30] == ducoid_for(20)  # the same chip, at its new address
    assert b"V30" in letters(rig)
    assert rig.bus.targets[0].eeprom == 30


@pytest.mark.parametrize("keys, refusal", [
    ("20t7v", "address 7 refused: 8..99"),
    ("20t120v", "address 120 refused: 8..99"),
    ("20t105v", "address 105 refused: 8..99"),  # V carries two digits: 105 would arrive as 10
    ("20t21v", "address 21 refused: already on the bus [20, 21, 22]"),
    ("30v", "no target selected: <n>t first"),
])
def test_readdress_refusals_send_no_v(rig, monkeypatch, capsys, keys, refusal):
    out = run_menu(monkeypatch, capsys, keys)
    assert refusal in out
    assert not [w for w in letters(rig) if w[:1] == b"V"]
    assert [t.addr for t in rig.bus.targets] == [20, 21, 22]


@pytest.mark.parametrize("letter", list("qwezhaAHLMNOS"))
def test_a_letter_for_the_target_without_one_says_so(rig, monkeypatch, capsys, letter):
    out = run_menu(monkeypatch, capsys, letter)
    assert after(out, "I> " + letter) == "no target selected: <n>t first\n"
    assert rig.writes == []


def test_an_absent_target_is_one_error_line_per_letter(rig, monkeypatch, capsys):
    out = run_menu(monkeypatch, capsys, "23t")
    assert after(out, "I> 23t") == "target 23\nI2C error ENODEV at 23\n"
    out = run_menu(monkeypatch, capsys, "23tqwezh40va")
    for keys in ("q", "w", "e", "z", "h", "40v", "a"):
        assert after(out, "I> " + keys) == "I2C error ENODEV at 23\n", keys


def test_a_chip_that_is_not_a_mini_pro_is_one_line_in_the_scan(rig, monkeypatch, capsys):
    rig.bus.targets.append(NotAMiniPro(60))
    out = run_menu(monkeypatch, capsys, "d")
    assert "60  Sta ???  " not in out
    assert "I2C error bad reply at 60\n" in out
    assert [a for a, _, _ in SCAN_LINE.findall(out)] == ["20", "21", "22"]


def test_queries_read_status_result_elapsed_and_ducoid(rig, monkeypatch, capsys):
    out = run_menu(monkeypatch, capsys, "21thqwez")
    ms = round(1000 * 51 / rig.bus.targets[1].hash_rate)
    assert after(out, "I> q") == "Sta C? \n"
    assert after(out, "I> w") == "res 50\n"
    assert after(out, "I> e") == "ela %d\n" % ms
    assert after(out, "I> z") == ducoid_for(21) + "\n"


def test_upper_case_letters_go_to_the_target_as_they_are(rig, make, monkeypatch, capsys):
    rig.bus.targets.append(make(24, hash_rate=1e6))  # done before the next key
    out = run_menu(monkeypatch, capsys, "24tALMNOHS")
    assert letters(rig) == [b"A"] + SELF_TEST_BYTES[1:] + [b"H"]
    assert after(out, "I> L") == "sent L\n"
    assert after(out, "I> S") == "Sta B?H\n"  # H queued: S answers at once, from the interrupt


def test_a_letter_for_a_hashing_target_is_one_error_line(rig, monkeypatch, capsys):
    # i2ct waits 10 S polls for a busy target, then gives up; the menu says so in one line
    out = run_menu(monkeypatch, capsys, "22tLMNOHS")
    assert after(out, "I> H") == "I2C error ETIMEDOUT at 22\n"
    assert after(out, "I> S") == "Sta B?O\n"
    assert b"H" not in letters(rig)


def test_number_then_letter_input(rig, monkeypatch, capsys):
    # digits are echoed after the prompt; blanks and line ends between them are ignored;
    # no number means 0; end of input leaves the menu
    out = run_menu(monkeypatch, capsys, "2 1\r\nt t ?")
    assert "I> 21t\ntarget 21\nSta Ic \n" in out
    assert "I> t\nno address 0 (1..127)\n" in out
    assert after(out, "I> ?") == i2cmenu.HELP + "\n"
    assert out.endswith("I> x\n")


def test_i_prints_free_heap_and_the_scan(rig, monkeypatch, capsys):
    out = run_menu(monkeypatch, capsys, "i")
    assert after(out, "I> i") == "Free 23456\nI2C scan [20, 21, 22]\n"


def test_the_bus_comes_from_setup_txt_when_it_has_an_i2c_line(rig, monkeypatch, capsys, tmp_path):
    (tmp_path / "setup.txt").write_text("rig R\ni2c   12 13 400000  # pins\n")
    assert run_menu(monkeypatch, capsys, "x").startswith("I2C scl 12 sda 13 400000 Hz\n")
    (tmp_path / "setup.txt").unlink()
    assert run_menu(monkeypatch, capsys, "x").startswith("I2C scl 5 sda 4 100000 Hz\n")


def test_i2ct_menu_loads_i2cmenu_only_when_called(rig, monkeypatch, capsys):
    import importlib
    monkeypatch.delitem(sys.modules, "i2cmenu")
    monkeypatch.delitem(sys.modules, "i2ct", raising=False)
    i2ct = importlib.import_module("i2ct")
    assert "i2cmenu" not in sys.modules
    monkeypatch.setattr(sys, "stdin", io.StringIO("d"))
    i2ct.menu(machine.I2C())
    assert len(SCAN_LINE.findall(capsys.readouterr().out)) == 3
    assert "i2cmenu" in sys.modules


def test_i2cmenu_compiles_with_mpy_cross_1_15():
    assert mpy_check.compile_errors(files=("i2cmenu.py",)) == {}


# -- the MicroPython unix port ---------------------------------------------------------------
def test_unix_port_bring_up_then_mining_at_the_new_address(tmp_path, emulator):
    bus = SimBus([MiniPro(a, hash_rate=4000.0) for a in (20, 21, 22)])
    server = bus_server.serve(bus)
    env = sim.device_env(server.server_address[1])
    try:
        out = io.StringIO()
        cmd = runner.command("import i2ct; i2ct.menu()")
        rc, _ = sim.run_keys(cmd, tmp_path, env, ["d", "20t", "h", "30v", "x"], 60, out, prompt="I> ")
        text = out.getvalue()
        assert rc == 0 and "Traceback" not in text, text[-2000:]
        assert SCAN_LINE.findall(after(text, "I> d")) == [
            ("%d" % a, "Ic ", ducoid_for(a)) for a in (20, 21, 22)]
        assert re.search(r"self-test at 20: nonce 50 ela \d+ ms rat \d+ H/s PASS\n", text), text
        moved = after(text, "I> 30v")
        assert "target 20 now answers at 30" in moved
        assert [a for a, _, _ in SCAN_LINE.findall(moved)] == ["21", "22", "30"]

        sim.write_setup(tmp_path, ("127.0.0.1", emulator.port), [30])
        out = io.StringIO()
        cmd = runner.command("import mydu")
        rc, _ = sim.run_keys(cmd, tmp_path, env, ["s", "40l", "x"], 120, out)
        text = out.getvalue()
        assert rc == 0 and "Traceback" not in text, text[-2000:]
        assert re.search(r"\*\*\* Targ  30 Sta  C\n(?:.*\n){2}GOOD\n", text), text[-2000:]
        assert emulator.stats.good > 0
    finally:
        server.shutdown()


def test_import_i2ct_keeps_the_menu_out_of_ram():
    cost = menu_cost.measure()
    assert cost["import i2ct loads i2cmenu"] is False
    assert cost["i2ct"] < cost["i2ct+i2cmenu"]
    assert cost["i2ct"] - cost["i2ct without menu()"] <= 256  # the hook: one small function
