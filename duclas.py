# duclas.py - one Mini Pro's connection to the Duino-Coin server, with its timing counters.
# The socket side is duclink.Link. Nothing here prints: every fault surfaces as one DucoError
# whose text says what and where ("I2C error ETIMEDOUT", "server error ECONNRESET",
# "no job: BAD,Too many workers"); the caller writes the log.
import hashlib
import binascii
from duclink import Link, DucoError, BusError, errname, ticks_ms, ticks_diff  # noqa: F401


def _hex40(b):
    if len(b) != 40:
        return False
    try:
        binascii.unhexlify(b)
    except ValueError:
        return False
    return True


def check_nonce(last, expected, nonce):
    # DUCO-S1: sha1(last + str(nonce)) == expected; well under 1 ms on the ESP
    h = hashlib.sha1(last)
    h.update(b"%d" % nonce)
    return binascii.hexlify(h.digest()) == expected.lower()


class Connection(Link):
    def __init__(self, target, name, rig, user, key, pool):
        Link.__init__(self, pool)
        self.target = target  # i2ct.Target
        self.name = name  # bytes, as are rig, user, key
        self.rig = rig
        self.user = user
        self.key = key  # the mining key: sent to the server only, never printed
        self.send_rate = False  # the ported rigs leave the hashrate for the server to compute
        self.ducoid = b""
        self.last = b""
        self.expected = b""
        self.diff = 0
        self.retry_at = None  # ticks_ms before which the loop leaves this one alone after a fault
        self.job_at = 0  # ticks_ms when the target got its job, to notice one stuck busy
        self.nonce = 0  # the result in flight
        self.failures = 0  # faults of one kind in a row, for the back-off
        self.fault_kind = ""
        self.zero()

    def zero(self):
        # statistics: ms totals and counts; only `u` in the menu resets them
        self.requests = 0
        self.req_wait = 0
        self.req_send = 0
        self.results = 0
        self.snd_wait = 0
        self.snd_send = 0
        self.accepted = 0
        self.rejected = 0
        self.blocks = 0
        self.faults = 0
        self.lost = 0
        self.reconnects = 0
        self.connects = 0

    # -- the target's side ---------------------------------------------------------------
    def _bus(self, e):
        self.faults += 1
        return BusError("I2C error %s" % errname(e))

    def poll(self):
        # the target's run state letter; a B answer is counted in target.busy
        try:
            st = self.target.state()
        except OSError as e:
            raise self._bus(e)
        if st == "B":
            self.target.busy += 1
        return st

    def take_result(self):
        # after C: nonce and elapsed ms, then reset the target for the next job
        t = self.target
        try:
            nonce = t.result()
            ms = t.elapsed()
            t.reset()
        except (OSError, ValueError) as e:
            raise self._bus(e)
        return nonce, ms

    def send_job(self):
        # write the job to the target; returns the ms it took ("Hashes sent")
        if self.diff > 99:
            self.state = "C"
            raise DucoError("difficulty %d does not fit the target, job skipped" % self.diff)
        t0 = ticks_ms()
        try:
            self.target.send_job(self.last, self.expected, self.diff)
        except OSError as e:
            raise self._bus(e)
        self.state = "K"
        self.job_at = ticks_ms()
        return ticks_diff(ticks_ms(), t0)

    def overdue(self):
        # busy far longer than a whole job's range takes at 50 H/s: the target hangs
        return ticks_diff(ticks_ms(), self.job_at) > 20 * (100 * self.diff + 1) + 5000

    def unhang(self):
        # reset a target that stayed busy too long; its job goes to it again once it answers
        self.faults += 1
        if self.state != "D":
            self.state = "J"
        self.job_at = ticks_ms()  # the next complaint only after another whole period
        try:
            self.target.force("A")
        except OSError as e:
            return self._bus(e)
        return BusError("busy too long, target reset")

    # -- the server's side ---------------------------------------------------------------
    def connect(self):
        # reset the target, read its DUCOID, connect, read the banner: state C
        self.close()
        t = self.target
        try:
            t.reset()
            t.diff = 0  # a reset target is back at its default difficulty
            self.ducoid = t.ducoid()
        except (OSError, ValueError) as e:
            raise self._bus(e)
        self.open()
        if self.connects:
            self.reconnects += 1
        self.connects += 1
        self.state = "C"

    def broken(self, why):
        # the connection is gone; a result read from the target but not answered is lost
        if self.state == "E":
            self.lost += 1
            why = "result %d lost, %s" % (self.nonce, why)
        return Link.broken(self, why)

    def ask_job(self):
        self.state = "R"
        self.send(b"JOB,%s,AVR,%s\n" % (self.user, self.key))

    def got_job(self):
        # the reply to JOB: "last,expected,diff"; returns the ms it took ("ReqJob took")
        took = self.waited()
        self.requests += 1
        self.req_send += self.zwi
        self.req_wait += took
        parts = self.line.strip().split(b",")
        if len(parts) != 3 or not _hex40(parts[0]) or not _hex40(parts[1]) or not parts[2].isdigit():
            self.state = "C"
            raise DucoError("no job: %s" % self.line.strip()[:60].decode())
        self.last, self.expected, self.diff = parts[0], parts[1], int(parts[2])
        self.state = "J"
        return took

    def ask_result(self, nonce, rate):
        # verify the result, then send it
        if not check_nonce(self.last, self.expected, nonce):
            self.faults += 1
            self.state = "C"
            raise DucoError("wrong nonce %d from target, not submitted" % nonce)
        self.state = "E"
        self.nonce = nonce
        self.send(b"%d,%s,%s,%s,%s\n" % (nonce, b"%d" % rate if self.send_rate else b"",
                                         self.name, self.rig, self.ducoid))

    def got_feedback(self):
        # GOOD, BLOCK or BAD,<reason>; returns (ms, feedback)
        took = self.waited()
        line = self.line.strip()
        self.results += 1
        self.snd_send += self.zwi
        self.snd_wait += took
        self.state = "C"
        if line == b"GOOD":
            self.accepted += 1
        elif line == b"BLOCK":
            self.accepted += 1
            self.blocks += 1
        else:
            self.rejected += 1
        return took, line.decode()

    # -- the blocking exchanges of the faithful loop ---------------------------------------
    def request_job(self):
        self.ask_job()
        while not self.more():
            pass
        return self.got_job()

    def submit(self, nonce, rate):
        self.ask_result(nonce, rate)
        while not self.more():
            pass
        return self.got_feedback()
