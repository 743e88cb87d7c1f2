"""A bus wrapper that keeps every master write, to compare with the spec's bytes."""
from __future__ import annotations


class RecordingBus:
    def __init__(self, bus) -> None:
        self.bus = bus
        self.writes: list[bytes] = []

    def writeto(self, addr: int, data) -> None:
        self.writes.append(bytes(data))
        self.bus.writeto(addr, data)

    def readfrom(self, addr: int, n: int) -> bytes:
        return self.bus.readfrom(addr, n)

    def scan(self) -> list[int]:
        return self.bus.scan()

    def queued(self) -> list[bytes]:
        """The writes other than status polls."""
        return [w for w in self.writes if w not in (b"S", b"")]
