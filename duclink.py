# duclink.py - the socket side of one server connection: connect and read the banner, send one
# message, read its reply line, with the times taken. Blocking sockets with timeouts, as the rig
# this ports; select.poll can watch `sock` for the polling loop. duclas.Connection builds on it.
# Every fault is a DucoError whose text says what and where.
import socket
import time
import errno
from micropython import const

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


class Link:
    def __init__(self, pool):
        self.pool = pool  # (host, port)
        self.timeout = 10  # s, for connect and for every reply
        self.sock = None
        self.state = "D"
        self.banner = ""
        self.line = b""  # the reply being read
        self.sent_at = 0  # ticks_ms when the message in flight was sent
        self.zwi = 0  # ms of it spent in the send call itself

    def open(self):
        # TCP connect with the timeout, then the server's banner (a version, not a job)
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
            self.banner = banner.strip().decode()
            float(self.banner)
        except (ValueError, UnicodeError):
            self.close()
            raise DucoError("bad banner %r" % banner)

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.state = "D"

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

    def waited(self):
        # ms since the message in flight was sent
        return ticks_diff(ticks_ms(), self.sent_at)

    def broken(self, why):
        # the connection is gone: close it; the error to raise
        self.close()
        return DucoError(why)
