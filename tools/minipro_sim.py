"""Simulated Mini Pros on a simulated I2C bus, speaking the I2C letter protocol of docs/protocol.md.

A MiniPro answers `S`, `R`, `E` at once (the sketch's receive interrupt) and queues every
other letter for its main loop. It really hashes (DUCO-S1A, SHA-1) when `O` (or `Q` on a
small target) arrives, but reports busy until the time a real 16 MHz Mini Pro would need
has passed on its clock. The clock is injected, so tests advance time instead of sleeping.

A target is driven with two calls, one per bus transaction: write(data) for a master
write, read(n) for a master read. The firmware core wrapper offers the same two calls,
so every bus-level test can run against either.
"""
from __future__ import annotations

import errno
import hashlib
import threading
import time
from typing import Callable, Protocol

from ducos1 import find_nonce

DEFAULT_HASH_RATE = 160.0  # H/s of a 16 MHz ATmega328P running DUCO-S1A
COMMAND_DELAY_S = 0.0005  # a queued letter waits for the sketch's loop() to pick it up
DUCOID_DELAY_S = 0.010  # `I`: "22 bytes after about 10 ms"
VERSION_LETTER = "c"
QUEUED = "AILMNOPQHDV"


class BusTarget(Protocol):
    addr: int

    def write(self, data: bytes) -> None: ...

    def read(self, n: int) -> bytes: ...


def ducoid_for(addr: int) -> str:
    """A stable, unique chip id per simulated target."""
    return "DUCOID" + hashlib.sha1(b"minipro%d" % addr).hexdigest()[:16].upper()


def two_digits(args: str) -> bool:
    """ASCII digits only: str.isdigit() would take "²", which the sketch's parser does not."""
    return len(args) >= 2 and all(c in "0123456789" for c in args[:2])


def is_small(addr: int) -> bool:
    """Addresses 50..99 are ATtiny85 targets with a 16-byte Wire buffer."""
    return 50 <= addr <= 99


