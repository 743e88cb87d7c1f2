"""The fleet's page and its JSON, served on 127.0.0.1.

    /            the page (tools/fleet/page/index.html), with fleet.js and fleet.css beside it
    /api/fleet   everything the page shows, as JSON, computed when asked

The page loads nothing from anywhere else, so it works on a PC without internet.
"""
from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path
from typing import Any, Callable

PAGE = Path(__file__).resolve().parent / "page"
FILES = {"/": ("index.html", "text/html; charset=utf-8"),
         "/index.html": ("index.html", "text/html; charset=utf-8"),
         "/fleet.js": ("fleet.js", "text/javascript; charset=utf-8"),
         "/fleet.css": ("fleet.css", "text/css; charset=utf-8")}


class PageServer:
    def __init__(self, snapshot: Callable[[], dict[str, Any]], port: int = 8270, host: str = "127.0.0.1") -> None:
        self.snapshot = snapshot
        self.http = http.server.ThreadingHTTPServer((host, port), self._handler())
        self.http.daemon_threads = True
        self.thread = threading.Thread(target=self.http.serve_forever, args=(0.2,), name="page", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.http.server_address[:2]
        return "http://%s:%d/" % (host, port)

    def start(self) -> "PageServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/api/fleet":
                    body = json.dumps(server.snapshot()).encode()
                    kind = "application/json"
                elif path in FILES:
                    name, kind = FILES[path]
                    body = (PAGE / name).read_bytes()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass  # one line per request would drown the rigs' state lines

        return Handler
