"""DUCO-S1 on the host: make jobs with a known nonce, find and check nonces.

Shared by the server emulator and the simulated Mini Pros so both sides of the
simulation agree with the real algorithm: sha1(last + str(nonce)) == expected.
"""
from __future__ import annotations

import hashlib
import random


def duco_hash(last: str, nonce: int) -> str:
    return hashlib.sha1((last + str(nonce)).encode("ascii")).hexdigest()


def find_nonce(last: str, expected: str, diff: int) -> int:
    """The target's search: 0..100*diff inclusive; 0 when nothing matches."""
    expected = expected.lower()
    base = hashlib.sha1(last.encode("ascii"))
    for nonce in range(100 * diff + 1):
        h = base.copy()
        h.update(str(nonce).encode("ascii"))
        if h.hexdigest() == expected:
            return nonce
    return 0


def make_job(diff: int, rng: random.Random) -> tuple[str, str, int]:
    """A real job: a random last-block hash and the hash of a nonce in 1..100*diff."""
    last = "%040x" % rng.getrandbits(160)
    nonce = rng.randint(1, 100 * diff)
    return last, duco_hash(last, nonce), nonce
