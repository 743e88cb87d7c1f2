# i2ct.py - one Mini Pro behind a machine.I2C: the letter protocol of the I2C target spec.
# Bus errors surface as OSError; the caller decides what to print.
import errno
import time
from micropython import const

_POLLS = const(10)  # S polls before a busy target is given up on (the original's 10)
_ID_MS = const(12)  # the target prepares its DUCOID in about 10 ms


class Target:
    def __init__(self, i2c, addr):
        self.i2c = i2c
        self.addr = addr
        self.busy = 0  # "Targ Busy": how often S answered B
        self.diff = 0  # difficulty last sent; 0: none yet, so the first job sends D
        self.st = bytearray(3)  # reused for every S, R, E reply
        self.num = bytearray(5)
        self.cmd = bytearray(21)  # a letter and up to 20 characters

    def _write(self, letter, data=b""):
        cmd = self.cmd
        cmd[0] = ord(letter)
        n = len(data)
        cmd[1:1 + n] = data
        self.i2c.writeto(self.addr, memoryview(cmd)[:1 + n])

    def force(self, letter, data=b""):
        # write a letter without waiting for the target to be ready (a hung target never is)
        self._write(letter, data)

    def status(self):
        # the 3 status bytes: run state, version/flag, queued letter
        self._write("S")
        self.i2c.readfrom_into(self.addr, self.st)
        return self.st

    def state(self):
        return chr(self.status()[0])

    def ready(self):
        # poll S until the target has carried out its queued letter; False if still busy
        for _ in range(_POLLS):
            if self.status()[0] != 66:  # not "B"
                return True
            self.busy += 1
            time.sleep_ms(1)
        return False

    def send(self, letter, data=b""):
        # a queued letter: only written once the target took the previous one
        if not self.ready():
            raise OSError(errno.ETIMEDOUT)  # as a bus timeout: the target is stuck
        self._write(letter, data)

    def _number(self, letter):
        self._write(letter)
        self.i2c.readfrom_into(self.addr, self.num)
        try:
            return int(bytes(self.num))  # 1.15's int() takes str and bytes, not bytearray
        except ValueError:  # garbage, e.g. 0xFF from a reply the target never prepared
            raise ValueError("%s answer not a number" % letter)

    def result(self):
        return self._number("R")

    def elapsed(self):
        return self._number("E")

    def ducoid(self):
        self.send("I")
        time.sleep_ms(_ID_MS)
        buf = bytearray(22)
        self.i2c.readfrom_into(self.addr, buf)
        if buf[:6] != b"DUCOID":
            raise ValueError("bad DUCOID")
        return bytes(buf)

    def reset(self):
        self.send("A")

    def hash_again(self):
        self.send("H")

    def set_diff(self, diff):
        self.send("D", b"%02d" % diff)
        self.diff = diff

    def set_address(self, addr):
        if not 1 <= addr <= 99:
            raise ValueError("V carries two digits: 1..99")
        self.send("V", b"%02d" % addr)
        self.addr = addr

    def send_job(self, last, expected, diff):
        # last and expected: 40 hex characters each, as bytes
        if diff != self.diff:
            self.set_diff(diff)
        if 50 <= self.addr <= 99:  # ATtiny85: 16-byte buffer, chunks of 14, 14, 12
            cuts = (0, 14, 28, 40)
            letters = "LMNOPQ"
        else:
            cuts = (0, 20, 40)
            letters = "LMNO"
        i = 0
        for h in (last, expected):
            for k in range(len(cuts) - 1):
                self.send(letters[i], memoryview(h)[cuts[k]:cuts[k + 1]])
                i += 1


def unstick(scl_pin, sda_pin):
    # A target reset in the middle of a byte can hold SDA low for ever, and no I2C transaction
    # gets through. Clock SCL until it lets go (at most nine pulses), then send a STOP.
    # Returns True when the bus was stuck. The caller re-inits its I2C afterwards.
    from machine import Pin
    sda = Pin(sda_pin, Pin.OPEN_DRAIN, value=1)
    if sda.value():
        return False
    scl = Pin(scl_pin, Pin.OPEN_DRAIN, value=1)
    for _ in range(9):
        scl(0)
        time.sleep_us(5)
        scl(1)
        time.sleep_us(5)
        if sda.value():
            break
    sda(0)  # STOP: SDA rises while SCL is high
    time.sleep_us(5)
    sda(1)
    return True


def menu(i2c=None):
    # the bring-up menu lives in its own module, loaded only when called
    import i2cmenu
    i2cmenu.menu(i2c)
