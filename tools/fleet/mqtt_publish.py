"""The fleet's figures on an MQTT broker, the way Home Assistant finds them by itself.

One MQTT connection per rig, open while the rig's WebREPL session is (paho-mqtt, MQTT 5):
- its last will, `<prefix>/<rig>/availability` = `offline` (retained), set at connect. When the
  rig's session drops, the connection is closed with reason 0x04, "disconnect with will
  message", so the broker itself publishes the will; if the monitor dies, the broker publishes
  it too. `online` (retained) follows every connect.
- Home Assistant discovery (retained), at connect and for each target first seen:
  `<discovery>/sensor/<prefix>_<rig>/<object>/config`, one sensor per figure of the rig and
  of each target, all of one device per rig, available with the rig.
- the state (retained JSON), every `interval` s and at connect: `<prefix>/<rig>/state` and
  `<prefix>/<rig>/target/<addr>/state`, with the page's figures (fleet/figures.py).
"""
from __future__ import annotations

import json
import threading
from typing import Any, Callable

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

KEEPALIVE_S = 30
# figure -> (name, unit, state class); the same figures for a rig and for each of its targets
SENSORS = {
    "per_min_1m": ("shares/min (1 min)", "shares/min", "measurement"),
    "per_min_1h": ("shares/min (1 h)", "shares/min", "measurement"),
    "per_min_24h": ("shares/min (24 h)", "shares/min", "measurement"),
    "accepted": ("accepted", "shares", "total_increasing"),
    "rejected": ("rejected", "shares", "total_increasing"),
    "hash_rate": ("hash rate", "H/s", "measurement"),
    "snd_res_ms": ("SndRes latency", "ms", "measurement"),
    "req_job_ms": ("ReqJob latency", "ms", "measurement"),
    "faults_1h": ("faults (1 h)", "faults", "measurement"),
}


def parse_broker(text: str) -> tuple[str, int]:
    """`host:port` (or `host`, port 1883) -> (host, port); ValueError when it is neither."""
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "1883")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("MQTT wants host:port, not %r" % text)
    return host, int(port)


class MqttPublisher:
    def __init__(self, host: str, port: int, figures: Callable[[str], dict[str, Any] | None],
                 say: Callable[[str], None], prefix: str = "duco_fleet",
                 discovery: str = "homeassistant", interval: float = 10.0) -> None:
        self.host, self.port = host, port
        self.figures = figures  # the rig's figures now, as the page has them
        self.say = say
        self.prefix = prefix
        self.discovery = discovery
        self.interval = interval
        self.clients: dict[str, mqtt.Client] = {}
        self.announced: dict[str, set[int | None]] = {}  # rig -> whose sensors were announced
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._publish_every, name="mqtt", daemon=True)

    def start(self) -> "MqttPublisher":
        self.thread.start()
        return self

    def stop(self) -> None:
        """The monitor ends: every rig's connection closes with its will (its data is gone)."""
        self.stopping.set()
        for rig in list(self.clients):
            self.offline(rig)

    def availability(self, rig: str) -> str:
        return "%s/%s/availability" % (self.prefix, rig)

    # -- the rig's session (fleet.watch.SessionListener) ----------------------------------------
    def online(self, rig: str) -> None:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="%s-%s" % (self.prefix, rig),
                             protocol=mqtt.MQTTv5)
        client.will_set(self.availability(rig), "offline", qos=1, retain=True)
        client.on_connect = lambda c, userdata, flags, code, props: self._connected(rig, c, code)
        with self.lock:
            self.clients[rig] = client
            self.announced[rig] = set()
        client.connect_async(self.host, self.port, keepalive=KEEPALIVE_S)
        client.loop_start()  # paho keeps reconnecting while the broker is away

    def offline(self, rig: str) -> None:
        with self.lock:
            client = self.clients.pop(rig, None)
        if client is None:
            return
        if client.is_connected():
            client.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message"))
        client.loop_stop()

    def _connected(self, rig: str, client: mqtt.Client, code: ReasonCode) -> None:
        if code.is_failure:
            self.say("mqtt: %s:%d refused %s's connection: %s" % (self.host, self.port, rig, code))
            return
        with self.lock:
            self.announced[rig] = set()
        client.publish(self.availability(rig), "online", qos=1, retain=True)
        self._publish(rig, client)

    # -- what is published ---------------------------------------------------------------------
    def _publish_every(self) -> None:
        while not self.stopping.wait(self.interval):
            with self.lock:
                clients = dict(self.clients)
            for rig, client in clients.items():
                if client.is_connected():
                    self._publish(rig, client)

    def _publish(self, rig: str, client: mqtt.Client) -> None:
        figures = self.figures(rig)
        if figures is None:
            return
        with self.lock:  # None stands for the rig's own sensors
            announced = self.announced.setdefault(rig, set())
            new = [k for k in [None] + [t["target"] for t in figures["targets"]] if k not in announced]
            announced.update(new)
        for target in new:
            self._announce(client, rig, target)
        state = {k: v for k, v in figures.items() if k != "targets"}
        client.publish(self.state_topic(rig, None), json.dumps(state), qos=1, retain=True)
        for t in figures["targets"]:
            client.publish(self.state_topic(rig, t["target"]), json.dumps(t), qos=1, retain=True)

    def state_topic(self, rig: str, target: int | None) -> str:
        if target is None:
            return "%s/%s/state" % (self.prefix, rig)
        return "%s/%s/target/%d/state" % (self.prefix, rig, target)

    def _announce(self, client: mqtt.Client, rig: str, target: int | None) -> None:
        node = "%s_%s" % (self.prefix, rig)
        device = {"identifiers": [node], "name": "Duino-Coin rig %s" % rig,
                  "manufacturer": "duco-i2c-rig", "model": "ESP8266 with Mini Pros"}
        for figure, (name, unit, state_class) in SENSORS.items():
            obj = figure if target is None else "t%d_%s" % (target, figure)
            config = {
                "name": name if target is None else "target %d %s" % (target, name),
                "unique_id": "%s_%s" % (node, obj), "object_id": "%s_%s" % (node, obj),
                "state_topic": self.state_topic(rig, target),
                "value_template": "{{ value_json.%s }}" % figure,
                "unit_of_measurement": unit, "state_class": state_class,
                "availability_topic": self.availability(rig), "device": device,
            }
            client.publish("%s/sensor/%s/%s/config" % (self.discovery, node, obj), json.dumps(config),
                           qos=1, retain=True)
