# `machine` for the device code on CPython: I2C and Pin go straight to a SimBus object that the
# test installs as `machine.bus` (tools/minipro_sim.py). On the MicroPython unix port the
# device code gets upy/machine.py instead, which reaches the same SimBus over a socket.
bus = None  # a SimBus (or a wrapper of one), set by the tests


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
            return bus.pin_read(self.n)
        bus.pin_write(self.n, 1 if v else 0)

    __call__ = value


class I2C:
    def __init__(self, *args, scl=None, sda=None, freq=100000):
        self.freq = freq
        self.bus = bus
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
        buf[:] = self.bus.readfrom(addr, len(buf))

    def scan(self):
        return self.bus.scan()
