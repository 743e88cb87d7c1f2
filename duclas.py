# duclas.py - one Mini Pro's connection to the Duino-Coin server, with its timing counters.
# Blocking sockets with timeouts, as the rig this ports; select.poll can watch `sock` for the
# polling loop. Nothing here prints: every fault surfaces as one DucoError whose text says what
# and where ("I2C error ETIMEDOUT", "server error ECONNRESET", "no job: BAD,Too many workers");
# the caller writes the log.
import socket
import time
import errno
import hashlib
import binascii
from array import array
from micropython import const

# The counters of one connection, in one array (a few bytes each, not an attribute each):
# `c.n[ACCEPTED]`. Only `u` in the menu resets them; reconnects and `d` keep them.
REQUESTS = const(0)  # jobs received
REQ_WAIT = const(1)  # ms from sending JOB to the job, in total ("ReqWait")
REQ_SEND = const(2)  # ms of that spent in the send call itself ("ReqZwi")
RESULTS = const(3)  # feedbacks received
SND_WAIT = const(4)  # ms from sending a result to its feedback ("SndWait")
SND_SEND = const(5)  # ms of that spent in the send call ("SndZwi")
ACCEPTED = const(6)  # GOOD and BLOCK
REJECTED = const(7)  # BAD,...
BLOCKS = const(8)
FAULTS = const(9)  # target faults: bus errors, wrong nonces, hangs, lost jobs
LOST = const(10)  # results read from the target whose feedback never came
RECONNECTS = const(11)
CONNECTS = const(12)
HASHES = const(13)  # nonces the target searched, for its mean hash rate
HASH_MS = const(14)  # ms it took for them
COUNTERS = const(15)
_LINE_MAX = const(128)  # longest reply: a job is 84 characters

ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff


class DucoError(Exception):
    pass


class BusError(DucoError):
    # a fault on the I2C side: the caller may have to free the bus
    pass


def errname(e):
    # "ETIMEDOUT" for OSError(110); the text of anything else
    if isinstance(e, OSError) and e.args:
        if e.args[0] == errno.EAGAIN:  # a socket timeout on the unix port: ETIMEDOUT on the ESP
            return "ETIMEDOUT"
        return errno.errorcode.get(e.args[0], str(e.args[0]))
    return str(e)


def check_nonce(last, expected, nonce):
    # DUCO-S1: sha1(last + str(nonce)) == expected; well under 1 ms on the ESP
    h = hashlib.sha1(last)
    h.update(b"%d" % nonce)
    return binascii.hexlify(h.digest()) == expected.lower()


