"""A clock that moves only when told, shared by the device code's `time` and the Mini Pros.

On CPython the device code's time.ticks_ms/ticks_diff/ticks_add/sleep_ms are installed from
here, so sleep_ms advances the clock instead of sleeping and a simulated hash "takes" its time
without a test ever waiting for it.
"""
from __future__ import annotations

import select as select_module
import time


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0  # seconds; MiniPro reads it through __call__

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def ticks_ms(self) -> int:
        return int(self.now * 1000) & 0x3FFFFFFF  # wraps as on the ESP8266

    def sleep_ms(self, ms: int) -> None:
        self.advance(ms / 1000)

    def sleep_us(self, us: int) -> None:
        self.advance(us / 1e6)


def ticks_diff(a: int, b: int) -> int:
    half = 0x20000000
    return ((a - b + half) & 0x3FFFFFFF) - half


def ticks_add(a: int, delta: int) -> int:
    return (a + delta) & 0x3FFFFFFF


def install(clock: FakeClock) -> None:
    """Give CPython's time module the MicroPython names, driven by `clock`."""
    time.ticks_ms = clock.ticks_ms  # type: ignore[attr-defined]
    time.sleep_ms = clock.sleep_ms  # type: ignore[attr-defined]
    time.sleep_us = clock.sleep_us  # type: ignore[attr-defined]
    time.ticks_diff = ticks_diff  # type: ignore[attr-defined]
    time.ticks_add = ticks_add  # type: ignore[attr-defined]


class FakeSelect:
    """select for the polling loop on CPython: the real poll, except that a wait for nothing
    moves the fake clock on instead of the wall clock (after a short real look, so replies
    from servers on loopback are still seen)."""

    POLLIN = select_module.POLLIN

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def poll(self) -> "FakePoll":
        return FakePoll(self.clock)


class FakePoll:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.real = select_module.poll()
        self.fds: dict[int, int] = {}  # id(obj) -> its file number when registered

    def register(self, obj, mask=select_module.POLLIN) -> None:
        fd = obj if isinstance(obj, int) else obj.fileno()
        self.fds[id(obj)] = fd
        self.real.register(fd, mask)

    def unregister(self, obj) -> None:
        # by the number it had: a socket closed since then has none any more
        self.real.unregister(self.fds.pop(id(obj)))

    def ipoll(self, timeout_ms: int = -1) -> list:
        return self.poll(timeout_ms)

    def poll(self, timeout_ms: int = -1) -> list:
        events = self.real.poll(min(timeout_ms, 5) if timeout_ms > 0 else 0)
        if not events and timeout_ms > 0:
            self.clock.advance(timeout_ms / 1000)
        return events
