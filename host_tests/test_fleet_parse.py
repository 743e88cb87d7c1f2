"""The fleet monitor's pure parts: the log parser, the line splitter, the fleet file, and the
figures computed from a store filled with events at known times."""
from __future__ import annotations

from pathlib import Path

import pytest

from fleet import figures, fleetfile
from fleet.mqtt_publish import parse_broker
from fleet.logparse import AllBusy, Fault, JobSent, LineSplitter, LogParser, LoopDone, LoopRound, Share, Unparsed
from fleet.store import Store
from fleet.watch import RigStatus

SHARE_LINES = """===Loop  99851
*** Targ  20 Sta  C
ela 2863  res  476  rat 166
SndRes took  755
GOOD
ReqJob took  1431
Hashes sent  30
"""


def parse(text: str) -> list:
    parser = LogParser()
    events = [e for line in text.splitlines() for e in parser.feed(line)]
    return events + parser.end_turn()


def test_a_turn_with_a_result_is_one_share_with_every_figure():
    assert parse(SHARE_LINES) == [LoopRound(99851), Share(20, "GOOD", 2863, 476, 166, 755, 1431, 30)]


def test_spacing_is_taken_as_it_comes():
    text = SHARE_LINES.replace("res  476", "res 476").replace("SndRes took  755", "SndRes took 755 ")
    assert parse(text)[1] == Share(20, "GOOD", 2863, 476, 166, 755, 1431, 30)


def test_bad_feedback_is_a_rejected_share_and_block_an_accepted_one():
    bad, block = (parse(SHARE_LINES.replace("GOOD", fb))[1] for fb in ("BAD,Incorrect result", "BLOCK"))
    assert (bad.feedback, bad.accepted) == ("BAD,Incorrect result", False)
    assert block.accepted


def test_a_garbled_line_inside_a_turn_is_kept_and_the_share_still_counts():
    text = SHARE_LINES.replace("ela 2863  res  476  rat 166", "ela 28\ufffd3  res  4")
    assert parse(text) == [LoopRound(99851), Unparsed("ela 28\ufffd3  res  4"),
                           Share(20, "GOOD", None, None, None, 755, 1431, 30)]


def test_a_first_job_is_a_job_sent_not_a_share():
    text = "*** Targ  21 Sta  I\nReqJob took  12\nHashes sent  4\n"
    assert parse(text) == [JobSent(21, "I", 12, 4)]


def test_a_failed_job_request_after_the_feedback_keeps_the_share():
    text = ("*** Targ  22 Sta  C\nela 100  res 16  rat 160\nSndRes took  80\nGOOD\n"
            "*** Targ  22 no job: BAD,Too many workers, retry in 2 s\n")
    assert parse(text) == [Share(22, "GOOD", 100, 16, 160, 80), Fault(22, text.splitlines()[-1])]


def test_a_result_that_never_got_its_feedback_is_no_share():
    text = "*** Targ  20 Sta  C\nela 100  res 16  rat 160\nSndRes took  80\n===Loop  7\n"
    assert parse(text) == [LoopRound(7)]


def test_faults_all_busy_loop_done_and_the_bus_fault():
    text = ("*** Targ  21 I2C error ETIMEDOUT, retry in 2 s\nAll Bus  3\n"
            "*** I2C bus was stuck (SDA low), freed with SCL pulses\nLoop Done\n")
    assert parse(text) == [Fault(21, "*** Targ  21 I2C error ETIMEDOUT, retry in 2 s"), AllBusy(3),
                           Fault(None, "*** I2C bus was stuck (SDA low), freed with SCL pulses"), LoopDone()]


def test_lines_split_anywhere_and_crlf_become_whole_lines():
    splitter = LineSplitter()
    assert splitter.feed("===Lo") == []
    assert splitter.feed("op  5\r\n*** Targ  20 ") == ["===Loop  5"]
    assert splitter.feed("Sta  C\nela") == ["*** Targ  20 Sta  C"]
    assert splitter.rest() == "ela" and splitter.rest() == ""


