# A stand-in for MicroPython's `webrepl`: records that boot.py started it.
started = False


def start(*args, **kw):
    global started
    started = True
    print("WebREPL started")
