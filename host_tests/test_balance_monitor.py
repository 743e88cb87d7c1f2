"""The balance monitor (tools/balance_monitor.py): its row text, sums and ticks, and its loop
against the emulator's HTTP side with a fake wall clock, so no test waits for a tick."""
from __future__ import annotations

import datetime
import http.server
import io
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import balance_monitor as bm

ROOT = Path(__file__).resolve().parent.parent
SPEC_SAMPLE = [
    "values below in milliDuco",
    "Time            Total  ping    10 sec    minute    Duco/d",
    "19:47:00       49.549   902     9.136    38.267     55.10",
    "19:47:10       53.310    16     3.760    37.420     53.89",
]


class FakeTime:
    """Wall clock that moves only by sleep(): ticks come at once, and the loop cannot tell."""

    def __init__(self, now: float = 1003.0) -> None:
        self.now = now
        self.slept = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds
        self.slept += seconds


def free_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def not_json_server():
    """A loopback HTTP server whose every answer is 200 with a body that is not JSON."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>maintenance</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def api_of(emulator) -> str:
    return "http://127.0.0.1:%d" % emulator.http_port


# -- pure parts ------------------------------------------------------------------------------
def test_formatter_reproduces_the_spec_sample_byte_for_byte():
    assert bm.UNITS_LINE == SPEC_SAMPLE[0]
    assert bm.HEADER == SPEC_SAMPLE[1]
    assert bm.format_row("19:47:00", 49.549, 902, 9.136, 38.267, 55.10) == SPEC_SAMPLE[2]
    assert bm.format_row("19:47:10", 53.310, 16, 3.760, 37.420, 53.89) == SPEC_SAMPLE[3]


def test_an_overflowing_value_still_leaves_a_space_between_columns():
    row = bm.format_row("19:47:20", 123456789012.5, 123456, 1e9, 1e9, 1e9)
    assert len(row.split()) == 6


def test_error_row_keeps_the_time_column_and_is_one_line():
    row = bm.format_error("19:47:20", "bad\nthing   happened\r\n" + "x" * 500)
    assert row.startswith("19:47:20  error: bad thing happened x")
    assert "\n" not in row and len(row) < 130


def test_first_balance_is_the_start_and_brings_no_change():
    tally = bm.Tally()
    first = tally.add(12.0)
    assert (first.total, first.change, first.minute, first.duco_per_day) == (0.0, 0.0, 0.0, 0.0)
    second = tally.add(12.0095)
    assert second.total == pytest.approx(9.5)
    assert second.change == pytest.approx(9.5)
    assert second.minute == pytest.approx(9.5)
    assert second.duco_per_day == pytest.approx(9.5 * 1.44)


def test_minute_sums_only_the_last_six_changes():
    tally = bm.Tally()
    balances = [1.0]
    for change_mduco in [1, 2, 3, 4, 5, 6, 7, 8]:  # eight changes: the first two drop out
        balances.append(balances[-1] + change_mduco / 1000)
    readings = [tally.add(b) for b in balances]
    assert readings[6].minute == pytest.approx(1 + 2 + 3 + 4 + 5 + 6)
    assert readings[7].minute == pytest.approx(2 + 3 + 4 + 5 + 6 + 7)
    assert readings[8].minute == pytest.approx(3 + 4 + 5 + 6 + 7 + 8)
    assert readings[8].change == pytest.approx(8)
    assert readings[8].total == pytest.approx(36)
    assert readings[8].duco_per_day == pytest.approx(33 * 1440 / 1000)


def test_a_falling_balance_gives_negative_changes():
    tally = bm.Tally()
    tally.add(5.0)
    reading = tally.add(4.0)
    assert reading.change == pytest.approx(-1000) and reading.total == pytest.approx(-1000)


@pytest.mark.parametrize("now, tick", [(1000.0, 1010.0), (1003.7, 1010.0), (1009.999, 1010.0),
                                       (1010.0, 1020.0), (1019.5, 1020.0)])
def test_next_tick_is_the_next_wall_clock_multiple_of_ten_seconds(now, tick):
    assert bm.next_tick(now, 10) == tick


def test_next_tick_is_strictly_later_for_awkward_intervals():
    for i in range(1, 2000):
        now = i * 0.1
        tick = bm.next_tick(now, 0.3)
        assert now < tick <= now + 0.3 + 1e-9


def test_parse_balance_reads_the_balance_and_turns_every_refusal_into_balance_error():
    assert bm.parse_balance(b'{"success": true, "result": {"username": "u", "balance": 12.345678}}') \
        == 12.345678
    assert bm.parse_balance(b'{"success": true, "result": {"balance": 3}}') == 3.0
    cases = {
        b'{"success": false, "message": "User not found"}': "User not found",
        b'{"success": false}': "the API reported a failure",
        b"<html>maintenance</html>": "bad JSON from the API",
        b"\xff\xfe": "bad JSON from the API",
        b"[1, 2]": "unexpected answer from the API",
        b'{"success": true, "result": {"balance": "12"}}': "no balance in the API's answer",
        b'{"success": true, "result": {"balance": true}}': "no balance in the API\'s answer",
        b'{"success": true}': "no balance in the API's answer",
    }
    for body, message in cases.items():
        with pytest.raises(bm.BalanceError) as info:
            bm.parse_balance(body)
        assert str(info.value) == message


def test_describe_error_gives_short_reasons():
    import urllib.error

    assert bm.describe_error(urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))) \
        == "connection refused"
    assert bm.describe_error(urllib.error.URLError(TimeoutError("timed out"))) == "timed out"
    assert bm.describe_error(TimeoutError()) == "timed out"
    assert bm.describe_error(urllib.error.URLError("unknown host")) == "unknown host"


def test_balance_url_quotes_the_user():
    assert bm.balance_url("http://127.0.0.1:8/", "a b/c") == "http://127.0.0.1:8/balances/a%20b%2Fc"


def test_ping_is_measured_with_the_monotonic_clock_in_ms():
    fake = FakeTime()
    mono = [100.0]

    def fetch(url: str) -> bytes:
        mono[0] += 1.234  # the request takes 1.234 s; the wall clock is not consulted
        return b'{"success": true, "result": {"balance": 1.0}}'

    out = io.StringIO()
    bm.run("u", "http://127.0.0.1:1", out, count=1, clock=fake.time, sleep=fake.sleep,
           monotonic=lambda: mono[0], fetch=fetch)
    assert out.getvalue().splitlines()[2].split()[2] == "1234"


# -- the loop against the emulator -----------------------------------------------------------
def test_rows_come_on_wall_clock_ticks_and_total_grows_with_the_balance(emulator):
    fake = FakeTime(now=1003.0)
    balances = iter([2.0, 2.0091, 2.0137])  # Duco, one per tick

    def fetch(url: str) -> bytes:
        # the test raises the emulator's balance between ticks, then the monitor reads it
        emulator.stats.balances["u"] = next(balances)
        return bm.fetch_url(url)

    out = io.StringIO()
    rows = bm.run("u", api_of(emulator), out, count=3, interval=10, clock=fake.time,
                  sleep=fake.sleep, fetch=fetch)
    lines = out.getvalue().splitlines()
    assert rows == 3
    assert lines[:2] == SPEC_SAMPLE[:2]
    assert [line[:8] for line in lines[2:]] == [bm.tick_label(t) for t in (1010, 1020, 1030)]
    fields = [line.split() for line in lines[2:]]
    assert [f[1] for f in fields] == ["0.000", "9.100", "13.700"]
    assert [f[3] for f in fields] == ["0.000", "9.100", "4.600"]
    assert [f[4] for f in fields] == ["0.000", "9.100", "13.700"]
    assert fields[2][5] == "%.2f" % (13.7 * 1.44)
    assert all(0 <= int(f[2]) < 5000 for f in fields)
    assert fake.now == pytest.approx(1030)  # waited for the ticks, on the fake clock only


def test_the_balance_grows_with_shares_the_emulator_accepts(emulator):
    # the emulator adds REWARD per accepted share; here its bookkeeping is driven directly
    from duco_server import REWARD

    fake = FakeTime()
    emulator.stats.balances["u"] = 0.0

    def fetch(url: str) -> bytes:
        body = bm.fetch_url(url)
        emulator.stats.balances["u"] += 4 * REWARD  # four shares accepted before the next tick
        return body

    out = io.StringIO()
    bm.run("u", api_of(emulator), out, count=3, clock=fake.time, sleep=fake.sleep, fetch=fetch)
    totals = [float(line.split()[1]) for line in out.getvalue().splitlines()[2:]]
    assert totals == pytest.approx([0, 4 * REWARD * 1000, 8 * REWARD * 1000])


@pytest.mark.parametrize("failure", ["refused", "unknown user", "bad json", "http 404"])
def test_a_failed_read_gives_an_error_row_and_the_loop_goes_on(emulator, not_json_server, failure):
    emulator.stats.balances["u"] = 1.0
    good = bm.balance_url(api_of(emulator), "u")
    bad = {
        "refused": bm.balance_url("http://127.0.0.1:%d" % free_port(), "u"),
        "unknown user": bm.balance_url(api_of(emulator), "nobody"),
        "bad json": bm.balance_url(not_json_server, "u"),
        "http 404": api_of(emulator) + "/no/such/path",
    }[failure]
    expected = {"refused": "connection refused", "unknown user": "User not found",
                "bad json": "bad JSON from the API", "http 404": "HTTP 404 Not Found"}[failure]
    urls = iter([good, bad, good])

    def fetch(url: str) -> bytes:
        emulator.stats.balances["u"] += 0.001
        return bm.fetch_url(next(urls))

    fake = FakeTime()
    out = io.StringIO()
    assert bm.run("u", api_of(emulator), out, count=3, clock=fake.time, sleep=fake.sleep,
                  fetch=fetch) == 3
    lines = out.getvalue().splitlines()
    assert lines[3] == bm.format_error(bm.tick_label(1020), expected)
    # the row after the failure counts the change since the last good read: both intervals
    assert lines[4].split()[1:2] + lines[4].split()[3:5] == ["2.000", "2.000", "2.000"]


def test_any_key_stops_the_loop_between_ticks(emulator):
    emulator.stats.balances["u"] = 1.0
    fake = FakeTime()
    out = io.StringIO()
    rows = bm.run("u", api_of(emulator), out, count=0, clock=fake.time, sleep=fake.sleep,
                  stop=lambda: fake.now > 1025)
    assert rows == 2  # ticks 1010 and 1020, then the key before 1030
    assert fake.now < 1030


def test_main_appends_rows_to_the_log_file_and_prints_them(emulator, tmp_path, capsys):
    emulator.stats.balances["u"] = 1.0
    log = tmp_path / "b.log"
    for _ in range(2):  # a second run appends, it does not overwrite
        fake = FakeTime()
        assert bm.main(["u", "--api", api_of(emulator), "--count", "2", "--log", str(log)],
                       clock=fake.time, sleep=fake.sleep) == 0
    printed = capsys.readouterr().out.splitlines()
    logged = log.read_text().splitlines()
    assert printed[:2] == SPEC_SAMPLE[:2] and len(printed) == 8
    assert logged[0].startswith("# balance of u from %s, started " % api_of(emulator))
    assert logged[1:5] == printed[:4]
    assert logged[5].startswith("# balance of u") and logged[6:] == printed[4:]


def test_the_default_log_is_named_after_the_user_and_stays_in_the_folder():
    assert bm.default_log("targon") == "balance-targon.log"
    assert bm.default_log("../x/y") == "balance-.._x_y.log"


def test_ctrl_c_stops_without_a_traceback(emulator, tmp_path, capsys):
    def sleep(seconds: float) -> None:
        raise KeyboardInterrupt

    assert bm.main(["u", "--api", api_of(emulator), "--log", str(tmp_path / "b.log")],
                   clock=FakeTime().time, sleep=sleep) == 0
    assert capsys.readouterr().out.splitlines()[:2] == SPEC_SAMPLE[:2]


def test_command_line_refuses_a_too_short_interval_and_a_non_http_api(capsys):
    for argv in (["u", "--interval", "0.01"], ["u", "--api", "ftp://127.0.0.1"], ["u", "--api", "x"]):
        with pytest.raises(SystemExit) as info:
            bm.main(argv)
        assert info.value.code == 2
    assert "5 requests a second" in capsys.readouterr().err


def test_keyboard_puts_a_terminal_in_cbreak_mode_sees_a_key_and_restores_it():
    termios = pytest.importorskip("termios")
    main_fd, tty_fd = os.openpty()
    try:
        stream = os.fdopen(tty_fd, "r", closefd=False)
        before = termios.tcgetattr(tty_fd)
        with bm.Keyboard(stream) as keyboard:
            lflag = termios.tcgetattr(tty_fd)[3]
            assert not lflag & termios.ICANON and not lflag & termios.ECHO
            assert not keyboard.pressed()
            os.write(main_fd, b"q")  # one key, no Enter
            assert keyboard.pressed()
            assert not keyboard.pressed()  # the key was taken
        assert termios.tcgetattr(tty_fd) == before
    finally:
        os.close(main_fd)
        os.close(tty_fd)


def test_keyboard_ignores_a_stdin_that_is_not_a_terminal():
    with bm.Keyboard(io.StringIO("x")) as keyboard:
        assert not keyboard.pressed()


# -- the plot --------------------------------------------------------------------------------
LOG = """# balance of u from http://127.0.0.1:1, started 2024-05-01 23:59:40
values below in milliDuco
Time            Total  ping    10 sec    minute    Duco/d
23:59:50        0.000     3     0.000     0.000      0.00
00:00:00        9.100     2     9.100     9.100     13.10
00:00:10  error: connection refused
00:00:20       13.700     2     4.600    13.700     19.73
"""


def test_parse_log_reads_number_rows_and_crosses_midnight():
    points = bm.parse_log(LOG.splitlines(), datetime.date(2000, 1, 1))
    assert points == [(datetime.datetime(2024, 5, 1, 23, 59, 50), 0.0),
                      (datetime.datetime(2024, 5, 2, 0, 0, 0), 13.10),
                      (datetime.datetime(2024, 5, 2, 0, 0, 20), 19.73)]


def test_plot_writes_a_png_of_duco_per_day(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    log = tmp_path / "b.log"
    log.write_text(LOG)
    png = tmp_path / "b.png"
    assert bm.main(["u", "--log", str(log), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "3 rows" in capsys.readouterr().out


def test_plot_without_matplotlib_names_the_pip_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    log = tmp_path / "b.log"
    log.write_text(LOG)
    assert bm.main(["u", "--log", str(log), "--plot", str(tmp_path / "b.png")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "pip install matplotlib" in out[0]
    assert not (tmp_path / "b.png").exists()


# -- make balance ----------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_balance_needs_user_on_the_command_line_and_passes_api():
    env = dict(os.environ, USER="loginname")
    usage = subprocess.run(["make", "-s", "balance"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert usage.returncode != 0
    assert "usage: make balance USER=" in usage.stderr
    dry = subprocess.run(["make", "-s", "-n", "balance", "USER=targon", "API=http://127.0.0.1:9"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert "tools/balance_monitor.py 'targon' --api 'http://127.0.0.1:9'" in dry.stdout
