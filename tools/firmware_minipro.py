"""The Mini Pro sketch's own core (target/minipro/duco_core.c), built for the host.

FirmwareMiniPro offers the bus interface of minipro_sim.MiniPro (attribute `addr`, one
call per transaction: write(data), read(n)), but every answer comes from the C code that
the AVR runs. This class plays the part of the sketch's .ino shell: it keeps the EEPROM
byte, calls the core's loop at the moments the sim's loop() would run, and supplies time.

Time: the real target takes as long as its hashes need; here the core finds the result at
once and this shell keeps the status busy until hashes / hash_rate seconds of the injected
clock have passed, then ends the hash with the core reading that simulated time. Tests
therefore advance a fake clock instead of sleeping, for this class and for MiniPro alike.

The library is built in two variants: "fast", the rounds the Mini Pro runs, and "compact",
the plain rounds the ATtiny85 build gets (duco_core.c, DUCO_COMPACT).
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

from minipro_sim import COMMAND_DELAY_S, DEFAULT_HASH_RATE, DUCOID_DELAY_S, ducoid_for

REPO = Path(__file__).resolve().parent.parent
CORE_DIR = REPO / "target" / "minipro"
CORE_SOURCE = CORE_DIR / "duco_core.c"
CORE_HEADER = CORE_DIR / "duco_core.h"
BUILD_DIR = REPO / "build" / "firmware-host"  # /build/ is git-ignored
WIRE_BUFFER = 32  # the Mini Pro's Wire receive buffer, letter included
MS_MASK = 0xFFFFFFFF  # millis() is a uint32_t on the AVR
# The core's two ways of hashing a nonce: the fast rounds the Mini Pro runs, and the compact
# ones the ATtiny85 gets (DUCO_COMPACT), built here too so that the tests can run both.
VARIANTS: dict[str, list[str]] = {"fast": [], "compact": ["-DDUCO_COMPACT=1"]}

_libs: dict[str, ctypes.CDLL] = {}


def library_path(variant: str = "fast") -> Path:
    return BUILD_DIR / ("libduco_core.so" if variant == "fast" else "libduco_core_%s.so" % variant)


def build_library(variant: str = "fast") -> Path:
    """Compile the core for the host when the library is missing or older than a source."""
    library = library_path(variant)
    newest = max(CORE_SOURCE.stat().st_mtime, CORE_HEADER.stat().st_mtime)
    if library.exists() and library.stat().st_mtime >= newest:
        return library
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    # build beside the target and rename, so two test processes never load half a file
    fd, tmp = tempfile.mkstemp(dir=BUILD_DIR, suffix=".so")
    os.close(fd)
    try:
        cc = os.environ.get("CC", "cc")
        subprocess.run(
            [cc, "-shared", "-fPIC", "-O2", "-Wall", *VARIANTS[variant], "-o", tmp, str(CORE_SOURCE)],
            check=True,
        )
        os.replace(tmp, library)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return library


def load_core(variant: str = "fast") -> ctypes.CDLL:
    """The core library with its function signatures declared, loaded once per process."""
    if variant in _libs:
        return _libs[variant]
    lib = ctypes.CDLL(str(build_library(variant)))
    p, u8, u16, u32 = ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32
    signatures: dict[str, tuple[list, object]] = {
        "duco_init": ([p, u8, ctypes.c_char_p], None),
        "duco_receive": ([p, ctypes.c_char_p, u8], None),
        "duco_reply": ([p, p, u8], u8),
        "duco_loop": ([p, u32], ctypes.c_char),
        "duco_work": ([p, u16], u8),
        "duco_finish": ([p, u32], None),
        "duco_addr_of_eeprom": ([u8], u8),
        "duco_is_small": ([u8], u8),
        "duco_addr": ([p], u8),
        "duco_set_addr": ([p, u8], None),
        "duco_hashing": ([p], u8),
        "duco_queued": ([p], u8),
        "duco_hashes": ([p], u16),
        "duco_size": ([], u16),
        "duco_search_size": ([], u16),
        "duco_status": ([p, p], None),
        "duco_sha1": ([ctypes.c_char_p, u16, p], None),
        "duco_search_start": ([p, ctypes.c_char_p, u8, ctypes.c_char_p, u8, u8], None),
        "duco_search_step": ([p, u16], u8),
        "duco_search_found": ([p], u16),
        "duco_search_tried": ([p], u16),
    }
    for name, (args, result) in signatures.items():
        func = getattr(lib, name)
        func.argtypes = args
        func.restype = result
    _libs[variant] = lib
    return lib


def core_sha1(message: bytes) -> bytes:
    """The core's own SHA-1, for checking it against hashlib."""
    digest = ctypes.create_string_buffer(20)
    load_core().duco_sha1(message, len(message), digest)
    return digest.raw