class MiniPro:
    """One simulated target. Not thread-safe by itself: SimBus serialises access."""

    def __init__(
        self,
        addr: int,
        hash_rate: float = DEFAULT_HASH_RATE,
        clock: Callable[[], float] = time.monotonic,
        eeprom_addr: int | None = None,
    ) -> None:
        # EEPROM byte 0 holds the address; above 127 (erased) means 4.
        self.eeprom = addr if eeprom_addr is None else eeprom_addr
        self.addr = self.eeprom if self.eeprom <= 127 else 4
        self.hash_rate = hash_rate
        self.clock = clock
        self.ducoid = ducoid_for(self.addr)
        self.run_state = "I"
        self.flag = VERSION_LETTER
        self.pending = " "
        self.queued = ""  # the letter waiting for loop(), "" when none
        self.pending_args = ""
        self.cmd_due = 0.0  # when loop() will have run the queued letter
        self.hash_due: float | None = None  # when the running hash ends
        self.chunks = ["", "", "", "", "", ""]
        self.diff = 10
        self.result = 0
        self.elapsed_ms = 0
        self.reply = b""
        self.jobs_started = 0
        self.hashing: list[tuple[float, float]] = []  # (start, end) of each hash, for duty cycles
        # fault switches, for tests and the soak
        self.hang = False  # stays B for ever: loop() never comes back
        self.wrong_nonce = False  # reports a nonce one above the right one
        self.garbage = False  # R and E answer non-digits

    # -- the two bus transactions ---------------------------------------------------------
    def write(self, data: bytes) -> None:
        self._advance()
        if not data:
            return
        letter = chr(data[0])
        if letter == "S":
            state = "B" if self.hang else self.run_state  # a hung loop() never gets to finish
            self.reply = (state + self.flag + self.pending).encode()
        elif letter == "R":
            self.reply = b"  x?!" if self.garbage else b"%5d" % (self.result + self.wrong_nonce)
        elif letter == "E":
            self.reply = b"#####" if self.garbage else b"%5d" % self.elapsed_ms
        elif letter in QUEUED:
            # one slot, as in the sketch: a second letter before the first ran replaces it
            self.queued = self.pending = letter
            self.pending_args = data[1:].decode("latin-1")
            self.run_state = "B"
            self.cmd_due = self.clock() + (DUCOID_DELAY_S if letter == "I" else COMMAND_DELAY_S)
        # an unknown letter is ignored, as the sketch's switch has no default

    def read(self, n: int) -> bytes:
        self._advance()
        out = self.reply[:n]
        return out + b"\xff" * (n - len(out))

    # -- the sketch's loop() ---------------------------------------------------------------
    def power_cycle(self) -> None:
        """A brown-out: the sketch starts again, idle, its job and queue gone."""
        self.__init__(self.eeprom, self.hash_rate, self.clock)

    def busy_seconds(self, start: float, end: float) -> float:
        """How long this target hashed between start and end (its clock)."""
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in self.hashing)

    def _advance(self) -> None:
        """Carry out what the sketch's loop() would have done by now."""
        if self.hang:
            return
        now = self.clock()
        if self.hash_due is not None:
            if now < self.hash_due:
                return
            done_at, self.hash_due = self.hash_due, None
            self.run_state = "B" if self.queued else "C"
            if self.pending == "O" and not self.queued:
                self.pending = " "
            # a letter queued during the hash runs once the hash is over
            self.cmd_due = max(self.cmd_due, done_at)
        if self.queued and now >= self.cmd_due:
            letter, args = self.queued, self.pending_args
            self.queued = ""
            self.pending = " "
            self.run_state = "I"
            self.flag = "?"
            self._run(letter, args, now)

    def _run(self, letter: str, args: str, now: float) -> None:
        if letter == "A":
            self.flag = VERSION_LETTER
        elif letter == "I":
            self.reply = self.ducoid.encode()
        elif letter == "D":
            if two_digits(args):
                self.diff = int(args[:2])
        elif letter == "V":
            if two_digits(args):
                self.eeprom = int(args[:2])
                self.addr = self.eeprom if self.eeprom <= 127 else 4
        elif letter in "LMNOPQ":
            self.chunks["LMNOPQ".index(letter)] = args
            start = "Q" if is_small(self.addr) else "O"
            if letter == start:
                self._start_hash(now)
        elif letter == "H":
            self._start_hash(now)

    def job(self) -> tuple[str, str]:
        if is_small(self.addr):
            return "".join(self.chunks[0:3]), "".join(self.chunks[3:6])
        return "".join(self.chunks[0:2]), "".join(self.chunks[2:4])

    def _start_hash(self, now: float) -> None:
        last, expected = self.job()
        self.result = find_nonce(last, expected, self.diff)
        hashes = self.result + 1 if self.result else 100 * self.diff + 1
        self.elapsed_ms = round(1000 * hashes / self.hash_rate)
        self.jobs_started += 1
        self.run_state = "B"
        self.pending = "O"
        self.hash_due = now + hashes / self.hash_rate
        self.hashing.append((now, self.hash_due))


class SimBus:
    """The wires: routes each transaction to the target answering at that address.

    `stuck` models a target that holds SDA low (reset in the middle of a byte): every
    transaction then times out until SCL has been pulsed that many times. Pins 5 and 4 are
    SCL and SDA, as in setup.txt's default `i2c 5 4 100000`.
    """

    SCL, SDA = 5, 4

    def __init__(self, targets: list[BusTarget] | None = None) -> None:
        self.targets = list(targets or [])
        self.lock = threading.Lock()
        self.stuck = 0  # SCL pulses still needed before SDA is released
        self.scl = 1
        self.pulses = 0  # SCL pulses seen, for tests

    def pin_write(self, pin: int, value: int) -> None:
        with self.lock:
            if pin == self.SCL:
                if value and not self.scl:  # a rising edge: one clock for the stuck target
                    self.pulses += 1
                    self.stuck = max(0, self.stuck - 1)
                self.scl = value

    def pin_read(self, pin: int) -> int:
        with self.lock:
            if pin == self.SDA:
                return 0 if self.stuck else 1
            return self.scl

    def _at(self, addr: int) -> BusTarget:
        if self.stuck:
            raise OSError(errno.ETIMEDOUT, "SDA held low")
        for target in self.targets:
            if target.addr == addr:
                return target
        raise OSError(errno.ENODEV, "no target at %d" % addr)

    def writeto(self, addr: int, data: bytes) -> None:
        with self.lock:
            self._at(addr).write(bytes(data))

    def readfrom(self, addr: int, n: int) -> bytes:
        with self.lock:
            return self._at(addr).read(n)

    def scan(self) -> list[int]:
        with self.lock:
            if self.stuck:
                return []  # nothing can answer while SDA is held low
            for target in self.targets:
                target.write(b"")  # a scan's empty write; the target may move on meanwhile (V)
            return sorted(t.addr for t in self.targets)
