"""`make bench-throughput` says how long it will take before it starts, reports each rig as it
ends, and has a quick form of about a minute (QUICK=1)."""
from __future__ import annotations

import re
import subprocess
import sys

import bench_throughput
from conftest import ROOT


def planned_seconds(argv: list[str]) -> tuple[list[tuple[str, int]], float]:
    args = bench_throughput.arguments().parse_args(argv)
    runs, seconds = bench_throughput.plan(args)
    latency_s = (args.latency + args.jitter / 2) / 1000
    return runs, sum(bench_throughput.expected_seconds(n, mode, seconds, latency_s) for mode, n in runs)


def test_quick_is_about_a_minute_and_keeps_the_four_target_comparison():
    runs, total = planned_seconds(["--quick"])
    assert 45 <= total <= 75
    assert ("block", 4) in runs and ("poll", 4) in runs


def test_the_whole_table_is_about_fourteen_minutes_as_the_docs_say():
    _, total = planned_seconds([])
    assert 13 * 60 <= total <= 15 * 60
    assert "about 14 minutes" in (ROOT / "docs" / "performance.md").read_text()


def test_make_passes_quick_on():
    for value, passed in (("1", True), ("0", False), ("", False)):
        r = subprocess.run(["make", "-n", "bench-throughput", "QUICK=" + value], cwd=ROOT, capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0 and ("--quick" in r.stdout) == passed, (value, r.stdout)


def test_it_says_the_expected_time_first_then_each_run_as_it_ends():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "bench_throughput.py"), "--targets", "1",
                        "--modes", "block poll", "--seconds", "1", "--latency", "0", "--jitter", "0"],
                       capture_output=True, text=True, timeout=60)

    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"2 runs, about \dm\d\ds in all \(QUICK=1: about a minute\)", lines[1]), lines
    assert lines[2] == "[1/2] block, 1 target, 1 s of loop ..."
    assert re.fullmatch(r"  block  1 targets: \d+ shares, .*\(\dm\d\ds so far, about \dm\d\ds left\)", lines[3])
    assert lines[4] == "[2/2] poll, 1 target, 1 s of loop ..."
    assert re.fullmatch(r"  poll  1 targets: .*, about 0m00s left\)", lines[5])
    assert lines[6].startswith("mode   targets")
