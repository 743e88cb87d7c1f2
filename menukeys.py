# menukeys.py - mydu's keys that mining does not need: o overview, i statistics, d drop,
# c connect, m one step, q status, w result, t timeout, u zero, and the help line.
# mydu loads this for one key and drops it again, so the mining loop never holds it in RAM.
import gc
import mydu
from duclas import DucoError, errname
from duclas import REQUESTS, REQ_WAIT, REQ_SEND, RESULTS, SND_WAIT, SND_SEND, ACCEPTED, REJECTED
from duclas import BLOCKS, FAULTS, LOST, RECONNECTS

HELP = "s start, <n>l loop, x exit, <n>d drop, o overview, i stats, c m q w <n>, <n>t timeout, u v h"


def _per(total, count):
    return total // count if count else 0


def stats(c):
    n = c.n
    print("Target %d  Connected %s" % (c.target.addr, c.state != "D"))
    print("Name >%s<" % c.name.decode())
    print("Requests  %d" % n[REQUESTS])
    print("ReqWait  %d  per  %d" % (n[REQ_WAIT], _per(n[REQ_WAIT], n[REQUESTS])))
    print("ReqZwi  %d  per  %d" % (n[REQ_SEND], _per(n[REQ_SEND], n[REQUESTS])))
    print("SndWait  %d  per  %d" % (n[SND_WAIT], _per(n[SND_WAIT], n[RESULTS])))
    print("SndZwi  %d  per  %d" % (n[SND_SEND], _per(n[SND_SEND], n[RESULTS])))
    print("Targ Busy  %d" % c.target.busy)
    print("Accepted  %d  Rejected  %d  Blocks  %d" % (n[ACCEPTED], n[REJECTED], n[BLOCKS]))
    print("Faults  %d  Lost  %d  Reconnects  %d" % (n[FAULTS], n[LOST], n[RECONNECTS]))


def status_text(c):
    try:
        return bytes(c.target.status()).decode()
    except (OSError, UnicodeError):
        return "???"


def pick(n):
    cons = mydu.cons
    if 0 <= n < len(cons):
        return cons[n]
    print("no connection %d (0..%d)" % (n, len(cons) - 1))


def act(n, ch):
    cons = mydu.cons
    if ch == "o":
        print("cons %d" % len(cons))
        for i, c in enumerate(cons):
            print("%d %d %s %s %d" % (i, c.target.addr, status_text(c), c.state, c.timeout))
    elif ch == "i":
        for c in cons:
            stats(c)
        gc.collect()
        print("Free %d" % gc.mem_free())
        if mydu.bus:
            print("I2C scan %s" % mydu.bus.scan())
    elif ch == "u":
        for c in cons:
            for k in range(len(c.n)):
                c.n[k] = 0
            c.target.busy = 0
    elif ch == "t":
        for c in cons:
            c.timeout = n or 10
        print("timeout %d s" % (n or 10))
    elif ch in "dcmqw":
        c = pick(n)
        if c is None:
            return
        if ch == "d":
            c.close()
            cons.remove(c)
            print("dropped %d" % c.target.addr)
        elif ch == "c":
            c.retry_at = None
            try:
                c.connect()
                print("connected %d" % c.target.addr)
            except DucoError as e:
                mydu.fault(c, e)
        elif ch == "m":
            c.retry_at = None
            import blockloop  # one turn of the faithful loop, whatever the mode
            blockloop.serve(c)
        elif ch == "q":
            print(status_text(c))
        else:
            try:
                print("res %d ela %d" % (c.target.number("R"), c.target.number("E")))
            except (OSError, ValueError) as e:
                print("I2C error %s" % errname(e))
    else:
        print(HELP)
