"""Balance monitor: watch a Duino-Coin wallet grow while the rig mines (runs on a PC).

Every interval (10 s), on wall-clock multiples of it, read <api>/balances/<user> and print one
row in milliDuco, as ../docs/balance.md and the spec's "Balance monitor" section show:

    values below in milliDuco
    Time            Total  ping    10 sec    minute    Duco/d
    19:47:00       49.549   902     9.136    38.267     55.10

Rows are appended to a log file as well; `--plot FILE.png` draws its Duco/d column. Any key or
Ctrl-C stops it. The pure parts (row text, the running sums, the next tick, reading an answer,
reading the log) are separate from the loop, and the loop takes its clock, sleep, fetch and
stop as arguments so tests run it against the emulator without waiting.

    balance_monitor.py USER [--api URL] [--log FILE] [--count N] [--interval S] [--plot FILE.png]
"""
from __future__ import annotations

import argparse
import datetime
import http.client
import json
import math
import os
import re
import select
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable, TextIO

DEFAULT_API = "https://server.duinocoin.com"
INTERVAL = 10.0
MIN_INTERVAL = 0.2  # the API allows about 5 requests a second; never ask faster than that
TIMEOUT = 5.0  # s per request: half the interval, so a slow answer still leaves the next tick on time
WINDOW = 6  # changes summed into "minute": six 10 s changes
POLL = 0.1  # s between looks at the keyboard while waiting for a tick
MAX_ERROR = 100  # characters of an error message kept on its row

UNITS_LINE = "values below in milliDuco"
# The widths come from the spec's sample. Each field after the time is written as one space plus
# one character less, which gives the same bytes while a value fits and still keeps a space
# between columns when one overflows (a big transfer), so the log stays readable by parse_log.
HEADER = "%-8s %12s %5s %9s %9s %9s" % ("Time", "Total", "ping", "10 sec", "minute", "Duco/d")
ROW = "%-8s %12.3f %5d %9.3f %9.3f %9.2f"

_NUMBER = r"(-?\d+\.\d+)"
ROW_RE = re.compile(r"^(\d\d):(\d\d):(\d\d)\s+%s\s+(\d+)\s+%s\s+%s\s+%s\s*$" % ((_NUMBER,) * 4))
SESSION_RE = re.compile(r"^# .*started (\d{4})-(\d\d)-(\d\d) ")


class BalanceError(Exception):
    """The API answered, but not with a balance; the message is one line for the row."""


# -- pure parts ------------------------------------------------------------------------------
def format_row(label: str, total: float, ping_ms: int, change: float, minute: float,
               duco_per_day: float) -> str:
    """One row; total, change and minute in milliDuco, duco_per_day in Duco."""
    return ROW % (label, total, ping_ms, change, minute, duco_per_day)


def format_error(label: str, message: str) -> str:
    """A row that keeps the time column and says in one line why there are no numbers."""
    text = " ".join(message.split()) or "unknown error"
    if len(text) > MAX_ERROR:
        text = text[: MAX_ERROR - 3] + "..."
    return "%-8s  error: %s" % (label, text)


def next_tick(now: float, interval: float) -> float:
    """The first multiple of interval (s since the epoch) strictly after now."""
    tick = (math.floor(now / interval) + 1) * interval
    if tick <= now:  # float rounding of now / interval can land on now itself
        tick += interval
    return tick


def tick_label(tick: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(tick))


@dataclass
class Reading:
    total: float  # milliDuco since the first balance
    change: float  # milliDuco since the previous balance
    minute: float  # milliDuco, the sum of the last WINDOW changes
    duco_per_day: float  # Duco: minute * 1440 minutes a day / 1000


class Tally:
    """The numbers of a row from successive balances (Duco in, milliDuco out).

    The first balance is the start and brings no change. A failed read adds nothing, so the next
    change covers the missed interval too.
    """

    def __init__(self, window: int = WINDOW) -> None:
        self.start: float | None = None
        self.last = 0.0
        self.changes: deque[float] = deque(maxlen=window)

    def add(self, balance: float) -> Reading:
        if self.start is None:
            self.start = self.last = balance
            change = 0.0
        else:
            change = (balance - self.last) * 1000
            self.changes.append(change)
            self.last = balance
        minute = sum(self.changes)
        return Reading((balance - self.start) * 1000, change, minute, minute * 1440 / 1000)


def balance_url(api: str, user: str) -> str:
    return "%s/balances/%s" % (api.rstrip("/"), urllib.parse.quote(user, safe=""))