class Connection:
    def __init__(self, target, name, rig, user, key, pool):
        self.target = target  # i2ct.Target
        self.name = name  # bytes, as are rig, user, key
        self.rig = rig
        self.user = user
        self.key = key  # the mining key: sent to the server only, never printed
        self.pool = pool  # (host, port)
        self.timeout = 10  # s, for connect and for every reply
        self.sock = None
        self.state = "D"
        self.line = b""  # the reply being read; after a job, the job "last,expected,diff"
        self.sent_at = 0  # ticks_ms when the message in flight was sent
        self.zwi = 0  # ms of it spent in the send call itself
        self.ducoid = b""
        self.diff = 0
        self.retry_at = None  # ticks_ms before which the loop leaves this one alone after a fault
        self.job_at = 0  # ticks_ms when the target got its job, to notice one stuck busy
        self.nonce = 0  # the result in flight
        self.failures = 0  # faults of one kind in a row, for the back-off
        self.fault_kind = ""
        self.n = array("q", bytes(8 * COUNTERS))

    # -- the target's side ---------------------------------------------------------------
    def _bus(self, e):
        self.n[FAULTS] += 1
        return BusError("I2C error %s" % errname(e))

    def poll(self):
        # the target's run state letter; a B answer is counted in target.busy
        try:
            st = self.target.status()[0]
        except OSError as e:
            raise self._bus(e)
        if st == 66:  # B
            self.target.busy += 1
        return chr(st)

    def take_result(self):
        # after C: nonce and elapsed ms, then reset the target for the next job
        t = self.target
        try:
            nonce = t.number("R")
            ms = t.number("E")
            t.send("A")
        except (OSError, ValueError) as e:
            raise self._bus(e)
        self.n[HASHES] += nonce
        self.n[HASH_MS] += ms
        return nonce, ms

    def send_job(self):
        # write the job to the target; returns the ms it took ("Hashes sent")
        if self.diff > 99:
            self.state = "C"
            raise DucoError("difficulty %d does not fit the target, job skipped" % self.diff)
        t0 = ticks_ms()
        job = memoryview(self.line)  # nothing is sent between the job and its result
        try:
            self.target.send_job(job[:40], job[41:81], self.diff)
        except OSError as e:
            raise self._bus(e)
        self.state = "K"
        self.job_at = ticks_ms()
        return ticks_diff(ticks_ms(), t0)

    def unhang(self):
        # reset a target that stayed busy too long; its job goes to it again once it answers
        self.n[FAULTS] += 1
        if self.state != "D":
            self.state = "J"
        self.job_at = ticks_ms()  # the next complaint only after another whole period
        try:
            self.target.write("A")  # without waiting for it to be ready: a hung target never is
        except OSError as e:
            return self._bus(e)
        return BusError("busy too long, target reset")

    # -- the server's side ---------------------------------------------------------------
    def connect(self):
        # reset the target, read its DUCOID, connect, read the banner: state C. Returns the
        # banner, the server's version.
        self.close()
        t = self.target
        try:
            t.send("A")
            t.diff = 0  # a reset target is back at its default difficulty
            self.ducoid = t.ducoid()
        except (OSError, ValueError) as e:
            raise self._bus(e)
        try:
            s = socket.socket()  # on the ESP8266 this takes one of lwIP's 5 TCP blocks
            self.sock = s
            s.settimeout(self.timeout)
            s.connect(socket.getaddrinfo(self.pool[0], self.pool[1])[0][-1])
            banner = s.recv(5)  # "2.5\n": a short float, at most 5 bytes
        except OSError as e:
            self.close()
            raise DucoError("server error %s" % errname(e))
        try:
            banner = banner.strip().decode()
            float(banner)
        except (ValueError, UnicodeError):
            self.close()
            raise DucoError("bad banner %r" % banner)
        n = self.n
        if n[CONNECTS]:
            n[RECONNECTS] += 1
        n[CONNECTS] += 1
        self.state = "C"
        return banner

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.state = "D"

    def broken(self, why):
        # the connection is gone: close it; a result read from the target but not answered is
        # lost. Returns the error to raise.
        if self.state == "E":
            self.n[LOST] += 1
            why = "result %d lost, %s" % (self.nonce, why)
        self.close()
        return DucoError(why)

    # One message in flight per connection: send() it, then more() until its reply line is
    # complete. The blocking loop calls more() until it is; the polling loop calls it when
    # select.poll says data arrived. Either way got_job() or got_feedback() finishes it.
    def send(self, msg):
        try:
            self.sock.settimeout(self.timeout)  # `t` in the menu changes it between exchanges
            t0 = ticks_ms()
            self.sock.send(msg)
            self.zwi = ticks_diff(ticks_ms(), t0)  # ms in the send call itself
        except OSError as e:
            raise self.broken("server error %s" % errname(e))
        self.sent_at = t0
        self.line = b""

    def more(self):
        # read what has arrived; True once the reply line is complete
        try:
            chunk = self.sock.recv(_LINE_MAX - len(self.line))
        except OSError as e:
            raise self.broken("server error %s" % errname(e))
        if not chunk:
            raise self.broken("half line %r" % self.line[:40] if self.line else "server closed")
        self.line += chunk
        if self.line[-1:] == b"\n":
            return True
        if len(self.line) >= _LINE_MAX:
            raise self.broken("line too long %r" % self.line[:40])
        return False

    def ask_job(self):
        self.state = "R"
        self.send(b"JOB,%s,AVR,%s\n" % (self.user, self.key))

    def got_job(self):
        # the reply to JOB: "last,expected,diff"; returns the ms it took ("ReqJob took")
        took = ticks_diff(ticks_ms(), self.sent_at)
        n = self.n
        n[REQUESTS] += 1
        n[REQ_SEND] += self.zwi
        n[REQ_WAIT] += took
        self.line = line = self.line.strip()  # from here on the job: last at 0..40, expected at 41..81
        parts = line.split(b",")
        try:  # two hashes of 40 hex digits and a difficulty
            if len(parts) != 3 or len(parts[0]) != 40 or len(parts[1]) != 40 or not parts[2].isdigit():
                raise ValueError
            binascii.unhexlify(parts[0])
            binascii.unhexlify(parts[1])
        except ValueError:
            self.state = "C"
            raise DucoError("no job: %s" % line[:60].decode())
        self.diff = int(parts[2])
        self.state = "J"
        return took

    def ask_result(self, nonce, rate):
        # verify the result, then send it, with the target's hash rate unless rate is None
        if not check_nonce(self.line[:40], self.line[41:81], nonce):
            self.n[FAULTS] += 1
            self.state = "C"
            raise DucoError("wrong nonce %d from target, not submitted" % nonce)
        self.state = "E"
        self.nonce = nonce
        self.send(b"%d,%s,%s,%s,%s\n" % (nonce, b"" if rate is None else b"%d" % rate,
                                         self.name, self.rig, self.ducoid))

    def got_feedback(self):
        # GOOD, BLOCK or BAD,<reason>; returns (ms, feedback)
        took = ticks_diff(ticks_ms(), self.sent_at)
        line = self.line.strip()
        n = self.n
        n[RESULTS] += 1
        n[SND_SEND] += self.zwi
        n[SND_WAIT] += took
        self.state = "C"
        if line == b"GOOD" or line == b"BLOCK":
            n[ACCEPTED] += 1
            if line == b"BLOCK":
                n[BLOCKS] += 1
        else:
            n[REJECTED] += 1
        return took, line.decode()

    def reply(self):
        # the faithful loop's blocking wait: the reply to the message in flight, read and
        # finished (got_job's or got_feedback's result)
        while not self.more():
            pass
        return self.got_job() if self.state == "R" else self.got_feedback()
