"""The wallet's balance rows for the page: the balance monitor's reading, in a thread.

Every `interval` (10 s), on wall-clock multiples of it, the balance is read from the Duino-Coin
REST API exactly as tools/balance_monitor.py reads it, and a row is kept with the same numbers it
prints (docs/balance.md): Total, ping, 10 sec, minute in milliDuco, and Duco/d.
"""
from __future__ import annotations

import http.client
import threading
import time
from collections import deque
from typing import Any, Callable

import balance_monitor as bm

KEEP_ROWS = 12  # two minutes of rows on the page


class Wallet:
    def __init__(self, user: str, api: str = bm.DEFAULT_API, interval: float = bm.INTERVAL,
                 fetch: Callable[[str], bytes] = bm.fetch_url, clock: Callable[[], float] = time.time) -> None:
        self.user = user
        self.api = api
        self.interval = interval
        self.fetch = fetch
        self.clock = clock
        self.rows: deque[dict[str, Any]] = deque(maxlen=KEEP_ROWS)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="wallet", daemon=True)

    def start(self) -> "Wallet":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=bm.TIMEOUT + 1)

    def run(self) -> None:
        url = bm.balance_url(self.api, self.user)
        tally = bm.Tally()
        while not self.stopping.is_set():
            tick = bm.next_tick(self.clock(), self.interval)
            if self.stopping.wait(max(0.0, tick - self.clock())):
                return
            row: dict[str, Any] = {"time": bm.tick_label(tick), "at": tick}
            try:
                sent = time.monotonic()
                body = self.fetch(url)
                row["ping"] = round((time.monotonic() - sent) * 1000)
                reading = tally.add(bm.parse_balance(body))
            except (OSError, http.client.HTTPException, ValueError, bm.BalanceError) as exc:
                row["error"] = bm.describe_error(exc)
            else:
                row.update(total=round(reading.total, 3), change=round(reading.change, 3),
                           minute=round(reading.minute, 3), duco_per_day=round(reading.duco_per_day, 2))
            with self.lock:
                self.rows.append(row)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            rows = list(self.rows)
        last = next((r for r in reversed(rows) if "error" not in r), None)
        return {"user": self.user, "api": self.api, "rows": rows,
                "duco_per_day": last["duco_per_day"] if last else None}
