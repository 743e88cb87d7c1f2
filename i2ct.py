# i2ct.py - one Mini Pro behind a machine.I2C: the letter protocol of the I2C target spec.
# Bus errors surface as OSError; the caller decides what to print.
import errno
import time
from micropython import const

_POLLS = const(10)  # S polls before a busy target is given up on (the original's 10)
_ID_MS = const(12)  # the target prepares its DUCOID in about 10 ms
# Every transaction is over before the next starts, so all targets share these buffers.
_cmd = bytearray(21)  # a letter and up to 20 characters
_num = bytearray(5)  # an R or E reply


class Target:
    # One method per kind of exchange; the letters themselves are the protocol's: send("A")
    # resets, number("R") reads the result, number("E") the elapsed ms.
    def __init__(self, i2c, addr):
        self.i2c = i2c
        self.addr = addr
        self.busy = 0  # "Targ Busy": how often S answered B
        self.diff = 0  # difficulty last sent; 0: none yet, so the first job sends D
        self.st = bytearray(3)  # this target's last S reply, reused for every S

    def write(self, letter, data=b""):
        # a letter, written at once: for S, and for A to a hung target, which is never ready
        _cmd[0] = ord(letter)
        n = len(data)
        _cmd[1:1 + n] = data
        self.i2c.writeto(self.addr, memoryview(_cmd)[:1 + n])

    def status(self):
        # the 3 status bytes: run state, version/flag, queued letter
        self.write("S")
        self.i2c.readfrom_into(self.addr, self.st)
        return self.st

    def send(self, letter, data=b""):
        # a queued letter: written once S says the target carried out the previous one; a
        # target still busy after 10 polls 1 ms apart is stuck, which reads as a bus timeout
        for _ in range(_POLLS):
            if self.status()[0] != 66:  # not "B"
                self.write(letter, data)
                return
            self.busy += 1
            time.sleep_ms(1)
        raise OSError(errno.ETIMEDOUT)

    def number(self, letter):
        # R (the nonce) or E (the ms it took): up to 5 digits
        self.write(letter)
        self.i2c.readfrom_into(self.addr, _num)
        try:
            return int(bytes(_num))  # 1.15's int() takes str and bytes, not bytearray
        except ValueError:  # garbage, e.g. 0xFF from a reply the target never prepared
            raise ValueError("%s answer not a number" % letter)

    def ducoid(self):
        self.send("I")
        time.sleep_ms(_ID_MS)
        buf = bytearray(22)
        self.i2c.readfrom_into(self.addr, buf)
        if buf[:6] != b"DUCOID":
            raise ValueError("bad DUCOID")
        return bytes(buf)

    def send_job(self, last, expected, diff):
        # last and expected: 40 hex characters each, as bytes; D only when the difficulty changed
        if diff != self.diff:
            self.send("D", b"%02d" % diff)
            self.diff = diff
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


def menu(i2c=None):
    # the bring-up menu lives in its own module, loaded only when called
    import i2cmenu
    i2cmenu.menu(i2c)
