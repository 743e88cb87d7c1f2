# rigstart.py - make the rig that setup.txt describes (`s`): the I2C bus and one connection
# per target, asking the pool picker first when there is no pool line, then connect them; at
# each `l`, make again quietly what the pool closed meanwhile; and tell main.py whether to
# start by itself. mydu loads it for one call at a time and drops it again.
import sys
import gc
import select
from machine import I2C, Pin
from i2ct import Target
from duclas import Connection, errname
import mydu

MAX_CONS = 4  # lwIP keeps about 5 TCP connections; WebREPL may take one


def ask_picker(picker):
    # no pool line: ask the pool picker once, then drop its module again to save RAM
    import getpool
    try:
        return getpool.get_pool(picker or getpool.PICKER)
    finally:
        del sys.modules["getpool"]


def make(cons):
    # setup.txt read (by setupfile.py, loaded for that and dropped before the connections
    # come), then the bus and one Connection per target line, appended to cons. Returns
    # (bus, pins, mode), or None when the file or the pool picker failed (one line said so).
    import setupfile
    try:
        cfg = setupfile.read_setup()
    except (OSError, ValueError) as e:
        print(e if isinstance(e, ValueError) else "setup.txt: cannot read it")
        return None
    finally:
        del sys.modules["setupfile"]
    del setupfile  # the last reference: the parser's code goes now
    gc.collect()
    if cfg["pool"] is None:
        try:
            cfg["pool"] = ask_picker(cfg["picker"])
            print("pool %s %d from the pool picker" % cfg["pool"])
        except (OSError, ValueError) as e:
            print("no pool line, and the pool picker failed: %s" % errname(e))
            return None
    pins = cfg["i2c"]
    bus = I2C(scl=Pin(pins[0]), sda=Pin(pins[1]), freq=pins[2])
    if len(cfg["targets"]) > MAX_CONS:
        print("warning: %d targets, one ESP8266 holds about %d server connections (lwIP)" % (
            len(cfg["targets"]), MAX_CONS))
    user, key, rig = cfg["user"].encode(), cfg["key"].encode(), cfg["rig"].encode()
    for addr, name in cfg["targets"]:
        c = Connection(Target(bus, addr), name.encode(), rig, user, key, cfg["pool"])
        cons.append(c)
    return bus, pins, cfg["mode"]


def connect_all(cons):
    for c in cons:
        try:
            banner = c.connect()
            # the first job at once: the pool drops a connection that asks none within 30 s,
            # and the Mini Pro starts hashing before `l`
            c.ask_job()
            c.reply()
            c.send_job()
            print("Targ  %d connected to %s:%d, server %s, first job sent" % (
                c.target.addr, c.pool[0], c.pool[1], banner))
        except Exception as e:
            mydu.turn_over(c, e)


def refresh(cons):
    # the pool closes a connection idle for 90 s: one that it closed while the rig sat in the
    # menu is closed here without a fault line, and the loop makes it again
    for c in cons:
        s = c.sock
        if s is not None and c.state in "CJK":
            p = select.poll()
            p.register(s, select.POLLIN)
            if p.poll(0):
                try:
                    gone = not s.recv(16)
                except OSError:
                    gone = True
                if gone:
                    c.close()


def autostart_wanted(path="setup.txt"):
    # `autostart yes` in setup.txt: after a reset the rig mines by itself (main.py imports mydu)
    try:
        for line in open(path):
            if line.split("#")[0].split() == ["autostart", "yes"]:
                return True
    except OSError:
        pass
    return False