def parse_balance(body: bytes) -> float:
    """The balance in Duco from an answer of /balances/<user>, or BalanceError."""
    try:
        data = json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise BalanceError("bad JSON from the API") from None
    if not isinstance(data, dict):
        raise BalanceError("unexpected answer from the API")
    if data.get("success") is not True:
        raise BalanceError(str(data.get("message") or "the API reported a failure"))
    result = data.get("result")
    balance = result.get("balance") if isinstance(result, dict) else None
    if isinstance(balance, bool) or not isinstance(balance, (int, float)):
        raise BalanceError("no balance in the API's answer")
    return float(balance)


def describe_error(exc: BaseException) -> str:
    """A short reason for a failed read, without the exception's class chatter."""
    if isinstance(exc, BalanceError):
        return str(exc)
    if isinstance(exc, urllib.error.HTTPError):
        return "HTTP %d %s" % (exc.code, exc.reason)
    if isinstance(exc, urllib.error.URLError):  # connect failures arrive wrapped in one
        reason = exc.reason
        return describe_error(reason) if isinstance(reason, BaseException) else str(reason)
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return "%s %s" % (type(exc).__name__, exc)


def parse_log(lines: Iterable[str], first_day: datetime.date) -> list[tuple[datetime.datetime, float]]:
    """(time, Duco/d) of each number row of a log; error rows and headers are skipped.

    Rows carry only the time of day: the date comes from the session line the monitor writes at
    start (first_day when there is none), and a time earlier than the one before means midnight.
    """
    points: list[tuple[datetime.datetime, float]] = []
    day = first_day
    previous: datetime.time | None = None
    for line in lines:
        session = SESSION_RE.match(line)
        if session:
            day = datetime.date(*(int(g) for g in session.groups()))
            previous = None
            continue
        row = ROW_RE.match(line)
        if not row:
            continue
        clock_time = datetime.time(int(row[1]), int(row[2]), int(row[3]))
        if previous is not None and clock_time < previous:
            day += datetime.timedelta(days=1)
        previous = clock_time
        points.append((datetime.datetime.combine(day, clock_time), float(row[8])))
    return points


# -- I/O -------------------------------------------------------------------------------------
def fetch_url(url: str, timeout: float = TIMEOUT) -> bytes:
    """The body of a GET; raises OSError (URLError, HTTPError, timeouts) or HTTPException."""
    request = urllib.request.Request(url, headers={"User-Agent": "duco-i2c-rig balance monitor",
                                                   "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def wait_until(tick: float, clock: Callable[[], float], sleep: Callable[[float], None],
               stop: Callable[[], bool]) -> bool:
    """Sleep until the clock reaches tick, in short steps so a key is noticed; False if stopped."""
    while True:
        if stop():
            return False
        left = tick - clock()
        if left <= 0:
            return True
        sleep(min(left, POLL))


def run(user: str, api: str, out: TextIO, log: TextIO | None = None, *, count: int = 0,
        interval: float = INTERVAL, clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
        fetch: Callable[[str], bytes] = fetch_url, stop: Callable[[], bool] = lambda: False) -> int:
    """Print the header, then one row per tick until stop() is true or count rows (0: no limit).

    Returns the number of rows printed, error rows included.
    """
    url = balance_url(api, user)
    tally = Tally()

    def emit(line: str) -> None:
        for stream in (out, log):
            if stream is not None:
                stream.write(line + "\n")
                stream.flush()  # a row is there at once, for a `tail -f` of the log too

    if log is not None:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(clock()))
        log.write("# balance of %s from %s, started %s\n" % (user, api, started))
    emit(UNITS_LINE)
    emit(HEADER)
    rows = 0
    while count <= 0 or rows < count:
        # From the clock each time: a read slower than the interval skips ticks, never bunches them.
        tick = next_tick(clock(), interval)
        if not wait_until(tick, clock, sleep, stop):
            break
        label = tick_label(tick)
        try:
            sent = monotonic()  # monotonic: a wall-clock step must not change the ping
            body = fetch(url)
            ping_ms = round((monotonic() - sent) * 1000)
            reading = tally.add(parse_balance(body))
        except (OSError, http.client.HTTPException, ValueError, BalanceError) as exc:
            # ValueError: urllib's answer to a malformed URL; BalanceError is the API's own no.
            emit(format_error(label, describe_error(exc)))
        else:
            emit(format_row(label, reading.total, ping_ms, reading.change, reading.minute,
                            reading.duco_per_day))
        rows += 1
    return rows


