# `socket` for the device code on the unix port: the real sockets, but at most 5 open at once,
# as lwIP on the ESP8266 keeps (MEMP_NUM_TCP_PCB is 5): as there, making one more fails with
# OSError(ENOMEM). DUCO_TCP_LIMIT=0 lifts the limit (benchmarks of rigs no ESP8266 can hold).
# The sockets stay native objects, so select.poll works on them as on the device.
import os
import usocket
from usocket import getaddrinfo, AF_INET, SOCK_STREAM  # noqa: F401  (the names duclas uses)

LIMIT = int(os.getenv("DUCO_TCP_LIMIT") or "5")
_made = []


def socket(*args):
    global _made
    _made = [s for s in _made if s.fileno() >= 0]  # a closed socket has given its block back
    if LIMIT and len(_made) >= LIMIT:
        raise OSError(12)  # ENOMEM: lwIP has no free TCP control block
    s = usocket.socket(*args)
    _made.append(s)
    return s
