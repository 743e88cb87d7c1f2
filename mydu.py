# mydu.py - the rig's keyboard menu and its polling round-robin loop.
# `import mydu` shows the prompt H>; input is "number, then one letter", no Enter.
import sys
import gc
import time
import select
from machine import I2C, Pin
from i2ct import Target, unstick
from duclas import Connection, DucoError, BusError, errname
from keyin import ask

MAX_CONS = 4  # lwIP keeps about 5 TCP connections; WebREPL may take one
HELP = "s start, <n>l loop, x exit, <n>d drop, o overview, i stats, c m q w <n>, <n>t timeout, u v h"

cons = []  # one Connection per target line of setup.txt, in file order
bus = None
pins = (5, 4, 100000)  # scl, sda, freq of the bus, from setup.txt
mode = "block"  # setup.txt `mode poll`: the overlapped loop of pollloop.py
verbose = False


def ask_picker(picker):
    # no pool line: ask the pool picker once, then drop its module again to save RAM
    import getpool
    try:
        return getpool.get_pool(picker or getpool.PICKER)
    finally:
        del sys.modules["getpool"]


def fault(c, e):
    # one line naming what and where; the connection is retried after a back-off that grows
    # while the same trouble comes back (2, 4 ... 32 s), and starts again for a new one
    why = str(e)
    c.failures = c.failures + 1 if why[:6] == c.fault_kind else 1
    c.fault_kind = why[:6]  # "I2C er", "server", "no job", ...
    wait = min(2 ** c.failures, 32)
    c.retry_at = time.ticks_add(time.ticks_ms(), wait * 1000)
    print("*** Targ  %d %s, retry in %d s" % (c.target.addr, why, wait))
    if isinstance(e, BusError):
        free_bus()


def free_bus():
    # after a bus error: if a target holds SDA low, clock it free and start the bus again
    try:
        stuck = unstick(pins[0], pins[1])
        # the check drove the pins as plain GPIOs: hand them back to the I2C in either case
        bus.init(scl=Pin(pins[0]), sda=Pin(pins[1]), freq=pins[2])
        if stuck:
            print("*** I2C bus was stuck (SDA low), freed with SCL pulses")
    except OSError as e:
        print("*** I2C bus check failed: %s" % errname(e))


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
        if c.state in "KJD" and c.overdue():
            raise c.unhang()
        return None
    if c.state == "K" and st != "C":
        c.faults += 1
        print("*** Targ  %d lost its job (status %s), job sent again" % (c.target.addr, st))
        c.state = "J"
    return st


