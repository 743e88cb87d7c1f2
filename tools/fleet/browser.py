"""A page in headless Chromium, read through the DevTools protocol: the fleet's tests read the
rendered figures from the page's DOM with it, and docs/fleet.png is taken with it.

Debian's `chromium`, started with a fresh profile and nothing that reaches out on its own
(no background networking, component updates or sync), on a DevTools port it picks itself.

    browser.py URL OUT.png [--wait EXPR] [--width 1280]     # a screenshot of the whole page
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--hide-scrollbars",
         "--remote-debugging-port=0"]
START_TIMEOUT_S = 30.0


class BrowserError(Exception):
    pass


def find() -> str | None:
    return next((path for path in map(shutil.which, NAMES) if path), None)


class Chromium:
    """One headless Chromium with one tab. Use as a context manager."""

    def __init__(self, profile: Path | None = None, width: int = 1280, height: int = 900) -> None:
        path = find()
        if path is None:
            raise BrowserError("no chromium on this machine (Debian: apt-get install chromium)")
        self.temp = None if profile else tempfile.TemporaryDirectory(prefix="fleet-chromium-",
                                                                      ignore_cleanup_errors=True)
        self.profile = profile or Path(self.temp.name)  # type: ignore[union-attr]
        self.cmd = [path, *FLAGS, "--user-data-dir=%s" % self.profile, "--window-size=%d,%d" % (width, height),
                    "about:blank"]
        self.proc: subprocess.Popen[bytes] | None = None
        self.ws: ClientConnection | None = None
        self.connection = contextlib.ExitStack()
        self.session = ""
        self.ids = itertools.count(1)

    def __enter__(self) -> "Chromium":
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not port_file.is_file() or len(port_file.read_text().split()) < 2:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise BrowserError("chromium did not open its DevTools port")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self.ws = self.connection.enter_context(connect(
            "ws://127.0.0.1:%s%s" % (port, path), max_size=None, proxy=None, ping_interval=None, open_timeout=10))
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        return self

    def __exit__(self, *exc: object) -> None:
        self.ws = None
        self.connection.close()
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
            try:  # its renderer and helper processes, in the session it was started in
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        if self.temp is not None:
            self.temp.cleanup()

    def _call(self, method: str, params: dict[str, Any] | None = None, session: str = "") -> dict[str, Any]:
        assert self.ws is not None
        ident = next(self.ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:  # events arrive in between; the answer carries our id
            answer = json.loads(self.ws.recv(timeout=60))
            if answer.get("id") == ident:
                if "error" in answer:
                    raise BrowserError("%s: %s" % (method, answer["error"].get("message")))
                return answer.get("result", {})

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A DevTools command to the tab."""
        return self._call(method, params, self.session)

    def open(self, url: str) -> None:
        self.call("Page.navigate", {"url": url})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError("%s: %s" % (expression, result["exceptionDetails"].get("text")))
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        """The expression's value once it is truthy; BrowserError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except BrowserError:
                value = None  # the page is still loading
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError("the page never got to %s" % expression)
            time.sleep(0.1)

    def screenshot(self, path: Path) -> None:
        """The whole page, however long, as a PNG."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        data = self.call("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(data["data"]))


def main() -> int:
    ap = argparse.ArgumentParser(description="a screenshot of a page in headless Chromium")
    ap.add_argument("url")
    ap.add_argument("out", type=Path)
    ap.add_argument("--wait", default="document.body && document.body.dataset.updated",
                    help="a JavaScript expression to wait for before the shot")
    ap.add_argument("--width", type=int, default=1280)
    args = ap.parse_args()
    with Chromium(width=args.width) as browser:
        browser.open(args.url)
        browser.wait_for(args.wait)
        browser.screenshot(args.out)
    print("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
