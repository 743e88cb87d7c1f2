"""`make fleet-demo`: a live fleet in one command, with no hardware.

Two simulated rigs (tools/fleet/simrig.py), each on its own server emulator: rig-a with three
Mini Pros and 300 ms (+ up to 200 ms) per server reply, rig-b with two and 700 ms (+ up to 300 ms)
and a fault switch on (every 9th job request is answered `BAD,Too many workers`). Both have
`autostart yes`, so they boot (boot.py starts WebREPL with the simulator's password), mine at
once, and the monitor (tools/fleet/monitor.py) logs in to both over WebREPL. The page's address
is printed; the wallet on the page is the pool's (both emulators together). Ctrl-C ends it all.

    demo.py [--port 8270] [--mqtt HOST:PORT] [--seconds N] [--rate H/s]
"""
from __future__ import annotations

import argparse
import http.server
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

if __name__ == "__main__":  # run as a script: the package and the other tools from tools/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from duco_server import Emulator, Faults, reply_json
from fleet import fleetfile
from fleet.monitor import Fleet, printer
from fleet.mqtt_publish import parse_broker
from fleet.simrig import SimRig
from fleet.store import Store
from fleet.wallet import Wallet
from fleet.web import PageServer
from minipro_sim import DEFAULT_HASH_RATE

USER = "simuser"  # the user sim.write_setup mines for
RIGS = (  # name, targets, the emulator's switches: latency (+ up to jitter) ms per reply, faults
    ("rig-a", [20, 21, 22], {"latency_ms": 300, "jitter_ms": 200}),
    ("rig-b", [20, 21], {"latency_ms": 700, "jitter_ms": 300, "bad_job_every": 9}),
)


class PoolBalances:
    """The pool's REST API for balances: what both emulators credited, as one pool would."""

    def __init__(self, emulators: list[Emulator]) -> None:
        self.emulators = emulators
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                user = self.path.rsplit("/", 1)[-1]
                found = [e.stats.balances[user] for e in owner.emulators if user in e.stats.balances]
                body = ({"success": True, "result": {"username": user, "balance": round(sum(found), 8)}}
                        if found else {"success": False, "message": "User not found"})
                reply_json(self, body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, args=(0.2,), daemon=True).start()

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.http.server_address[1]

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8270, help="the page's port on 127.0.0.1 (0: a free one)")
    ap.add_argument("--mqtt", help="HOST:PORT of an MQTT broker to publish to")
    ap.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0: at Ctrl-C)")
    ap.add_argument("--rate", type=float, default=DEFAULT_HASH_RATE, help="the Mini Pros' H/s")
    args = ap.parse_args(argv)
    say = printer()
    folder = Path(tempfile.mkdtemp(prefix="duco-fleet-demo-"))
    rigs = [SimRig(name, targets, folder / name, rate=args.rate, autostart=True, faults=Faults(**switches))
            for name, targets, switches in RIGS]
    pool = PoolBalances([r.emulator for r in rigs])
    fleet = page = None
    try:
        for rig in rigs:
            rig.start()
            say("%s: %d simulated Mini Pros, WebREPL on 127.0.0.1:%d, console in %s" % (
                rig.name, len(rig.addrs), rig.port, rig.folder / "console.log"))
        fleet_file = folder / "fleet.txt"
        fleet_file.write_text("".join(r.fleet_line() + "\n" for r in rigs))
        store = Store(folder / "fleet.sqlite")
        fleet = Fleet(fleetfile.read(fleet_file), store, say, wallet=Wallet(USER, pool.url),
                      mqtt=parse_broker(args.mqtt) if args.mqtt else None, backoff_first=0.5, backoff_max=5)
        page = PageServer(fleet.snapshot, args.port).start()
        fleet.start()
        say("the page: %s  (fleet file and history in %s; Ctrl-C ends the demo)" % (page.url, folder))
        end = time.monotonic() + args.seconds if args.seconds else None
        while end is None or time.monotonic() < end:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        say("cannot start: %s" % (exc.strerror or exc))
        return 1
    finally:
        if fleet:
            fleet.stop()
        if page:
            page.stop()
        for rig in rigs:
            rig.stop()
        pool.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
