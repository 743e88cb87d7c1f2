# setupfile.py - read setup.txt. Loaded by mydu for `s` only, then unloaded again to save RAM
# (rigstart.py then makes the connections). Every problem is a ValueError "setup.txt line N:
# what is wrong", before anything connects. make deploy runs the same parser on the PC.


def read_setup(path="setup.txt"):
    # -> dict; raises ValueError("setup.txt line N: what is wrong") before anything connects
    cfg = {"key": "None", "pool": None, "picker": None, "i2c": (5, 4, 100000), "mode": "block",
           "autostart": False, "targets": []}
    n = 0
    for raw in open(path, "rb"):
        n += 1
        raw = raw.replace(b"\t", b" ").split(b"#")[0].strip()  # a tab is a space, as editors show it
        if not raw:
            continue
        # checked as bytes: walking a str would make (and keep, on MicroPython) a string per
        # character
        for b in raw:
            if not 32 <= b <= 126:
                raise ValueError("setup.txt line %d: not plain ASCII" % n)
        line = raw.decode()
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
