# menukeys.py - mydu's keys that mining does not need: o overview, d drop, c connect, m one
# step, q status, w result, t timeout, u zero, and the help line (`i` is rigstats.py).
# mydu loads this for one key and drops it again, so the mining loop never holds it in RAM.
import mydu
from duclas import DucoError, errname



def status_text(c):
    try:
        return bytes(c.target.status()).decode()
    except (OSError, UnicodeError):
        return "???"


def pick(n):
    # n: the index `o` shows, not the I2C address
    cons = mydu.cons
    if not cons:
        print("no connections: s first")
    elif 0 <= n < len(cons):
        return cons[n]
    else:
        print("no connection %d: the index from o, 0..%d" % (n, len(cons) - 1))


def act(n, ch):
    cons = mydu.cons
    if ch == "o":
        print("cons %d" % len(cons))
        print("idx addr sta st tmo")
        for i, c in enumerate(cons):
            print("%d %d %s %s %d" % (i, c.target.addr, status_text(c), c.state, c.timeout))
    elif ch == "u":
        for c in cons:
            for k in range(len(c.n)):
                c.n[k] = 0
            c.target.busy = 0
        marks = mydu.marks
        for k in range(len(marks)):
            marks[k] = 0
        print("statistics zeroed")
    elif ch == "t":
        n = n or 10
        if not 1 <= n <= 600:
            print("timeout 1..600 s")
            return
        for c in cons:
            c.timeout = n
        print("timeout %d s" % n)
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
                mydu.turn_over(c, e)
        elif ch == "m":
            c.retry_at = None
            import blockloop  # one turn of the faithful loop, whatever the mode
            if blockloop.serve(c):
                print("busy")
        elif ch == "q":
            print(status_text(c))
        else:
            try:
                print("res %d ela %d" % (c.target.number("R"), c.target.number("E")))
            except (OSError, ValueError) as e:
                print("I2C error %s" % errname(e))
    else:
        print(mydu.HELP)
