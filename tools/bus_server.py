"""The simulated I2C bus as a loopback service, for device code on the MicroPython unix port.

The fake `machine.I2C` there (host_tests/fakes/upy/machine.py) sends one line per transaction:
    W <addr> <hex>   a master write        -> OK
    R <addr> <n>     a master read of n    -> OK <hex>
    S                scan                  -> OK <addr> <addr> ...
    P <pin> <v>      drive a line (v 0/1)  -> OK;  v -1 reads it -> OK <0|1>
A failed transaction answers `E <errno>` (ENODEV for an address nobody answers at), which the
client raises as OSError, as the ESP8266's I2C does. The Mini Pros hash in this process, in
parallel with the device code, as real ones do.
"""
from __future__ import annotations

import argparse
import socketserver
import sys
import threading

from minipro_sim import DEFAULT_HASH_RATE, MiniPro, SimBus


def answer(bus: SimBus, line: str) -> str:
    words = line.split()
    try:
        if words[0] == "W":
            bus.writeto(int(words[1]), bytes.fromhex(words[2] if len(words) > 2 else ""))
            return "OK"
        if words[0] == "R":
            return "OK " + bus.readfrom(int(words[1]), int(words[2])).hex()
        if words[0] == "S":
            return "OK " + " ".join(str(a) for a in bus.scan())
        if words[0] == "P":
            pin, value = int(words[1]), int(words[2])
            if value < 0:
                return "OK %d" % bus.pin_read(pin)
            bus.pin_write(pin, value)
            return "OK"
    except OSError as e:
        return "E %d" % (e.errno or 5)
    return "E 22"  # EINVAL: not a transaction


def serve(bus: SimBus, port: int = 0) -> socketserver.ThreadingTCPServer:
    """Start serving `bus` on 127.0.0.1 in a daemon thread; the caller reads server_address."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            try:
                for raw in self.rfile:
                    self.wfile.write((answer(bus, raw.decode("ascii", "replace")) + "\n").encode())
            except ConnectionError:  # the device process ended mid-transaction: nothing to answer
                pass

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--rate", type=float, default=DEFAULT_HASH_RATE, help="hashes per second")
    ap.add_argument("targets", type=int, nargs="+", help="I2C addresses of the Mini Pros")
    args = ap.parse_args()
    bus = SimBus([MiniPro(a, hash_rate=args.rate) for a in args.targets])
    server = serve(bus, args.port)
    print(server.server_address[1], flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
