"""Shared set-up: device files, tools and fakes importable; one fake clock per test."""
from __future__ import annotations

import importlib
import io
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tools", ROOT / "host_tests" / "fakes"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import clock as fake_clock  # noqa: E402  (from host_tests/fakes)
import machine  # noqa: E402  (the fake)
import micropython_runner  # noqa: E402
from duco_server import Emulator  # noqa: E402

_clock = fake_clock.FakeClock()
fake_clock.install(_clock)  # before any device module binds time.ticks_ms


def pytest_sessionstart(session) -> None:
    """The rigs' interpreter and the board's .mpy files, built before any test runs device code."""
    micropython_runner.ensure_built()


@pytest.fixture
def clock() -> fake_clock.FakeClock:
    """The clock of the device code's time module and of the simulated Mini Pros."""
    return _clock


@pytest.fixture
def emulator():
    emu = Emulator(seed=7).start()
    yield emu
    emu.stop()


@pytest.fixture
def sim_bus(clock):
    """Install a SimBus as the bus behind machine.I2C; tests add Mini Pros to .targets."""
    from minipro_sim import SimBus

    bus = SimBus()
    machine.bus = bus
    yield bus
    machine.bus = None


def import_mydu():
    """mydu shows its menu at import, as on the ESP; end of input leaves it at once."""
    sys.modules.pop("mydu", None)
    sys.modules.pop("pollloop", None)  # the loops hold the mydu they were imported with
    sys.modules.pop("blockloop", None)
    saved = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        return importlib.import_module("mydu")
    finally:
        sys.stdin = saved


def fake_loop_waits(monkeypatch, mode: str, clock) -> None:
    """The loop of `mode` waits on the fake clock: its idle waits move it instead of sleeping."""
    from clock import FakeSelect

    module = importlib.import_module("pollloop" if mode == "poll" else "blockloop")
    monkeypatch.setattr(module, "select", FakeSelect(clock))


@pytest.fixture(params=["model", "firmware"])
def minipro_cls(request):
    """Each bus scenario runs against the Python model and against our sketch's own core."""
    if request.param == "firmware":
        from firmware_minipro import FirmwareMiniPro

        return FirmwareMiniPro
    from minipro_sim import MiniPro

    return MiniPro


def request_job(c) -> int:
    """JOB and its reply, as the faithful loop waits for it: the ms it took."""
    c.ask_job()
    return c.reply()


def submit(c, nonce: int, rate: int | None) -> tuple[int, str]:
    """A result and its feedback, as the faithful loop waits for them: (ms, feedback)."""
    c.ask_result(nonce, rate)
    return c.reply()
