"""The fleet monitor against simulated rigs, through real WebREPL connections: the device code on
the rigs' interpreter with the WebREPL stand-in, the monitor logged in as a WebREPL client, its
SQLite file, its page in headless Chromium and its MQTT figures on a real Mosquitto.

One scenario runs once for the module (the `scenario` fixture) and every test checks one thing it
showed:
1. rig-a (3 targets) and rig-b (2 targets, a slower server), both in the ESP8266's heap, mine
   25 rounds with the monitor attached;
2. at rig-a's prompt an operator types digits and then bytes that are not UTF-8 (a garbled line
   in the console), and rig-a mines 5 rounds more;
3. rig-b loops, and is reset (killed and booted again) while it mines; the monitor logs in again
   and rig-b mines 40 rounds;
4. rig-c mines by itself all along, but the fleet file points at a wrong password for it.
The monitor's back-off is short here (0.1 to 0.5 s) so that the scenario takes seconds.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import paho.mqtt.client as mqtt
import pytest

from conftest import ROOT
from duco_server import Emulator, Faults
from fleet import fleetfile
from fleet.browser import Chromium
from fleet.monitor import Fleet
from fleet.simrig import SimRig, free_port
from fleet.store import Store
from fleet.web import PageServer
from minipro_sim import ducoid_for

TARGETS = {"rig-a": [20, 21, 22], "rig-b": [20, 21], "rig-c": [20]}
GARBLED = b"12\xc3("  # digits, then a byte that starts a two-byte character and one that cannot end it


class CountingEmulator(Emulator):
    """The server emulator, counting GOOD per DUCOID: per simulated Mini Pro."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.good_by_id: Counter[str] = Counter()

    def _result(self, fields, job, user, shares):
        reply = super()._result(fields, job, user, shares)
        if reply.startswith(("GOOD", "BLOCK")):
            with self.lock:
                self.good_by_id[fields[4]] += 1
        return reply

    def good(self, targets: list[int]) -> dict[int, int]:
        with self.lock:
            return {t: self.good_by_id[ducoid_for(t)] for t in targets}


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("never came: " + what)
        time.sleep(0.05)