def test_fleet_file_reads_rigs_and_their_passwords_from_the_named_files(tmp_path):
    (tmp_path / "cfg40.py").write_text('# the board\'s copy\nPASS = "s3cret40"\n')
    (tmp_path / "fleet.txt").write_text("# name host port password\nrig40 192.168.1.40 8266 cfg40.py  # garage\n\n")
    [rig] = fleetfile.read(tmp_path / "fleet.txt")
    assert (rig.name, rig.host, rig.port, rig.password_file) == ("rig40", "192.168.1.40", 8266, tmp_path / "cfg40.py")
    assert rig.password() == "s3cret40"


@pytest.mark.parametrize("line, message", [
    ("rig40 host 8266", "want `name host port password-file`, got 3 words"),
    ("rig/40 host 8266 cfg.py", "rig name 'rig/40': letters, digits, _ and - only"),
    ("rig40 host 99999 cfg.py", "port '99999' is not a TCP port"),
])
def test_a_wrong_fleet_line_names_its_line_and_what_is_wrong(tmp_path, line, message):
    (tmp_path / "fleet.txt").write_text("\n" + line + "\n")
    with pytest.raises(fleetfile.FleetFileError, match="fleet.txt line 2: " + message.replace("(", r"\(")):
        fleetfile.read(tmp_path / "fleet.txt")


def test_a_password_file_without_pass_is_named_and_no_password_is_shown(tmp_path):
    (tmp_path / "cfg.py").write_text('PASSWORD = "hunter2"\n')
    [rig] = fleetfile.parse("r1 h 8266 cfg.py\n", tmp_path)
    with pytest.raises(fleetfile.FleetFileError) as err:
        rig.password()
    assert 'r1: %s has no PASS = "..." line' % (tmp_path / "cfg.py") == str(err.value)
    assert "hunter2" not in str(err.value)


def test_figures_count_the_windows_and_means_from_the_store(tmp_path: Path):
    store = Store(tmp_path / "f.sqlite")
    rig = store.rig_id("r1")
    session = store.open_session(rig, 0.0)
    now = 100_000.0
    store.add(rig, session, [
        (now - 30, Share(20, "GOOD", 1000, 160, 160, 100, 300, 5)),        # last minute
        (now - 1800, Share(20, "GOOD", 1000, 160, 140, 300, 500, 5)),      # last hour
        (now - 7200, Share(20, "BAD,Incorrect result", 1000, 1, 1, 200, 100, 5)),  # last day
        (now - 7100, Share(21, "GOOD", 900, 150, 166, 90, None, 5)),
        (now - 600, Fault(21, "*** Targ  21 I2C error ETIMEDOUT, retry in 2 s")),
    ])
    status = RigStatus("r1", "h", 8266, connection="online")
    r = figures.rig(store, rig, status, now)
    t20, t21 = r["targets"]
    assert (t20["per_min_1m"], t20["per_min_1h"], t20["per_min_24h"]) == (1, round(2 / 60, 2), round(2 / 1440, 3))
    assert (t20["accepted"], t20["rejected"], t20["hash_rate"], t20["snd_res_ms"], t20["req_job_ms"]) == (
        2, 1, 150.0, 200.0, 400.0)
    assert (t20["state"], t21["state"], t21["faults_1h"]) == ("mining", "fault", 1)
    assert t21["last_fault"] == "*** Targ  21 I2C error ETIMEDOUT, retry in 2 s"
    assert (r["accepted"], r["rejected"], r["faults_1h"]) == (3, 1, 1)
    assert (t21["hash_rate"], r["hash_rate"]) == (None, 150.0)  # target 21's share is over an hour old
    hour = figures.plot(store, {"r1": rig}, now)["hour"]
    # the share of 30 min ago; the one of 30 s ago is in the minute still running, not plotted yet
    assert hour["start"] % 60 == 0 and hour["rigs"]["r1"].count(1.0) == 1 and sum(hour["rigs"]["r1"]) == 1
    store.close()


def test_the_mqtt_broker_is_host_and_port_or_host_alone():
    assert parse_broker("192.168.1.5:1884") == ("192.168.1.5", 1884)
    assert parse_broker("broker.lan") == ("broker.lan", 1883)
    with pytest.raises(ValueError, match="MQTT wants host:port, not 'broker:x'"):
        parse_broker("broker:x")
