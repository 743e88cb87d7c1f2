# setupfile.py - read setup.txt and make the connections it names: mydu's `s`. Loaded for
# that only, then unloaded again to save RAM. Every problem in the file is one line
# "setup.txt line N: what is wrong", before anything connects.
import sys

MAX_CONS = 4  # lwIP keeps about 5 TCP connections; WebREPL may take one


def read_setup(path="setup.txt"):
    # -> dict; raises ValueError("setup.txt line N: what is wrong") before anything connects
    cfg = {"key": "None", "pool": None, "picker": None, "i2c": (5, 4, 100000), "mode": "block",
           "autostart": False, "targets": []}
    n = 0
    for raw in open(path, "rb"):
        n += 1
        try:
            line = raw.decode()
        except UnicodeError:
            line = "\x80"
        line = line.split("#")[0].strip()
        if not line:
            continue
        for ch in line:
            if not " " <= ch <= "~":
                raise ValueError("setup.txt line %d: not plain ASCII" % n)
        word = line.split()[0]
        value = line[len(word):].strip()  # the ESP8266's MicroPython has no str.partition
        if not value:
            raise ValueError("setup.txt line %d: %s has no value" % (n, word))
        args = value.split()
        if word.isdigit():
            addr = int(word)
            if not 1 <= addr <= 127:
                raise ValueError("setup.txt line %d: address %d out of range 1..127" % (n, addr))
            for a, _ in cfg["targets"]:
                if a == addr:
                    raise ValueError("setup.txt line %d: address %d twice" % (n, addr))
            cfg["targets"].append((addr, value))
        elif word in ("rig", "user", "key"):
            cfg[word] = value
        elif word == "autostart":
            if value not in ("yes", "no"):
                raise ValueError("setup.txt line %d: autostart is yes or no" % n)
            cfg["autostart"] = value == "yes"
        elif word == "mode":
            if value not in ("block", "poll"):
                raise ValueError("setup.txt line %d: mode is block or poll" % n)
            cfg["mode"] = value
        elif word == "wifi":
            if len(args) < 2:
                raise ValueError("setup.txt line %d: wifi needs SSID and password" % n)
        elif word in ("pool", "picker", "i2c"):
            want = 3 if word == "i2c" else 2
            if len(args) != want or not all(a.isdigit() for a in args[1:]):
                raise ValueError("setup.txt line %d: %s needs %s" % (
                    n, word, "SCL SDA FREQ as numbers" if word == "i2c" else "HOST PORT"))
            if word == "i2c":
                cfg["i2c"] = tuple(int(a) for a in args)
            else:
                cfg[word] = (args[0], int(args[1]))
        else:
            raise ValueError("setup.txt line %d: unknown setting %s" % (n, word))
    for need in ("rig", "user"):
        if need not in cfg:
            raise ValueError("setup.txt: no %s line" % need)
    if not cfg["targets"]:
        raise ValueError("setup.txt: no target lines")
    return cfg


def ask_picker(picker):
    # no pool line: ask the pool picker once, then drop its module again to save RAM
    import getpool
    try:
        return getpool.get_pool(picker or getpool.PICKER)
    finally:
        del sys.modules["getpool"]


def make_connections(cons):
    # the bus and one Connection per target line, appended to cons (mydu connects them).
    # Returns (bus, pins, mode), or None when setup.txt or the pool picker failed.
    from machine import I2C, Pin
    from i2ct import Target
    from duclas import Connection, errname
    try:
        cfg = read_setup()
    except (OSError, ValueError) as e:
        print(e if isinstance(e, ValueError) else "setup.txt: cannot read it")
        return None
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