class Keyboard:
    """Any key stops the monitor. While in use, a terminal stdin is in cbreak mode (a key counts
    without Enter and is not echoed; Ctrl-C still interrupts) and is restored on exit. A stdin that
    is not a terminal is never read: a pipe or /dev/null at its end would stop the monitor at once.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = sys.stdin if stream is None else stream
        self.fd: int | None = None
        self.saved: list | None = None

    def __enter__(self) -> "Keyboard":
        try:
            is_tty = self.stream.isatty()
        except (AttributeError, ValueError):
            is_tty = False
        if not is_tty or os.name == "nt":
            return self
        import termios
        import tty

        self.fd = self.stream.fileno()
        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None and self.saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
        self.fd = self.saved = None

    def pressed(self) -> bool:
        if os.name == "nt":
            import msvcrt

            if not self.stream.isatty() or not msvcrt.kbhit():  # type: ignore[attr-defined]
                return False
            msvcrt.getwch()  # type: ignore[attr-defined]
            return True
        if self.fd is None:
            return False
        ready, _, _ = select.select([self.fd], [], [], 0)
        if ready:
            os.read(self.fd, 64)  # take the key, so it does not reach the shell afterwards
        return bool(ready)


def plot_log(log_path: str, png_path: str, user: str, out: TextIO) -> int:
    """Draw the log's Duco/d column over time into png_path; 0 when written, else 1."""
    try:
        import matplotlib
    except ImportError:
        out.write("--plot needs matplotlib, which is not installed: pip install matplotlib\n")
        return 1
    matplotlib.use("Agg")  # draw into a file; no display needed
    from matplotlib import pyplot

    try:
        with open(log_path, encoding="utf-8") as f:
            points = parse_log(f, datetime.date.today())
    except OSError as exc:
        out.write("cannot read %s: %s\n" % (log_path, describe_error(exc)))
        return 1
    if not points:
        out.write("no rows with numbers in %s, nothing to plot\n" % log_path)
        return 1
    figure, axes = pyplot.subplots(figsize=(10, 4))
    axes.plot([p[0] for p in points], [p[1] for p in points], marker=".", linewidth=1)
    axes.set_title("Duco per day of %s (from %s)" % (user, log_path))
    axes.set_ylabel("Duco/d")
    axes.grid(True, alpha=0.3)
    figure.autofmt_xdate()
    try:
        figure.savefig(png_path, dpi=100)
    except OSError as exc:
        out.write("cannot write %s: %s\n" % (png_path, describe_error(exc)))
        return 1
    finally:
        pyplot.close(figure)
    out.write("wrote %s: %d rows\n" % (png_path, len(points)))
    return 0


def default_log(user: str) -> str:
    # Only word characters, so a user name can never point the log somewhere else.
    return "balance-%s.log" % re.sub(r"[^\w.-]", "_", user)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Print a Duino-Coin wallet's growth every 10 s "
                                             "(milliDuco); any key or Ctrl-C stops it.")
    ap.add_argument("user", help="the Duino-Coin user whose balance to watch")
    ap.add_argument("--api", default=DEFAULT_API, help="REST API base URL (default %(default)s)")
    ap.add_argument("--log", help="file the rows are appended to (default balance-USER.log)")
    ap.add_argument("--count", type=int, default=0, help="stop after this many rows (0: until a key)")
    ap.add_argument("--interval", type=float, default=INTERVAL,
                    help="seconds between rows, on multiples of it (default %(default)g)")
    ap.add_argument("--plot", metavar="FILE.png", help="draw the log's Duco/d column into FILE.png "
                                                        "and exit (needs matplotlib)")
    args = ap.parse_args(argv)
    if args.interval < MIN_INTERVAL:
        ap.error("--interval must be at least %g s (the API allows about 5 requests a second)"
                 % MIN_INTERVAL)
    api = urllib.parse.urlsplit(args.api)
    if api.scheme not in ("http", "https") or not api.netloc:
        ap.error("--api must be an http:// or https:// URL, not %r" % args.api)
    return args


def main(argv: list[str] | None = None, *, clock: Callable[[], float] = time.time,
         sleep: Callable[[float], None] = time.sleep, fetch: Callable[[str], bytes] = fetch_url) -> int:
    args = parse_args(argv)
    log_path = args.log or default_log(args.user)
    if args.plot:
        return plot_log(log_path, args.plot, args.user, sys.stdout)
    try:
        log = open(log_path, "a", encoding="utf-8")
    except OSError as exc:
        print("cannot open the log %s: %s" % (log_path, describe_error(exc)))
        return 1
    with log, Keyboard() as keyboard:
        try:
            run(args.user, args.api, sys.stdout, log, count=args.count, interval=args.interval,
                clock=clock, sleep=sleep, fetch=fetch, stop=keyboard.pressed)
        except KeyboardInterrupt:
            print()  # end the line the terminal's ^C was echoed on
    return 0


if __name__ == "__main__":
    sys.exit(main())
