"""One WebREPL session with a rig: the login, then the rig's console output as text.

The ESP8266's WebREPL (MicroPython 1.15) is a WebSocket server on port 8266. Right after the
HTTP upgrade it sends `Password: `; the client answers with the password and a carriage return;
the rig answers `\\r\\nWebREPL connected\\r\\n>>> ` (or `\\r\\nAccess denied\\r\\n` and closes). From
then on everything the rig prints arrives in text frames, as uos.dupterm duplicates the console.
The ESP serves one client at a time: a second one is closed before the upgrade.

Anything sent after the login would reach the rig as a key, and a key stops a looping rig. So
this client sends the password and nothing else, ever (no WebSocket pings either: the rig does
not answer them). A rig that vanishes without closing (power cut, WiFi gone) is noticed by TCP
keep-alive probes, which the ESP's TCP stack answers without the rig noticing.

The WebSocket side is the `websockets` library's synchronous client. Frames are taken as bytes
and decoded here, leniently: a byte that is not UTF-8 must not end the session.
"""
from __future__ import annotations

import codecs
import contextlib
import socket

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidMessage
from websockets.sync.client import ClientConnection, connect

PROMPT = "Password: "
CONNECTED = "\r\nWebREPL connected\r\n>>> "
DENIED = "Access denied"
KEEPALIVE_IDLE_S = 20  # TCP keep-alive: first probe after this much silence,
KEEPALIVE_INTERVAL_S = 5  # then one every 5 s,
KEEPALIVE_PROBES = 4  # and the session is over after 4 unanswered: about 40 s for a dead rig


class WebReplError(Exception):
    """The session could not be had or is over; the text is one line for the operator."""


class WrongPassword(WebReplError):
    """The rig answered `Access denied`."""


class ConnectionLost(WebReplError):
    """The session ended: the rig reset, closed it, or stopped answering."""


class WebReplConsole:
    """The console of one rig, read over WebREPL. open() logs in; read() gives text as it comes."""

    def __init__(self, host: str, port: int, password: str, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.password = password  # sent once, at the prompt; never shown
        self.timeout = timeout
        self.ws: ClientConnection | None = None
        self.session = contextlib.ExitStack()  # the library's connection is a context
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.pending = ""  # console text that came with the login's answer

    def open(self) -> None:
        """Connect, upgrade and log in; WebReplError (or a subclass) when that fails."""
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise WebReplError(describe(exc)) from None
        keep_alive(sock)
        try:
            self.ws = self.session.enter_context(connect(
                "ws://%s:%d/" % (self.host, self.port), sock=sock, proxy=None, compression=None,
                open_timeout=self.timeout, ping_interval=None, close_timeout=1, max_size=None,
                user_agent_header=None))
        except (InvalidMessage, ConnectionClosed, EOFError):
            sock.close()
            raise WebReplError("closed before the WebREPL handshake: another WebREPL client is "
                               "attached (the ESP serves one at a time), or the rig reset") from None
        except InvalidHandshake as exc:
            sock.close()
            raise WebReplError("not a WebREPL: %s" % exc) from None
        except (OSError, TimeoutError) as exc:
            sock.close()
            raise WebReplError(describe(exc)) from None
        try:
            self._login()
        except WebReplError:
            self.close()
            raise

    def _login(self) -> None:
        seen = self._read_until((PROMPT,), "no password prompt")
        if not seen.endswith(PROMPT):
            raise WebReplError("no password prompt, the rig said %r" % seen[-40:])
        assert self.ws is not None
        try:
            self.ws.send(self.password + "\r")  # "\r" alone: a "\n" after it would be a key
        except (ConnectionClosed, OSError):
            raise WebReplError("the rig closed the session at the password prompt") from None
        seen = self._read_until((CONNECTED, DENIED), "no answer to the password")
        if DENIED in seen:
            raise WrongPassword("wrong WebREPL password (the rig answered Access denied)")
        self.pending = seen.split(CONNECTED, 1)[1]

    def _read_until(self, marks: tuple[str, ...], what: str) -> str:
        text = ""
        while not any(m in text for m in marks):
            try:
                chunk = self.read(self.timeout)
            except ConnectionLost:
                if DENIED in marks and DENIED in text:
                    break
                raise WebReplError("%s: the rig closed the session" % what) from None
            if chunk is None:
                raise WebReplError("%s in %g s" % (what, self.timeout))
            text += chunk
        return text

    def read(self, timeout: float | None = None) -> str | None:
        """The next console text (any length, lines may be split), or None after `timeout` s
        of silence. ConnectionLost when the session is over."""
        if self.pending:
            text, self.pending = self.pending, ""
            return text
        assert self.ws is not None, "open() first"
        try:
            data = self.ws.recv(timeout, decode=False)
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            raise ConnectionLost(closed_reason(exc)) from None
        except OSError as exc:
            raise ConnectionLost(describe(exc)) from None
        return self.decoder.decode(data)

    def close(self) -> None:
        self.ws = None
        self.session.close()

    def __enter__(self) -> "WebReplConsole":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def keep_alive(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", KEEPALIVE_IDLE_S), ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL_S),
                        ("TCP_KEEPCNT", KEEPALIVE_PROBES)):
        if hasattr(socket, name):  # Linux names; elsewhere the system's defaults apply
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def describe(exc: BaseException) -> str:
    """A short reason for a failed connection, without the exception's class chatter."""
    if isinstance(exc, TimeoutError):  # socket.timeout too
        return "no answer (timed out)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def closed_reason(exc: ConnectionClosed) -> str:
    if exc.rcvd is None and exc.sent is None:
        return "the rig closed the session"
    return "the session was closed (%s)" % exc
