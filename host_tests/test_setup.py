"""setup.txt parsing (setupfile.py, loaded by mydu at `s`): the shipped example parses, and every malformed line is named
by its number and what is wrong, before anything connects."""
from __future__ import annotations

from pathlib import Path

import pytest

import setupfile
from conftest import ROOT

GOOD = """rig Rig 42
user targon
wifi MySSID pw
pool 127.0.0.1 2811
20 I2C 20 AVR Miner (DUCO-S1A) v2.47
"""


@pytest.fixture
def mydu():
    return setupfile


def parse(mydu, tmp_path: Path, text: str | bytes):
    p = tmp_path / "setup.txt"
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return mydu.read_setup(str(p))


def test_shipped_example_parses(mydu):
    cfg = mydu.read_setup(str(ROOT / "setup.txt"))
    assert cfg["rig"] == "Rig 42" and cfg["user"] == "targon" and cfg["key"] == "None"
    assert cfg["pool"] == ("51.15.127.80", 2811)
    assert cfg["i2c"] == (5, 4, 100000)
    assert [a for a, _ in cfg["targets"]] == [20, 21, 22]
    assert cfg["targets"][0][1] == "I2C 20 AVR Miner (DUCO-S1A) v2.47"


@pytest.mark.parametrize("extra, message", [
    ("colour blue\n", "line 6: unknown setting colour"),
    ("user\n", "line 6: user has no value"),
    ("200 far away\n", "line 6: address 200 out of range 1..127"),
    ("0 zero\n", "line 6: address 0 out of range 1..127"),
    ("20 again\n", "line 6: address 20 twice"),
    ("pool onlyhost\n", "line 6: pool needs HOST PORT"),
    ("i2c 5 4 fast\n", "line 6: i2c needs SCL SDA FREQ as numbers"),
    ("wifi OnlySSID\n", "line 6: wifi needs SSID and password"),
    ("mode fast\n", "line 6: mode is block or poll"),
    ("autostart maybe\n", "line 6: autostart is yes or no"),
    ("rig R\u00e9sum\u00e9\n", "line 6: not plain ASCII"),
])
def test_malformed_line_is_named(mydu, tmp_path, extra, message):
    with pytest.raises(ValueError) as e:
        parse(mydu, tmp_path, GOOD + extra)
    assert str(e.value) == "setup.txt " + message


def test_undecodable_bytes_are_not_ascii(mydu, tmp_path):
    with pytest.raises(ValueError, match="line 1: not plain ASCII"):
        parse(mydu, tmp_path, b"rig \xff\xfe\n" + GOOD.encode())


@pytest.mark.parametrize("drop, message", [
    ("rig Rig 42\n", "setup.txt: no rig line"),
    ("user targon\n", "setup.txt: no user line"),
    ("20 I2C 20 AVR Miner (DUCO-S1A) v2.47\n", "setup.txt: no target lines"),
])
def test_missing_required_setting(mydu, tmp_path, drop, message):
    with pytest.raises(ValueError) as e:
        parse(mydu, tmp_path, GOOD.replace(drop, ""))
    assert str(e.value) == message


def test_comments_blank_lines_and_defaults(mydu, tmp_path):
    cfg = parse(mydu, tmp_path, "# a rig\n\n" + GOOD.replace("rig Rig 42", "rig Rig 42   # trailing"))
    assert cfg["rig"] == "Rig 42" and cfg["key"] == "None" and cfg["i2c"] == (5, 4, 100000)


def test_tabs_count_as_spaces(mydu, tmp_path):
    cfg = parse(mydu, tmp_path, GOOD.replace("user targon", "user\ttargon").replace("pool 127", "pool\t127"))
    assert cfg["user"] == "targon" and cfg["pool"] == ("127.0.0.1", 2811)