def core_search(last: str, expected: str, diff: int, variant: str = "fast") -> tuple[int, int]:
    """One search as the sketch's self-test runs it: (nonce found or 0, nonces hashed)."""
    lib = load_core(variant)
    search = ctypes.create_string_buffer(lib.duco_search_size())
    lib.duco_search_start(search, last.encode(), len(last), expected.encode(), len(expected), diff)
    while not lib.duco_search_step(search, 0):
        pass
    return lib.duco_search_found(search), lib.duco_search_tried(search)


class FirmwareMiniPro:
    """One target running the sketch's core; same bus interface as minipro_sim.MiniPro."""

    def __init__(
        self,
        addr: int,
        hash_rate: float = DEFAULT_HASH_RATE,
        clock: Callable[[], float] = time.monotonic,
        eeprom_addr: int | None = None,
        variant: str = "fast",
    ) -> None:
        self._lib = load_core(variant)
        eeprom = addr if eeprom_addr is None else eeprom_addr
        if not 0 <= eeprom <= 255:
            raise ValueError("EEPROM byte 0 holds 0..255, not %d" % eeprom)
        self.eeprom = eeprom
        self.hash_rate = hash_rate
        self.clock = clock
        self.addr = self._lib.duco_addr_of_eeprom(eeprom)
        # the AVR reads its id from the chip's serial bytes; here the sim's id per address
        self.ducoid = ducoid_for(self.addr)
        self._core = ctypes.create_string_buffer(self._lib.duco_size())
        self._lib.duco_init(self._core, self.addr, bytes.fromhex(self.ducoid[6:]))
        self._cmd_due = 0.0  # when the sketch's loop() picks up the queued letter
        self._hash_due: float | None = None  # when the running hash ends
        self._hash_start_ms = 0
        self._hash_ms = 0

    # -- the two bus transactions ---------------------------------------------------------
    def write(self, data: bytes) -> None:
        self._advance()
        data = bytes(data)[:WIRE_BUFFER]
        if not data:
            return
        self._lib.duco_receive(self._core, data, len(data))
        if self._lib.duco_queued(self._core) == data[0]:
            delay = DUCOID_DELAY_S if data[:1] == b"I" else COMMAND_DELAY_S
            self._cmd_due = self.clock() + delay

    def read(self, n: int) -> bytes:
        self._advance()
        out = ctypes.create_string_buffer(max(n, 1))
        got = self._lib.duco_reply(self._core, out, min(n, 255))
        return out.raw[:got] + b"\xff" * (n - got)

    def status(self) -> str:
        """The three status letters without a bus transaction (for debugging)."""
        out = ctypes.create_string_buffer(3)
        self._lib.duco_status(self._core, out)
        return out.raw.decode("latin-1")

    # -- the sketch's loop() ---------------------------------------------------------------
    def _advance(self) -> None:
        """Let the core do what the sketch's loop() would have done by now."""
        lib, core = self._lib, self._core
        now = self.clock()
        if self._hash_due is not None:
            if now < self._hash_due:
                return
            done_at, self._hash_due = self._hash_due, None
            lib.duco_finish(core, (self._hash_start_ms + self._hash_ms) & MS_MASK)
            self._cmd_due = max(self._cmd_due, done_at)
        if lib.duco_queued(core) and now >= self._cmd_due:
            now_ms = int(now * 1000) & MS_MASK
            ran = lib.duco_loop(core, now_ms)
            if ran == b"V":
                # the shell stores the new address in EEPROM and restarts the bus at it
                self.eeprom = lib.duco_addr(core)
            self.addr = lib.duco_addr(core)
            if lib.duco_hashing(core):
                self._run_hash(now, now_ms)

    def _run_hash(self, now: float, now_ms: int) -> None:
        """Search now; the status turns `C` once a real target would have finished."""
        while not self._lib.duco_work(self._core, 0):
            pass
        hashes = self._lib.duco_hashes(self._core)
        self._hash_start_ms = now_ms
        self._hash_ms = round(1000 * hashes / self.hash_rate)
        self._hash_due = now + hashes / self.hash_rate
