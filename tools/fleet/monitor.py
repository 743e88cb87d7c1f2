"""`make fleet FLEET=fleet.txt`: watch every rig of a fleet file over WebREPL, keep their logs in
SQLite, serve the page on 127.0.0.1, and optionally publish over MQTT (docs/fleet.md).

    monitor.py FLEET_FILE [--port 8270] [--db FILE] [--mqtt HOST:PORT] [--user NAME] [--api URL]
               [--keep-days 30] [--seconds N]

It prints one line when it starts (the page's address) and one line per change of a rig's state.
Ctrl-C stops it; the history stays in the database for the next start.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

if __name__ == "__main__":  # run as a script: the package and the other tools from tools/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from fleet import figures, fleetfile
from fleet.fleetfile import RigConfig
from fleet.mqtt_publish import MqttPublisher, parse_broker
from fleet.store import Store
from fleet.wallet import Wallet
from fleet.watch import RigWatch
from fleet.web import PageServer

import balance_monitor

PRUNE_EVERY_S = 3600.0


class Fleet:
    """The rigs' watchers, the store they fill, and what reads it: the page's JSON, MQTT."""

    def __init__(self, rigs: list[RigConfig], store: Store, say: Callable[[str], None], *,
                 wallet: Wallet | None = None, mqtt: tuple[str, int] | None = None,
                 mqtt_interval: float = 10.0, timeout: float = 10.0, backoff_first: float = 1.0,
                 backoff_max: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.wallet = wallet
        self.clock = clock
        self.publisher = (MqttPublisher(mqtt[0], mqtt[1], self.rig_figures, say, interval=mqtt_interval)
                          if mqtt else None)
        listeners = [self.publisher] if self.publisher else []
        self.watches = [RigWatch(rig, store, say, listeners=listeners, timeout=timeout,  # type: ignore[arg-type]
                                 backoff_first=backoff_first, backoff_max=backoff_max, clock=clock)
                        for rig in rigs]

    def start(self) -> "Fleet":
        if self.publisher:
            self.publisher.start()
        if self.wallet:
            self.wallet.start()
        for w in self.watches:
            w.start()
        return self

    def stop(self) -> None:
        for w in self.watches:
            w.stopping.set()
        for w in self.watches:
            w.stop()
        if self.publisher:
            self.publisher.stop()
        if self.wallet:
            self.wallet.stop()

    def watch(self, name: str) -> RigWatch:
        return next(w for w in self.watches if w.rig.name == name)

    def rig_figures(self, name: str) -> dict[str, Any] | None:
        w = next((w for w in self.watches if w.rig.name == name), None)
        return figures.rig(self.store, w.rig_id, w.status, self.clock()) if w else None

    def snapshot(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "now": now,
            "rigs": [figures.rig(self.store, w.rig_id, w.status, now) for w in self.watches],
            "plot": figures.plot(self.store, {w.rig.name: w.rig_id for w in self.watches}, now),
            "wallet": self.wallet.snapshot() if self.wallet else None,
        }


def printer() -> Callable[[str], None]:
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            print("fleet: " + line, flush=True)

    return say


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fleet_file", type=Path, help="the rigs: `name host port password-file` a line")
    ap.add_argument("--port", type=int, default=8270, help="the page's port on 127.0.0.1 (0: a free one)")
    ap.add_argument("--db", type=Path, help="the SQLite file (default: the fleet file's name, .sqlite)")
    ap.add_argument("--mqtt", help="HOST:PORT of an MQTT broker to publish to")
    ap.add_argument("--user", help="the Duino-Coin user whose balance the page shows")
    ap.add_argument("--api", default=balance_monitor.DEFAULT_API, help="the REST API for the balance")
    ap.add_argument("--keep-days", type=float, default=30, help="history kept in the file (default 30 days)")
    ap.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0: at Ctrl-C)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    say = printer()
    try:
        rigs = fleetfile.read(args.fleet_file)
        mqtt = parse_broker(args.mqtt) if args.mqtt else None
    except ValueError as exc:
        say(str(exc))
        return 2
    db = args.db or args.fleet_file.with_suffix(".sqlite")
    store = Store(db)
    wallet = Wallet(args.user, args.api) if args.user else None
    fleet = Fleet(rigs, store, say, wallet=wallet, mqtt=mqtt)
    try:
        page = PageServer(fleet.snapshot, args.port).start()
    except OSError as exc:
        say("cannot serve the page on 127.0.0.1:%d: %s" % (args.port, exc.strerror or exc))
        return 1
    say("%d rigs from %s, history in %s; the page: %s%s" % (
        len(rigs), args.fleet_file, db, page.url, "; MQTT to %s:%d" % mqtt if mqtt else ""))
    fleet.start()
    end = time.monotonic() + args.seconds if args.seconds else None
    try:
        while end is None or time.monotonic() < end:
            store.prune(time.time() - args.keep_days * 86400)
            time.sleep(max(0.0, min(PRUNE_EVERY_S, end - time.monotonic())) if end else PRUNE_EVERY_S)
    except KeyboardInterrupt:
        pass
    fleet.stop()
    page.stop()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
