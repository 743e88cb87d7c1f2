"""A fake ESP8266 on a pty, for testing `make deploy` without hardware.

ampy (and mpremote) talk to a board through MicroPython's raw REPL. The real MicroPython unix
port speaks that REPL, but a soft reset (Ctrl-D at an empty raw prompt, sent by both tools
before every command) makes it exit instead of rebooting. So this bridge sits between the tool
and the unix port:

    tool <-> client pty <-> bridge <-> board pty <-> micropython (folder mounted as /)

and when micropython exits it starts a new one, brings it back to the REPL the old one left
from, and tells the tool `MPY: soft reboot` as a board would. The folder becomes the board's
file system, so a test sees exactly what a deploy put there. It is not a sandbox: code sent to
the fake board runs as the user who started it.

    .venv/bin/python tools/fake_board.py FOLDER     # prints the pty path to give as PORT=

Stop it with SIGTERM or Ctrl-C; it stops its micropython too.
"""
from __future__ import annotations

import argparse
import os
import pty
import select
import signal
import subprocess
import sys
import time
import tty
from pathlib import Path

import micropython_runner as runner

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
FRIENDLY_PROMPT = b">>> "
SOFT_REBOOT = b"MPY: soft reboot\r\n"
# What the unix port prints on Ctrl-D at an empty raw prompt, just before it exits.
RAW_SOFT_RESET = b"OK\r\n"
START_TIMEOUT_S = 10.0


class BoardError(Exception):
    """The unix port did not come up as a board should."""


class FakeBoard:
    def __init__(self, folder: Path, micropython: Path | None = None) -> None:
        self.folder = folder.resolve()
        self.micropython = micropython or runner.interpreter()
        self.client_fd = -1  # our side of the pty the tool opens
        self.client_keep_fd = -1  # our own copy of the tool's side: no hang-up between tools
        self.port = ""
        self.board_fd = -1  # our side of micropython's pty
        self.proc: subprocess.Popen[bytes] | None = None
        self.tail = b""  # the last bytes micropython printed: which REPL it left from

    def open(self) -> str:
        """Create the pty the tool opens and start the first micropython; return the pty path."""
        self.client_fd, self.client_keep_fd = pty.openpty()
        # raw at once: the line discipline must neither turn \r into \n nor act on Ctrl-C/Ctrl-D
        # while no tool has the port open (pyserial would set raw mode only on open)
        tty.setraw(self.client_keep_fd)
        self.port = os.ttyname(self.client_keep_fd)
        self._start()
        return self.port

    def _start(self) -> bytes:
        """Start micropython with the folder as / and return its banner, up to the prompt."""
        board_fd, child_fd = pty.openpty()
        tty.setraw(child_fd)  # the REPL reads key by key, as from a UART
        mount = ("import os; os.umount('/'); os.mount(os.VfsPosix(%r), '/'); os.chdir('/')"
                 % str(self.folder))
        if runner.is_esp_like():  # v1.15's unix REPL has no raw mode: the frozen stand-in has
            cmd = runner.command(mount + "\nimport rawrepl\nrawrepl.run()")
        else:
            cmd = [str(self.micropython), "-i", "-c", mount]
        self.proc = subprocess.Popen(cmd,
                                     stdin=child_fd, stdout=child_fd, stderr=child_fd,
                                     close_fds=True)
        os.close(child_fd)  # so that its exit reads as end of file on board_fd
        self.board_fd = board_fd
        return self._read_until(FRIENDLY_PROMPT)

    def _read_until(self, ending: bytes) -> bytes:
        data = b""
        deadline = time.monotonic() + START_TIMEOUT_S
        while not data.endswith(ending):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.board_fd], [], [], left)[0]:
                raise BoardError("micropython gave no %r within %.0f s, got %r"
                                 % (ending, START_TIMEOUT_S, data[-200:]))
            chunk = self._read_board()
            if not chunk:
                raise BoardError("micropython exited while starting: %r" % data[-200:])
            data += chunk
        return data

    def _read_board(self) -> bytes:
        try:
            return os.read(self.board_fd, 4096)
        except OSError:  # EIO: micropython closed its side, it has exited
            return b""

    def _reboot(self) -> None:
        """micropython exited: start another one in the REPL the tool was using."""
        raw = self.tail.endswith(RAW_SOFT_RESET)
        self._stop_board()
        banner = self._start()
        if raw:
            os.write(self.board_fd, b"\x01")
            self._read_until(RAW_BANNER)
            self._to_client(SOFT_REBOOT + RAW_BANNER)
        else:
            self._to_client(SOFT_REBOOT + banner)
        self.tail = b""

    def _to_client(self, data: bytes) -> None:
        _write_all(self.client_fd, data)

    def serve(self) -> None:
        """Copy bytes both ways until stopped. Bytes the tool sends during a reboot wait in the
        pty until the new micropython is ready, as they would in a UART's buffer."""
        while True:
            ready = select.select([self.client_fd, self.board_fd], [], [])[0]
            if self.board_fd in ready:
                data = self._read_board()
                if data:
                    self.tail = (self.tail + data)[-16:]
                    self._to_client(data)
                else:
                    self._reboot()
                    continue
            if self.client_fd in ready:
                _write_all(self.board_fd, os.read(self.client_fd, 4096))

    def _stop_board(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.board_fd >= 0:
            os.close(self.board_fd)
            self.board_fd = -1

    def close(self) -> None:
        self._stop_board()
        for fd in (self.client_fd, self.client_keep_fd):
            if fd >= 0:
                os.close(fd)
        self.client_fd = self.client_keep_fd = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the board's file system")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print("fake_board: %s is not a folder" % args.folder, file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _exit_on_signal)
    board = FakeBoard(args.folder)
    try:
        print(board.open(), flush=True)
        board.serve()
    except KeyboardInterrupt:
        pass
    except BoardError as e:
        print("fake_board: %s" % e, file=sys.stderr)
        return 1
    finally:
        board.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
