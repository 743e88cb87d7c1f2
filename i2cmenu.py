# i2cmenu.py - bring-up menu for a new Mini Pro: `import i2ct; i2ct.menu()`, prompt I>.
# Input is "number, then one letter", no Enter, as in mydu. A module of its own so the mining
# rig never holds it in RAM; every bus operation goes through i2ct.Target.
import gc
import time
import errno
from micropython import const
from i2ct import Target
from keyin import ask

HELP = ("d scan, <n>t target, q status, w result, e elapsed, z ducoid, h self-test, "
        "<n>v new address, a reset, i free+scan, x exit, A H L M N O S raw")
# the official miners' self-test job: nonce 50 at difficulty 10
_JOB = b"ba29a15896fd2d792d5c4b60668bf2b9feebc51dd0beba883d7e8cd119ea2b0e09b78f60f29e0968"
_NONCE = const(50)
_DIFF = const(10)
_WAIT_MS = const(5000)  # 51 hashes take about 0.3 s at 160 H/s: 5 s means it is stuck
_MOVE_MS = const(50)  # after V the sketch writes EEPROM byte 0 and restarts its bus


def _name(e):
    # "ENODEV" for OSError(19); a reply that does not parse is a bad reply
    if isinstance(e, OSError) and e.args:
        return errno.errorcode.get(e.args[0], str(e.args[0]))
    return "bad reply"


def _err(e, where):
    print("I2C error %s at %s" % (_name(e), where))


def _text(b):
    # status bytes as the operator reads them; 0xFF (nothing prepared) shows as ?
    return "".join([chr(c) if 32 <= c < 127 else "?" for c in b])


def _bus():
    scl, sda, freq = 5, 4, 100000
    try:
        for line in open("setup.txt"):
            w = line.split("#")[0].split()
            if len(w) == 4 and w[0] == "i2c":
                scl, sda, freq = int(w[1]), int(w[2]), int(w[3])
    except (OSError, ValueError):
        pass  # a new ESP has no setup.txt yet: the default pins
    from machine import I2C, Pin
    print("I2C scl %d sda %d %d Hz" % (scl, sda, freq))
    return I2C(scl=Pin(scl), sda=Pin(sda), freq=freq)


def scan(i2c):
    # every address that answers, with its status and DUCOID; returns the addresses
    found = i2c.scan()
    if not found:
        print("I2C scan: nothing answers (a new Mini Pro answers at 4)")
    for a in found:
        t = Target(i2c, a)
        try:
            line = "%d  Sta %s" % (a, _text(t.status()))
            if t.st[0] == 66:  # B: hashing; I would wait behind the job and time out
                print(line + "  busy, DUCOID not read")
            else:
                print(line + "  " + t.ducoid().decode())
        except (OSError, ValueError) as e:
            _err(e, a)
    return found


def pick(i2c, n):
    if not 1 <= n <= 127:
        print("no address %d (1..127)" % n)
        return None
    t = Target(i2c, n)
    print("target %d" % n)
    try:
        print("Sta %s" % _text(t.status()))
    except OSError as e:
        _err(e, n)  # selected all the same: the operator may plug it in next
    return t


def self_test(t):
    t.send("A")
    t.diff = 0  # so that D is always sent: the target may hold another difficulty
    t.send_job(_JOB[:40], _JOB[40:], _DIFF)
    t0 = time.ticks_ms()
    while t.status()[0] != 67:  # C
        if time.ticks_diff(time.ticks_ms(), t0) > _WAIT_MS:
            print("self-test at %d: no result after %d ms, Sta %s FAIL" % (t.addr, _WAIT_MS, _text(t.st)))
            return
        time.sleep_ms(20)
    nonce = t.number("R")
    ms = t.number("E")
    rate = (1000 * nonce + ms // 2) // ms if ms else 0
    print("self-test at %d: nonce %d ela %d ms rat %d H/s %s" % (
        t.addr, nonce, ms, rate, "PASS" if nonce == _NONCE else "FAIL (want %d)" % _NONCE))


def readdress(t, n, i2c):
    # V carries two digits, and I2C reserves 0..7 and 120..127: so 8..99
    if not 8 <= n <= 99:
        print("address %d refused: 8..99 (I2C reserves 0..7 and 120..127, V takes two digits)" % n)
        return
    on = i2c.scan()
    if n in on:
        print("address %d refused: already on the bus %s" % (n, on))
        return
    if n >= 50:
        print("note: 50..99 are ATtiny85 addresses, i2ct sends jobs there in 14-character chunks")
    old = t.addr
    t.send("V", b"%02d" % n)
    t.addr = n
    time.sleep_ms(_MOVE_MS)
    on = scan(i2c)
    if n in on:
        print("target %d now answers at %d: put %d in setup.txt" % (old, n, n))
    else:
        print("nothing answers at %d yet: d scans again" % n)


def act(t, ch, n, i2c):
    # one letter for the selected target; bus errors go up to the menu's one line
    if ch == "q" or ch == "S":
        print("Sta %s" % _text(t.status()))
    elif ch == "w":
        print("res %d" % t.number("R"))
    elif ch == "e":
        print("ela %d" % t.number("E"))
    elif ch == "z":
        print(t.ducoid().decode())
    elif ch == "h":
        self_test(t)
    elif ch == "v":
        readdress(t, n, i2c)
    elif ch == "a":
        t.send("A")
        print("reset %d" % t.addr)
    else:  # A H L M N O as they are; L M N O carry the self-test job's 20-character chunks
        i = "LMNO".find(ch)
        t.send(ch, _JOB[20 * i:20 * i + 20] if i >= 0 else b"")
        print("sent %s" % ch)


def menu(i2c=None):
    if i2c is None:
        i2c = _bus()
    t = None
    print(HELP)
    while True:
        n, ch = ask("I> ")
        try:
            if ch == "x":
                return
            elif ch == "d":
                scan(i2c)
            elif ch == "i":
                gc.collect()
                print("Free %d" % gc.mem_free())
                print("I2C scan %s" % i2c.scan())
            elif ch == "t":
                t = pick(i2c, n) or t
            elif ch in "qwezhvaAHLMNOS":
                if t is None:
                    print("no target selected: <n>t first")
                else:
                    act(t, ch, n, i2c)
            else:
                print(HELP)
        except (OSError, ValueError) as e:
            _err(e, t.addr if t is not None and ch not in "di" else "scan")
