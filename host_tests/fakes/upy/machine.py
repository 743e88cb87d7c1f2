# `machine` for the device code on the MicroPython unix port: I2C and Pin forward each bus
# transaction to the simulated Mini Pros in tools/bus_server.py (port in DUCO_BUS), one line
# each. On the ESP these are C and allocate nothing in the heap: so a transaction here is built
# and read in buffers made once, and costs the rig's heap nothing either.
import os
import usocket

_HEX = b"0123456789abcdef"
_out = bytearray(64)  # "W 20 " and up to 21 bytes as hex, or "R 20 22", and "\n"
_in = bytearray(64)  # "OK " and up to 22 bytes as hex, and "\n"
_one = bytearray(1)
_link = None


def _start(letter, addr):
    # "<letter> <addr> " into _out; returns where the next byte goes
    _out[0] = letter
    _out[1] = 32
    i = 2
    if addr >= 100:
        _out[i] = 48 + addr // 100
        i += 1
    if addr >= 10:
        _out[i] = 48 + addr // 10 % 10
        i += 1
    _out[i] = 48 + addr % 10
    _out[i + 1] = 32
    return i + 2


def _ask(n):
    # send _out[:n] (ending in "\n"), read the answer line into _in; returns its length.
    # "E <errno>" raises that OSError, as the ESP8266's I2C does.
    global _link
    try:
        if _link is None:
            _link = usocket.socket()
            _link.connect(usocket.getaddrinfo("127.0.0.1", int(os.getenv("DUCO_BUS")))[0][-1])
        _link.write(_out, n)
        k = 0
        while True:
            if not _link.readinto(_one, 1):
                raise OSError(5)  # EIO: the bus process is gone
            if _one[0] == 10:
                break
            _in[k] = _one[0]
            k += 1
    except BaseException:
        if _link is not None:  # half a transaction: start the next one on a fresh line
            _link.close()
            _link = None
        raise
    if _in[0] == 69:  # E
        raise OSError(int(bytes(_in[2:k])))
    return k


def _nibble(c):
    return c - 48 if c < 58 else c - 87


class Pin:
    OPEN_DRAIN = 2
    OUT = 1
    IN = 0

    def __init__(self, n, mode=-1, value=None, **kw):
        self.n = n
        if value is not None:
            self.value(value)

    def value(self, v=None):
        i = _start(80, self.n)  # P
        if v is None:
            _out[i:i + 3] = b"-1\n"
            _ask(i + 3)
            return _in[3] - 48  # "OK 0" or "OK 1"
        _out[i] = 49 if v else 48
        _out[i + 1] = 10
        _ask(i + 2)

    __call__ = value


class I2C:
    def __init__(self, *args, **kw):
        self.inits = 0

    def init(self, *args, **kw):
        self.inits += 1

    def writeto(self, addr, buf, stop=True):
        i = _start(87, addr)  # W
        for b in buf:
            _out[i] = _HEX[b >> 4]
            _out[i + 1] = _HEX[b & 15]
            i += 2
        _out[i] = 10
        _ask(i + 1)
        return 1  # MicroPython returns the number of ACKs

    def readfrom_into(self, addr, buf, stop=True):
        i = _start(82, addr)  # R
        n = len(buf)
        if n >= 10:
            _out[i] = 48 + n // 10
            i += 1
        _out[i] = 48 + n % 10
        _out[i + 1] = 10
        k = _ask(i + 2)
        if k != 3 + 2 * n:
            raise OSError(5)  # a short answer would be a bug of the bus service
        for j in range(n):
            buf[j] = _nibble(_in[3 + 2 * j]) << 4 | _nibble(_in[4 + 2 * j])

    def readfrom(self, addr, n, stop=True):
        buf = bytearray(n)
        self.readfrom_into(addr, buf)
        return bytes(buf)

    def scan(self):
        _out[0] = 83  # S
        _out[1] = 10
        k = _ask(2)
        return [int(a) for a in bytes(_in[3:k]).split()]
