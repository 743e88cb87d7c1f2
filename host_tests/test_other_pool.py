"""`make sim POOL=HOST:PORT` mines against any server that follows duco-server.md, not only our
emulator: here an independent minimal pool with other legal habits (a banner with no newline,
replies split over two TCP writes, a 4.3 banner, AVR jobs at difficulty 5)."""
from __future__ import annotations

import hashlib
import random
import re
import socket
import subprocess
import sys
import threading

from conftest import ROOT


class SplitReplyPool:
    def __init__(self) -> None:
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self.good = 0
        self.bad = 0
        self.rng = random.Random(3)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def reply(self, conn: socket.socket, text: str) -> None:
        data = text.encode()
        conn.sendall(data[:7])  # two TCP writes: the client must read to the newline
        conn.sendall(data[7:])

    def serve(self, conn: socket.socket) -> None:
        conn.sendall(b"4.3")  # a legal banner without its newline
        job = None
        with conn:
            while True:
                data = conn.recv(512)
                if not data:
                    return
                f = data.decode().strip().split(",")
                if f[0] == "JOB" and len(f) >= 3 and f[2] == "AVR":
                    last = "%040x" % self.rng.getrandbits(160)
                    nonce = self.rng.randint(1, 500)
                    job = (last, hashlib.sha1((last + str(nonce)).encode()).hexdigest())
                    self.reply(conn, "%s,%s,5\n" % job)
                elif job and f[0].isdigit() and len(f) == 5 and f[4].startswith("DUCOID"):
                    ok = hashlib.sha1((job[0] + f[0]).encode()).hexdigest() == job[1]
                    self.good += ok
                    self.bad += not ok
                    self.reply(conn, "GOOD\n" if ok else "BAD,Incorrect result\n")
                else:
                    self.reply(conn, "BAD,Incorrect data\n")


def test_sim_mines_good_shares_against_another_pool():
    pool = SplitReplyPool()
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "sim.py"), "--keys", "s 40l x",
                          "--pool", "127.0.0.1:%d" % pool.port, "--rate", "4000"],
                         capture_output=True, text=True, timeout=180)
    pool.srv.close()
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    goods = re.findall(r"^GOOD$", out.stdout, re.M)
    assert len(goods) > 0 and len(goods) == pool.good and pool.bad == 0
    assert "server 4.3" in out.stdout
