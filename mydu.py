# mydu.py - the rig's keyboard menu, and what both loops (blockloop.py, pollloop.py) share.
# `import mydu` shows the prompt H>; input is "number, then one letter", no Enter.
# What mining does not need is loaded only when a key asks for it, and dropped again:
# rigstart.py (and its setupfile.py) for `s` and at each `l`, rigstats.py for `i`, menukeys.py
# for the other keys; the loop of setup.txt's mode (blockloop.py or pollloop.py) while `l` runs.
import sys
import gc
import time
import select
from array import array
from duclas import DucoError, BusError, FAULTS, ACCEPTED, REJECTED
from keyin import ask

HELP = "s start, <n>l loop, x exit, <n>d drop, o overview, i stats, c m q w <n>, <n>t timeout, u v h"
cons = []  # one Connection per target line of setup.txt, in file order
bus = None
pins = (5, 4, 100000)  # scl, sda, freq of the bus, from setup.txt
mode = "block"  # setup.txt `mode poll`: the overlapped loop of pollloop.py
verbose = False  # `v`: print each job
up_since = 0  # time.time() at `s`, for the rig's uptime in `i`
# `i`'s last 10 minutes: a ring of 11 minutes, each (time.time(), accepted, rejected) at its start
marks = array("i", bytes(4 * 33))
marked = -1  # the last minute since `s` noted in marks
send_rate = False  # `h`: send the target's hash rate with each result (the ported rigs leave it to the pool)


def begin_turn(c):
    # the start of a connection's turn in either loop: the target's run state letter,
    # or None when there is nothing to do (waiting out a back-off, or the target is busy)
    if c.retry_at is not None and time.ticks_diff(time.ticks_ms(), c.retry_at) < 0:
        return None
    st = c.poll()
    if c.state == "D" and st != "B":  # a target still hashing an old job connects later
        c.connect()
        st = c.poll()
    if st == "B":
        # busy far longer than a whole job's range takes at 50 H/s: the target hangs
        if c.state in "KJD" and time.ticks_diff(time.ticks_ms(), c.job_at) > 20 * (100 * c.diff + 1) + 5000:
            raise c.unhang()
        return None
    if c.state == "K" and st != "C":
        c.n[FAULTS] += 1
        print("*** Targ  %d lost its job (status %s), job sent again" % (c.target.addr, st))
        c.state = "J"
    return st


def rate_of(nonce, ms):
    return (1000 * nonce + ms // 2) // ms if ms else 0


def turn_over(c, e):
    # how a turn ends on an exception: one line naming what and where; the connection is
    # retried after a back-off that grows while the same trouble comes back (2, 4 ... 32 s),
    # and starts again for a new one; after a bus error the bus is checked (i2cfree.py)
    if isinstance(e, MemoryError):
        gc.collect()
        why = "out of memory in its turn"
    elif isinstance(e, DucoError):
        why = str(e)
    else:  # a rig runs unattended: one line, and the other targets go on
        why = "%s %s" % (type(e).__name__, e)
    c.failures = c.failures + 1 if why[:6] == c.fault_kind else 1
    c.fault_kind = why[:6]  # "I2C er", "server", "no job", ...
    wait = min(2 ** c.failures, 32)
    c.retry_at = time.ticks_add(time.ticks_ms(), wait * 1000)
    print("*** Targ  %d %s, retry in %d s" % (c.target.addr, why, wait))
    if isinstance(e, BusError):
        call("i2cfree", "free_bus", bus, pins)


def is_key():
    # a key arrived during a loop: read it. CR and LF do not count: they are the Enter a
    # terminal sends after a command, and must not end the loop that command started.
    return sys.stdin.read(1) not in "\r\n"


def mark():
    # called by the loops every round; once a minute it notes the totals `i` counts from
    global marked
    now = int(time.time())  # seconds: an int on the ESP already, a float on a PC
    m = (now - up_since) // 60
    if m == marked:
        return
    marked = m
    a = r = 0
    for c in cons:
        a += c.n[ACCEPTED]
        r += c.n[REJECTED]
    k = 3 * (m % 11)
    marks[k] = now
    marks[k + 1] = a
    marks[k + 2] = r


def loop(n):
    # n rounds (0: 99999) of the loop of setup.txt's mode; True when a key ended it. The loop's
    # module stays loaded between loops; a menu key that needs room unloads it.
    if not cons:
        print("no connections: s first")
        return True
    keys = select.poll()
    keys.register(sys.stdin, select.POLLIN)
    while keys.poll(0) and sys.stdin.read(1):  # typed before the loop began (the Enter after
        pass  # `l`): not a key for it. An empty read is the end of a test's input: stop there
    call("rigstart", "refresh", cons)
    if mode == "poll":
        import pollloop as loop_module
    else:
        import blockloop as loop_module
    return loop_module.run(n, cons)


def call(name, function, *args):
    # a function of a module loaded for this call only and dropped again: what mining does not
    # need stays out of RAM (a module has no other reference once the call returned)
    try:
        return getattr(__import__(name), function)(*args)
    finally:
        sys.modules.pop(name, None)


def start():
    # `s`: read setup.txt, make the bus and the connections, connect them (rigstart.py)
    global bus, pins, mode, up_since
    if cons:
        print("%d connections exist, s changes nothing (x, then l reconnects)" % len(cons))
        return
    made = call("rigstart", "make", cons)
    if made:
        bus, pins, mode = made
        up_since = int(time.time())
        call("rigstart", "connect_all", cons)
        gc.collect()


def menu():
    print(HELP)
    if call("rigstart", "autostart_wanted"):
        print("autostart: s, then l until a key")
        act(0, "s")
        while cons and not loop(0):
            gc.collect()
    while True:
        n, ch = ask("H> ")
        try:
            if not act(n, ch):
                return
        except Exception as e:  # a key must never end in a traceback
            print("*** %s %s" % (type(e).__name__, e))


def act(n, ch):
    # one menu key; False when it leaves the menu
    global verbose, send_rate
    if ch == "s":
        start()
    elif ch == "l":
        loop(n)
    elif ch == "x":
        for c in cons:
            c.close()
            c.retry_at = None
            print("closed")
        print("back at the REPL: mydu.menu() returns to the menu")
        return False
    elif ch == "v":
        verbose = not verbose
        print("verbose %s" % verbose)
    elif ch == "h":
        send_rate = not send_rate
        print("send hashrate %s" % send_rate)
    else:  # the keys mining does not need: `i` from rigstats.py, the others from menukeys.py;
        # the loop's module makes room for them (`l` loads it again)
        sys.modules.pop("pollloop", None)
        sys.modules.pop("blockloop", None)
        call("rigstats" if ch == "i" else "menukeys", "act", n, ch)
    return True


menu()
