"""The device files as the ESP gets them: they compile with mpy-cross 1.15, and boot.py
brings WiFi up and keeps WebREPL off with the shipped placeholder password (unix port)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import micropython_runner as runner
import mpy_check
import sim
from conftest import ROOT


def test_every_device_file_compiles_with_mpy_cross_1_15():
    assert mpy_check.compile_errors() == {}


def test_mpy_cross_rejects_what_the_esp_would(tmp_path):
    bad = tmp_path / "fstring.py"
    bad.write_text('x = 1\nprint(f"{x}")\n')
    r = subprocess.run([str(mpy_check.MPY_CROSS), "-o", str(tmp_path / "x.mpy"), str(bad)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "SyntaxError" in r.stderr


def run_boot(folder: Path, password: str | None, wifi_down: bool = False) -> str:
    (folder / "setup.txt").write_text("wifi My Home Net secretpw\nrig R\n")
    if password is not None:
        (folder / "webrepl_cfg.py").write_text("PASS = %r\n" % password)
    env = sim.device_env(0)
    if wifi_down:
        env["WIFI_DOWN"] = "1"
    r = subprocess.run(runner.command("import boot"),
                       cwd=folder, env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.mark.parametrize("password", ["changeme", "abc", "tenletters", None])
def test_boot_keeps_webrepl_off_without_a_real_password(tmp_path, password):
    out = run_boot(tmp_path, password)
    assert "WiFi My Home Net up" in out
    assert "WebREPL off: webrepl_cfg.py needs a password of 4..9 characters" in out
    assert "WebREPL started" not in out


def test_boot_starts_webrepl_with_a_real_password_and_never_prints_it(tmp_path):
    out = run_boot(tmp_path, "s3cret")
    assert "WebREPL started" in out
    assert "s3cret" not in out and "secretpw" not in out


def test_shipped_webrepl_cfg_holds_the_placeholder():
    assert (ROOT / "webrepl_cfg.py").read_text().count('PASS = "changeme"') == 1


def test_boot_with_wifi_down_says_so_and_finishes(tmp_path):
    out = run_boot(tmp_path, "s3cret", wifi_down=True)
    assert "WiFi My Home Net not up yet (no access point of that name); the ESP keeps trying" in out
    assert "WebREPL started" in out  # the rest of boot goes on
