# rigstart.py - make the rig that setup.txt describes: the I2C bus and one connection per
# target, asking the pool picker first when there is no pool line. Loaded by mydu for `s`
# only, after setupfile.py has read the file and been unloaded, then unloaded in turn.
import sys
from machine import I2C, Pin
from i2ct import Target
from duclas import Connection, errname

MAX_CONS = 4  # lwIP keeps about 5 TCP connections; WebREPL may take one


def ask_picker(picker):
    # no pool line: ask the pool picker once, then drop its module again to save RAM
    import getpool
    try:
        return getpool.get_pool(picker or getpool.PICKER)
    finally:
        del sys.modules["getpool"]


def make_connections(cfg, cons):
    # the bus and one Connection per target line of setup.txt (read into cfg), appended to
    # cons; mydu connects them. Returns (bus, pins, mode), or None when the pool picker failed.
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