def rate_of(nonce, ms):
    return (1000 * nonce + ms // 2) // ms if ms else 0


def turn_over(c, e):
    # how a turn ends on an exception: one line, a back-off, and the loop goes on
    if isinstance(e, DucoError):
        fault(c, e)
    elif isinstance(e, MemoryError):
        gc.collect()
        fault(c, "out of memory in its turn")
    else:  # a rig runs unattended: one line, and the other targets go on
        fault(c, "%s %s" % (type(e).__name__, e))


def serve(c):
    # one connection's turn in the blocking loop; True when there was nothing to do
    try:
        st = begin_turn(c)
        if st is None:
            return True
        print("*** Targ  %d Sta  %s" % (c.target.addr, st))
        if c.state == "K":
            nonce, ms = c.take_result()
            rate = rate_of(nonce, ms)
            print("ela %d  res %d  rat %d" % (ms, nonce, rate))
            took, feedback = c.submit(nonce, rate)
            print("SndRes took  %d" % took)
            print(feedback)
        if c.state != "J":
            print("ReqJob took  %d" % c.request_job())
            if verbose:
                print("job %s,%s,%d" % (c.last.decode(), c.expected.decode(), c.diff))
        print("Hashes sent  %d" % c.send_job())
        c.failures = 0
        c.retry_at = None
    except Exception as e:
        turn_over(c, e)
    return False


def loop(n):
    # n rounds (0: 99999); True when a key ended it
    if not cons:
        print("no connections: s first")
        return True
    if mode == "poll":
        import pollloop
        return pollloop.run(n, cons)
    keys = select.poll()
    keys.register(sys.stdin, select.POLLIN)
    allbus = 0
    key = False
    for left in range(n or 99999, 0, -1):
        if keys.poll(0):
            sys.stdin.read(1)  # any key returns to the menu
            key = True
            break
        print("===Loop  %d" % left)
        busy = 0
        for c in cons:
            if serve(c):
                busy += 1
        if busy == len(cons):
            allbus += 1
            print("All Bus  %d" % allbus)
            if allbus == 1:
                gc.collect()  # idle anyway, and only work makes garbage: once per idle stretch
            keys.poll(100)  # the 100 ms wait, cut short by a key
        else:
            allbus = 0
    print("Loop Done")
    return key


def autostart_wanted(path="setup.txt"):
    # `autostart yes` in setup.txt: after a reset the rig mines by itself (main.py imports mydu)
    try:
        for line in open(path):
            if line.split("#")[0].split() == ["autostart", "yes"]:
                return True
    except OSError:
        pass
    return False


def start():
    global bus, pins, mode
    if cons:
        print("%d connections exist, s changes nothing (x, then l reconnects)" % len(cons))
        return
    import setupfile
    try:
        cfg = setupfile.read_setup()
    except (OSError, ValueError) as e:
        print(e if isinstance(e, ValueError) else "setup.txt: cannot read it")
        return
    finally:
        del sys.modules["setupfile"]
    if cfg["pool"] is None:
        try:
            cfg["pool"] = ask_picker(cfg["picker"])
            print("pool %s %d from the pool picker" % cfg["pool"])
        except (OSError, ValueError) as e:
            print("no pool line, and the pool picker failed: %s" % errname(e))
            return
    pins = cfg["i2c"]
    mode = cfg["mode"]
    bus = I2C(scl=Pin(pins[0]), sda=Pin(pins[1]), freq=pins[2])
    if len(cfg["targets"]) > MAX_CONS:
        print("warning: %d targets, one ESP8266 holds about %d server connections (lwIP)" % (
            len(cfg["targets"]), MAX_CONS))
    for addr, name in cfg["targets"]:
        c = Connection(Target(bus, addr), name.encode(), cfg["rig"].encode(),
                       cfg["user"].encode(), cfg["key"].encode(), cfg["pool"])
        cons.append(c)
        try:
            c.connect()
            print("Targ  %d connected to %s:%d, server %s" % (addr, c.pool[0], c.pool[1], c.banner))
        except Exception as e:
            turn_over(c, e)
    gc.collect()


def stats(c):
    per = lambda total, count: total // count if count else 0
    print("Target %d  Connected %s" % (c.target.addr, c.state != "D"))
    print("Name >%s<" % c.name.decode())
    print("Requests  %d" % c.requests)
    print("ReqWait  %d  per  %d" % (c.req_wait, per(c.req_wait, c.requests)))
    print("ReqZwi  %d  per  %d" % (c.req_send, per(c.req_send, c.requests)))
    print("SndWait  %d  per  %d" % (c.snd_wait, per(c.snd_wait, c.results)))
    print("SndZwi  %d  per  %d" % (c.snd_send, per(c.snd_send, c.results)))
    print("Targ Busy  %d" % c.target.busy)
    print("Accepted  %d  Rejected  %d  Blocks  %d" % (c.accepted, c.rejected, c.blocks))
    print("Faults  %d  Lost  %d  Reconnects  %d" % (c.faults, c.lost, c.reconnects))


def status_text(c):
    try:
        return bytes(c.target.status()).decode()
    except (OSError, UnicodeError):
        return "???"


def pick(n):
    if 0 <= n < len(cons):
        return cons[n]
    print("no connection %d (0..%d)" % (n, len(cons) - 1))


def menu():
    print(HELP)
    if autostart_wanted():
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
    global verbose
    if ch == "s":
        start()
    elif ch == "l":
        loop(n)
    elif ch == "x":
        for c in cons:
            c.close()
            c.retry_at = None
            print("closed")
        return False
    elif ch == "o":
        print("cons %d" % len(cons))
        for i, c in enumerate(cons):
            print("%d %d %s %s %d" % (i, c.target.addr, status_text(c), c.state, c.timeout))
    elif ch == "i":
        for c in cons:
            stats(c)
        gc.collect()
        print("Free %d" % gc.mem_free())
        if bus:
            print("I2C scan %s" % bus.scan())
    elif ch == "u":
        for c in cons:
            c.zero()
            c.target.busy = 0
    elif ch == "v":
        verbose = not verbose
        print("verbose %s" % verbose)
    elif ch == "h":
        for c in cons:
            c.send_rate = not c.send_rate
        print("send hashrate %s" % (cons[0].send_rate if cons else False))
    elif ch == "t":
        for c in cons:
            c.timeout = n or 10
        print("timeout %d s" % (n or 10))
    elif ch in "dcmqw":
        c = pick(n)
        if c is None:
            return True
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
                fault(c, e)
        elif ch == "m":
            c.retry_at = None
            serve(c)
        elif ch == "q":
            print(status_text(c))
        else:
            try:
                print("res %d ela %d" % (c.target.result(), c.target.elapsed()))
            except (OSError, ValueError) as e:
                print("I2C error %s" % errname(e))
    else:
        print(HELP)
    return True


menu()
