# The board's REPL on the PC, for tools/fake_board.py: v1.15's unix port has only its own line
# editor, while ampy and mpremote speak the raw REPL of the firmware (lib/utils/pyexec.c).
# This follows that C code: Ctrl-A enters raw mode ("raw REPL; CTRL-B to exit\r\n>"), the code
# until Ctrl-D is answered "OK", its output, "\x04", its error, "\x04", then ">"; Ctrl-D on an
# empty raw line is a soft reset ("OK\r\n", then this process exits and fake_board starts it
# again); Ctrl-B goes back to the friendly REPL. Raw-paste (Ctrl-E A Ctrl-A) is answered
# "R\x00" (understood, not offered), after which the tools use plain raw mode.
import sys

_in = open(0, "rb")  # the unix port of 1.15 has no sys.stdin.buffer
_out = sys.stdout
_globals = {"__name__": "__main__"}  # one namespace for every command, as on the board


def _key():
    c = _in.read(1)
    if not c:
        raise SystemExit  # the pty is gone
    return c[0]


def _run(code, raw):
    try:
        exec(code, _globals)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: B902  (the board reports every exception)
        if raw:
            _out.write("\x04")
        sys.print_exception(e)
        return
    if raw:
        _out.write("\x04")


def _raw():
    _out.write("raw REPL; CTRL-B to exit\r\n>")
    line = bytearray()
    while True:
        c = _key()
        if c == 1:  # Ctrl-A
            if line == b"\x05A":
                _out.write("R\x00")
                line = bytearray()
                continue
            _out.write("raw REPL; CTRL-B to exit\r\n>")
            line = bytearray()
        elif c == 2:  # Ctrl-B
            _out.write("\r\n")
            return
        elif c == 3:  # Ctrl-C
            line = bytearray()
        elif c == 4:  # Ctrl-D
            _out.write("OK")
            if not line:
                _out.write("\r\n")
                raise SystemExit  # soft reset
            _run(bytes(line), True)
            _out.write("\x04>")
            line = bytearray()
        else:
            line.append(c)


def run():
    _out.write("MicroPython v1.15 on the PC; ESP module with ESP8266\r\n>>> ")
    line = bytearray()
    while True:
        c = _key()
        if c == 1:
            _raw()
            _out.write(">>> ")
        elif c == 3:
            line = bytearray()
            _out.write("\r\n>>> ")
        elif c == 4:
            _out.write("\r\n")
            raise SystemExit  # soft reset
        elif c in (10, 13):
            _out.write("\r\n")
            if line:
                _run(bytes(line), False)
            line = bytearray()
            _out.write(">>> ")
        elif c == 2:
            _out.write("\r\n>>> ")
        else:
            line.append(c)
            _out.write(chr(c))
