# A stand-in for MicroPython's `machine` on the host. I2C forwards every transaction to the
# simulated Mini Pros: on CPython straight to a SimBus object (tests set `machine.bus`), on
# the MicroPython unix port over a loopback socket to tools/bus_server.py, whose port is in
# DUCO_BUS. Only the client lives in the device's heap, as the real bus costs it nothing.
# Pin reads and drives the bus lines (SCL 5, SDA 4), so a stuck bus can be freed as on the ESP.
import os
import errno

bus = None  # a SimBus, set by CPython tests


def _line():
    # the wires behind Pin: the same bus object that I2C uses
    global bus
    if bus is None:
        bus = _SocketBus(int(os.getenv("DUCO_BUS")))
    return bus


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
            return _line().pin_read(self.n)
        _line().pin_write(self.n, 1 if v else 0)

    def __call__(self, v=None):
        return self.value(v)


class _SocketBus:
    def __init__(self, port):
        import socket
        self.s = socket.socket()
        self.s.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])

    def _ask(self, line):
        self.s.send(line)
        reply = b""
        while reply[-1:] != b"\n":
            chunk = self.s.recv(128)
            if not chunk:
                raise OSError(errno.EIO)
            reply += chunk
        if reply[:2] == b"E ":
            raise OSError(int(reply[2:]))
        return reply[3:-1]  # after "OK "

    def writeto(self, addr, data):
        self._ask(b"W %d %s\n" % (addr, bytes(data).hex()))

    def readfrom(self, addr, n):
        return bytes.fromhex(self._ask(b"R %d %d\n" % (addr, n)).decode())

    def scan(self):
        reply = self._ask(b"S\n")
        return [int(a) for a in reply.split()]

    def pin_write(self, n, v):
        self._ask(b"P %d %d\n" % (n, v))

    def pin_read(self, n):
        return int(self._ask(b"P %d -1\n" % n))


class I2C:
    def __init__(self, *args, scl=None, sda=None, freq=100000):
        self.freq = freq
        self.bus = _line()
        self.inits = 0

    def init(self, scl=None, sda=None, freq=100000):
        self.freq = freq
        self.inits += 1

    def writeto(self, addr, buf, stop=True):
        self.bus.writeto(addr, buf)
        return 1  # MicroPython returns the number of ACKs

    def readfrom(self, addr, n, stop=True):
        return self.bus.readfrom(addr, n)

    def readfrom_into(self, addr, buf, stop=True):
        data = self.bus.readfrom(addr, len(buf))
        buf[:] = data

    def scan(self):
        return self.bus.scan()
