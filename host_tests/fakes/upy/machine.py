# `machine` for the device code on the MicroPython unix port: I2C and Pin forward each bus
# transaction to the simulated Mini Pros in tools/bus_server.py (port in DUCO_BUS), one line
# each. Kept small: it sits in the device's heap, where the real machine module costs nothing.
import os
import usocket
from ubinascii import hexlify, unhexlify  # MicroPython 1.15 has no bytes.hex()

_link = None


def _ask(line):
    global _link
    if _link is None:
        _link = usocket.socket()
        _link.connect(usocket.getaddrinfo("127.0.0.1", int(os.getenv("DUCO_BUS")))[0][-1])
    _link.send(line)
    reply = b""
    while reply[-1:] != b"\n":
        chunk = _link.recv(128)
        if not chunk:
            raise OSError(5)  # EIO: the bus process is gone
        reply += chunk
    if reply[0] == 69:  # "E <errno>": the transaction failed as on the ESP
        raise OSError(int(reply[2:]))
    return reply[3:-1]  # after "OK "


class Pin:
    OPEN_DRAIN = 2
    OUT = 1
    IN = 0

    def __init__(self, n, mode=-1, value=None, **kw):
        self.n = n
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return int(_ask(b"P %d -1\n" % self.n))
        _ask(b"P %d %d\n" % (self.n, 1 if v else 0))

    __call__ = value


class I2C:
    def __init__(self, *args, **kw):
        self.inits = 0

    def init(self, *args, **kw):
        self.inits += 1

    def writeto(self, addr, buf, stop=True):
        _ask(b"W %d " % addr + hexlify(buf) + b"\n")
        return 1  # MicroPython returns the number of ACKs

    def readfrom(self, addr, n, stop=True):
        return unhexlify(_ask(b"R %d %d\n" % (addr, n)))

    def readfrom_into(self, addr, buf, stop=True):
        buf[:] = self.readfrom(addr, len(buf))

    def scan(self):
        return [int(a) for a in _ask(b"S\n").split()]