def debian_tool(name: str) -> str | None:
    """The path of a tool from Debian's packages; as root, `make fleet-packages` installs it."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None and os.geteuid() == 0:
        subprocess.run(["make", "--no-print-directory", "fleet-packages"], cwd=ROOT, check=True,
                       capture_output=True, timeout=900)
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    return found


class Mosquitto:
    """A broker of our own on a free loopback port, nothing kept on disk."""

    def __init__(self, path: str, folder: Path) -> None:
        self.port = free_port()
        conf = folder / "mosquitto.conf"
        conf.write_text("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % self.port)
        self.proc = subprocess.Popen([path, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        wait_until(self._listening, 10, "mosquitto listening")

    def _listening(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Recorder:
    """An MQTT client that keeps every message it gets: (topic, text, retained)."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, str, bool]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._message
        self.subscribed = threading.Event()
        self.client.on_connect = lambda c, *a: c.subscribe("#", qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(10), "the recorder could not subscribe"

    def _message(self, client, userdata, message) -> None:
        with self.lock:
            self.messages.append((message.topic, message.payload.decode(), bool(message.retain)))

    def payloads(self, topic: str) -> list[str]:
        with self.lock:
            return [p for t, p, _ in self.messages if t == topic]

    def retained(self) -> dict[str, str]:
        with self.lock:
            return {t: p for t, p, r in self.messages if r}

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def login(rig: SimRig, fleet: Fleet) -> None:
    """Until the monitor is logged in. The stand-in serves a waiting client at the rig's next
    output, so a key at the H> prompt (`o`, the overview) makes the rig print."""
    watch = fleet.watch(rig.name)
    deadline = time.monotonic() + 30
    while watch.status.connection != "online":
        assert time.monotonic() < deadline, "%s: the monitor never logged in: %s" % (rig.name, watch.status)
        rig.type("o")
        end = time.monotonic() + 0.5
        while watch.status.connection != "online" and time.monotonic() < end:
            time.sleep(0.02)


def finished_runs(store: Store, rig_id: int) -> int:
    """Loop runs the monitor saw end with their last round (Loop Done after ===Loop  1)."""
    return store.query("SELECT COUNT(*) FROM loop_runs WHERE rig_id = ? AND last_round = 1", (rig_id,))[0][0]


def shares_by_target(store: Store, rig_id: int, session: int | None = None) -> dict[int, int]:
    rows = store.query("SELECT target, SUM(accepted) FROM shares WHERE rig_id = ? AND (? IS NULL OR session_id = ?)"
                       " GROUP BY target", (rig_id, session, session))
    return dict(rows)


def loop(rigs: list[SimRig], fleet: Fleet, rounds: int) -> None:
    """`<rounds>l` on each rig at once; back when each printed Loop Done and the monitor stored it."""
    before = {r.name: finished_runs(fleet.store, fleet.watch(r.name).rig_id) for r in rigs}
    for rig in rigs:
        rig.type("%dl" % rounds)
    for rig in rigs:
        rig_id = fleet.watch(rig.name).rig_id
        wait_until(lambda: finished_runs(fleet.store, rig_id) > before[rig.name], 90, rig.name + " Loop Done stored")


def start(rigs: list[SimRig]) -> None:
    for rig in rigs:
        prompts = rig.output().count("H> ")
        rig.type("s")
        rig.wait_for("H> ", prompts + 1, 60)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet")
    mosquitto_path = debian_tool("mosquitto")
    broker = Mosquitto(mosquitto_path, base) if mosquitto_path else None
    recorder = Recorder(broker.port) if broker else None
    emulators = {"rig-a": CountingEmulator(faults=Faults(latency_ms=5)),
                 "rig-b": CountingEmulator(faults=Faults(latency_ms=40, jitter_ms=20))}
    for e in emulators.values():
        e.start(http_port=None)
    a = SimRig("rig-a", TARGETS["rig-a"], base / "rig-a", emulator=emulators["rig-a"], rate=4000).start()
    b = SimRig("rig-b", TARGETS["rig-b"], base / "rig-b", emulator=emulators["rig-b"], rate=4000).start()
    c = SimRig("rig-c", TARGETS["rig-c"], base / "rig-c", rate=4000, autostart=True).start()
    wrong = base / "webrepl_cfg-c.py"
    wrong.write_text('PASS = "notit123"\n')
    fleet_file = base / "fleet.txt"
    fleet_file.write_text("%s\n%s\nrig-c 127.0.0.1 %d %s\n" % (a.fleet_line(), b.fleet_line(), c.port, wrong))
    said: list[str] = []
    store = Store(base / "fleet.sqlite")
    fleet = Fleet(fleetfile.read(fleet_file), store, said.append, timeout=5, backoff_first=0.1, backoff_max=0.5,
                  mqtt=("127.0.0.1", broker.port) if broker else None, mqtt_interval=0.5)
    page = PageServer(fleet.snapshot, 0).start()
    run = SimpleNamespace(a=a, b=b, c=c, emulators=emulators, fleet=fleet, store=store, page=page, said=said,
                          recorder=recorder, broker=broker, wrong_file=wrong)
    try:
        for rig in (a, b):
            rig.wait_for("H> ")
        fleet.start()
        for rig in (a, b):
            login(rig, fleet)
        ida, idb = fleet.watch("rig-a").rig_id, fleet.watch("rig-b").rig_id
        # 1. both mine, the monitor attached from the start
        start([a, b])
        loop([a, b], fleet, 25)
        run.counted = {"rig-a": shares_by_target(store, ida), "rig-b": shares_by_target(store, idb)}
        run.good = {name: e.good(TARGETS[name]) for name, e in emulators.items()}
        # 2. a garbled line at rig-a's prompt, then more shares
        prompts = a.output().count("H> ")
        a.type(GARBLED)
        a.wait_for("H> ", prompts + 1)
        loop([a], fleet, 5)
        run.counted_after_garble = shares_by_target(store, ida)
        run.good_after_garble = emulators["rig-a"].good(TARGETS["rig-a"])
        # 3. rig-b reset while it mines
        first_session = store.query("SELECT MAX(id) FROM sessions WHERE rig_id = ?", (idb,))[0][0]
        seen = sum(shares_by_target(store, idb).values())
        b.type("l")
        wait_until(lambda: sum(shares_by_target(store, idb).values()) >= seen + 3, 60, "rig-b mining")
        b.reset()
        wait_until(lambda: not emulators["rig-b"].clients, 20, "rig-b's server connections gone")
        run.good_at_reset = emulators["rig-b"].good(TARGETS["rig-b"])
        wait_until(lambda: store.query("SELECT ended FROM sessions WHERE id = ?", (first_session,))[0][0],
                   20, "the monitor saw the reset")
        b.wait_for("H> ")
        login(b, fleet)  # it may be logged in already: the stand-in serves it at the boot's output
        start([b])
        loop([b], fleet, 40)  # long enough for a target that faulted at `s` to be retried (2 s)
        run.good_after_reset = emulators["rig-b"].good(TARGETS["rig-b"])
        run.b_sessions = [s for (s,) in store.query("SELECT id FROM sessions WHERE rig_id = ? ORDER BY id", (idb,))]
        run.b_first_session = first_session
        # 4. rig-c: the monitor has tried its wrong password a few times by now
        wait_until(lambda: c.output().count("WebREPL connection from") >= 3, 20, "rig-c tried three times")
        yield run
    finally:
        fleet.stop()
        page.stop()
        for rig in (a, b, c):
            rig.stop()
        for e in emulators.values():
            e.stop()
        if recorder:
            recorder.stop()
        if broker:
            broker.stop()
        store.close()


def test_shares_counted_equal_the_servers_good_count_per_target(scenario):
    assert scenario.counted == scenario.good
    assert all(n > 0 for counts in scenario.good.values() for n in counts.values())


def test_a_garbled_line_is_kept_and_parsing_goes_on(scenario):
    ida = scenario.fleet.watch("rig-a").rig_id
    kept = [line for (line,) in scenario.store.query("SELECT line FROM lines WHERE rig_id = ?", (ida,))]
    assert "H> 12\ufffd(" in kept  # as the rig printed it, the broken byte marked
    assert scenario.counted_after_garble == scenario.good_after_garble
    assert sum(scenario.counted_after_garble.values()) > sum(scenario.counted["rig-a"].values())


def test_a_rig_reset_mid_run_is_reconnected_and_nothing_is_counted_twice(scenario):
    store, idb = scenario.store, scenario.fleet.watch("rig-b").rig_id
    first, second = scenario.b_first_session, scenario.b_sessions[-1]
    assert scenario.b_sessions == [first, second]  # one new session after the reset, no other
    before = shares_by_target(store, idb, first)
    after = shares_by_target(store, idb, second)
    for target in TARGETS["rig-b"]:
        # before the reset: every share the server accepted, but the one in flight when it died
        assert scenario.good_at_reset[target] - 1 <= before[target] <= scenario.good_at_reset[target]
        # after it: exactly the server's count since
        assert after.get(target, 0) == scenario.good_after_reset[target] - scenario.good_at_reset[target]
    assert sum(after.values()) > 0
    assert any("rig-b: offline" in line for line in scenario.said)


def test_a_wrong_password_is_one_clear_line(scenario):
    lines = [line for line in scenario.said if line.startswith("rig-c")]
    assert lines == ["rig-c: wrong password: wrong WebREPL password (the rig answered Access denied); "
                     "check %s" % scenario.wrong_file]
    assert not any("notit123" in line for line in scenario.said)
    assert scenario.fleet.watch("rig-c").status.connection == "wrong password"


def test_the_rigs_ran_clean_with_the_client_attached(scenario):
    for rig in (scenario.a, scenario.b):
        out = rig.output()
        assert "Traceback" not in out and "MemoryError" not in out and "out of memory" not in out
        assert "WebREPL connection from" in out  # the monitor, as the ESP's console shows it


def page_rows(browser: Chromium) -> list[dict[str, str]]:
    return browser.evaluate("""[...document.querySelectorAll('#rigs tbody tr')].map(tr => Object.assign(
        {kind: tr.className, rig: tr.dataset.rig, target: tr.dataset.target || ''},
        Object.fromEntries([...tr.querySelectorAll('td[data-field]')].map(td => [td.dataset.field, td.textContent]))))""")


def expected_row(store: Store, rig_id: int, target: int, now: float) -> dict[str, str]:
    """What the page should show for a target, straight from the database."""
    accepted, rejected, hour, rate, snd = store.query(
        "SELECT SUM(accepted), SUM(NOT accepted), SUM(accepted AND at >= ?), AVG(CASE WHEN at >= ? THEN rate END),"
        " AVG(CASE WHEN at >= ? THEN snd_res_ms END) FROM shares WHERE rig_id = ? AND target = ?",
        (now - 3600, now - 3600, now - 3600, rig_id, target))[0]
    return {"accepted": str(accepted), "rejected": str(rejected), "per_min_1h": "%.2f" % (hour / 60),
            "hash_rate": whole(rate), "snd_res_ms": whole(snd)}


def whole(mean: float) -> str:
    """A mean as the page shows it: to 0.1 by the monitor, then to a whole number by JavaScript's
    toFixed(0), which rounds a half up."""
    return str(math.floor(round(mean, 1) + 0.5))


def test_the_page_in_chromium_shows_the_databases_figures_and_updates_itself(scenario, tmp_path):
    if debian_tool("chromium") is None:
        pytest.skip("chromium is not installed and this is not root, so `make fleet-packages` cannot install it")
    store, fleet = scenario.store, scenario.fleet
    ida = fleet.watch("rig-a").rig_id
    with Chromium() as browser:
        browser.open(scenario.page.url)
        browser.wait_for("document.querySelectorAll('tr.target').length === 5")  # rig-c has none known
        rows = page_rows(browser)
        shown_at = float(browser.evaluate("document.body.dataset.updated"))
        browser.screenshot(tmp_path / "fleet.png")
        for row in (r for r in rows if r["kind"] == "target"):
            want = expected_row(store, fleet.watch(row["rig"]).rig_id, int(row["target"]), shown_at)
            assert {k: row[k] for k in want} == want, row
        rigs = {r["rig"]: r for r in rows if r["kind"] == "rig"}
        assert rigs["rig-a"]["state"] == "online" and rigs["rig-c"]["state"] == "wrong password"
        assert rigs["rig-a"]["accepted"] == str(sum(shares_by_target(store, ida).values()))
        # more shares: the page shows them without a reload
        runs = finished_runs(store, ida)
        scenario.a.type("3l")
        wait_until(lambda: finished_runs(store, ida) > runs, 30, "three more rounds stored")
        total = sum(shares_by_target(store, ida).values())
        browser.wait_for("[...document.querySelectorAll('tr.rig')].some(tr => tr.dataset.rig === 'rig-a'"
                         " && tr.querySelector('[data-field=accepted]').textContent === '%d')" % total)
    assert (tmp_path / "fleet.png").stat().st_size > 10_000


def test_mqtt_discovery_retained_state_and_the_last_will_when_a_rig_drops(scenario):
    if scenario.broker is None:
        pytest.skip("mosquitto is not installed and this is not root, so `make fleet-packages` cannot install it")
    store, fleet = scenario.store, scenario.fleet
    late = Recorder(scenario.broker.port)  # subscribes now: what it gets at once was retained
    try:
        ida = fleet.watch("rig-a").rig_id
        counted = shares_by_target(store, ida)
        state = "duco_fleet/rig-a/target/20/state"
        wanted = {"homeassistant/sensor/duco_fleet_%s/t%d_accepted/config" % (rig, target)
                  for rig in ("rig-a", "rig-b") for target in TARGETS[rig]}
        wanted |= {"duco_fleet/%s/%s" % (rig, what) for rig in ("rig-a", "rig-b") for what in ("state", "availability")}
        wait_until(lambda: wanted <= set(late.retained()), 10, "every retained topic")
        wait_until(lambda: json.loads(late.retained()[state])["accepted"] == counted[20], 10,
                   "the retained state of rig-a's target 20 at the database's count")
        retained = late.retained()
        for rig in ("rig-a", "rig-b"):
            for target in TARGETS[rig]:
                config = json.loads(retained["homeassistant/sensor/duco_fleet_%s/t%d_accepted/config" % (rig, target)])
                assert config["state_topic"] == "duco_fleet/%s/target/%d/state" % (rig, target)
                assert config["availability_topic"] == "duco_fleet/%s/availability" % rig
                assert config["value_template"] == "{{ value_json.accepted }}"
                assert config["device"]["identifiers"] == ["duco_fleet_%s" % rig]
            assert json.loads(retained["duco_fleet/%s/state" % rig])["accepted"] == sum(
                shares_by_target(store, fleet.watch(rig).rig_id).values())
            assert retained["duco_fleet/%s/availability" % rig] == "online"
    finally:
        late.stop()
    # rig-b's reset: its will, published by the broker, between two onlines; rig-c never logged in
    assert scenario.recorder.payloads("duco_fleet/rig-b/availability") == ["online", "offline", "online"]
    assert scenario.recorder.payloads("duco_fleet/rig-a/availability") == ["online"]
    assert scenario.recorder.payloads("duco_fleet/rig-c/availability") == []
