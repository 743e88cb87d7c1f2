# `socket` for the device code on the unix port: the real sockets, but at most 5 open at once,
# as lwIP on the ESP8266 keeps (MEMP_NUM_TCP_PCB is 5): as there, making one more fails with
# OSError(ENOMEM). DUCO_TCP_LIMIT=0 lifts the limit (benchmarks of rigs no ESP8266 can hold).
# The sockets stay native objects, so select.poll works on them as on the device.
import os
import uselect
import usocket
from usocket import getaddrinfo, AF_INET, SOCK_STREAM  # noqa: F401  (the names duclas uses)

LIMIT = int(os.getenv("DUCO_TCP_LIMIT") or "5")
_POLLNVAL = 32  # poll's answer for a file number that is not open
_made = []


def _open(fd):
    # on 1.15 a closed socket keeps its number, so ask poll whether the number is still open
    p = uselect.poll()
    p.register(fd, uselect.POLLIN)
    return not any(ev[1] & _POLLNVAL for ev in p.poll(0))


def socket(*args):
    global _made
    # the blocks still taken: one per open file number (a closed one may be reused by a new
    # socket, so two objects can share a number: count it once)
    fds = []
    for s in _made:
        fd = s.fileno()
        if fd >= 0 and fd not in fds and _open(fd):
            fds.append(fd)
    _made = [s for s in _made if s.fileno() in fds]
    if LIMIT and len(fds) >= LIMIT:
        raise OSError(12)  # ENOMEM: lwIP has no free TCP control block
    s = usocket.socket(*args)
    _made.append(s)
    return s
