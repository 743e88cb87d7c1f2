# `webrepl` on the PC: v1.15's extmod/webrepl/webrepl.py, which the ESP8266 has frozen in, with
# the same C parts doing the work as on the board: `_webrepl` (the "Password: " prompt, the file
# transfer), `uwebsocket` (the frames), v1.15's own websocket_helper.py (the HTTP upgrade, frozen
# in too) and uos.dupterm (the console, duplicated to the client).
#
# What the unix port lacks is lwIP's callbacks: on the ESP, setsockopt(SOL_SOCKET, 20, handler)
# makes lwIP accept a client, and read what it sends, the moment it arrives. Here `_Pump`, a
# stream in dupterm's second slot, does that work each time the rig writes to its console: a
# waiting client is accepted at the rig's next output (every log line), and a program answering
# the password prompt is served at once (it waits up to LOGIN_WAIT_MS for the answer). What a
# client types after that is read, but not handed to the rig: the unix port takes its keys
# from the terminal only, and the fleet monitor never types.
#
# DUCO_WEBREPL=port says where to listen (127.0.0.1 only; the ESP listens on every interface
# at 8266). Without it nothing listens: test runs of boot.py need no port.
import os
import uio
import uos
import uselect
import usocket as socket  # the ESP's lwIP socket; the project's `socket` stand-in has no options
import network
import uwebsocket
import websocket_helper
import _webrepl

LOGIN_WAIT_MS = 1000
EOF_TEXT = "dupterm: EOF received, deactivating\n"  # what the ESP prints when a client leaves

listen_s = None
client_s = None


class _Pump(uio.IOBase):
    # Written to with all the console prints, as a dupterm stream is; serves the WebREPL instead
    # of lwIP's callbacks. It allocates nothing per write: ipoll reuses one tuple.
    def __init__(self):
        self.poll = uselect.poll()
        self.listen = None
        self.on_accept = None
        self.ws = None
        self.client = None
        self.byte = bytearray(1)
        self.busy = False  # a print while serving (accept_conn prints) must not serve again

    def watch(self, sock, on_accept):
        self.listen, self.on_accept = sock, on_accept
        self.poll.register(sock, uselect.POLLIN)
        uos.dupterm(self, 1)

    def attach(self, sock, ws):
        self.client, self.ws = sock, ws
        self.poll.register(sock, uselect.POLLIN)

    def write(self, buf):
        if not self.busy:
            self.busy = True
            try:
                self.serve(0)
            finally:
                self.busy = False
        return len(buf)

    def readinto(self, buf):
        return None  # never asked: the unix port reads dupterm's first slot only

    def ioctl(self, request, arg):
        return 0

    def serve(self, wait_ms):
        waiting = sent = False
        if self.ws is not None and uos.dupterm(None) is not self.ws:
            self.forget()  # a write to the client failed and dupterm dropped it, as on the ESP
        elif self.ws is not None:
            uos.dupterm(self.ws)  # peeked at it: back in its slot
        for obj, _ in self.poll.ipoll(wait_ms):
            if obj is self.listen:
                waiting = True
            else:
                sent = True
        if sent:
            self.take_input()
        if waiting:
            attached = self.client
            self.on_accept(self.listen)
            if self.client is not None and self.client is not attached:  # not turned away
                for _ in self.poll.ipoll(LOGIN_WAIT_MS):
                    break
                self.take_input()

    def take_input(self):
        # what the ESP's dupterm task does when lwIP says the client sent something
        while self.ws is not None:
            try:
                n = self.ws.readinto(self.byte)
            except OSError:
                n = 0
            if n is None:
                return  # nothing more for now
            if n == 0:  # the client left, or gave a wrong password ("Access denied" sent)
                uos.dupterm(None)
                self.ws.close()
                self.forget()
                print(EOF_TEXT, end="")
                return

    def forget(self):
        self.poll.unregister(self.client)
        self.client = self.ws = None


_pump = _Pump()


def _address(raw):
    # the unix port gives the peer as a raw sockaddr_in; the ESP as ('a.b.c.d', port)
    return ("%d.%d.%d.%d" % (raw[4], raw[5], raw[6], raw[7]), raw[2] << 8 | raw[3])


def setup_conn(port, accept_handler):
    global listen_s
    listen_s = socket.socket()
    listen_s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    ai = socket.getaddrinfo("127.0.0.1", port)
    addr = ai[0][-1]

    listen_s.bind(addr)
    listen_s.listen(1)
    if accept_handler:
        _pump.watch(listen_s, accept_handler)  # the ESP: setsockopt(SOL_SOCKET, 20, handler)
    for i in (network.AP_IF, network.STA_IF):
        iface = network.WLAN(i)
        if iface.active():
            print("WebREPL daemon started on ws://%s:%d" % (iface.ifconfig()[0], port))
    return listen_s


def accept_conn(listen_sock):
    global client_s
    cl, remote_addr = listen_sock.accept()
    remote_addr = _address(remote_addr)
    prev = uos.dupterm(None)
    uos.dupterm(prev)
    if prev:
        print("\nConcurrent WebREPL connection from", remote_addr, "rejected")
        cl.close()
        return
    print("\nWebREPL connection from:", remote_addr)
    client_s = cl
    websocket_helper.server_handshake(cl)
    ws = uwebsocket.websocket(cl, True)
    ws = _webrepl._webrepl(ws)
    cl.setblocking(False)
    _pump.attach(cl, ws)  # the ESP: cl.setsockopt(SOL_SOCKET, 20, uos.dupterm_notify)
    uos.dupterm(ws)


def stop():
    global listen_s, client_s
    uos.dupterm(None)
    if client_s:
        client_s.close()
    if listen_s:
        listen_s.close()


def start(port=8266, password=None):
    stop()
    served = os.getenv("DUCO_WEBREPL")
    if password is None:
        try:
            import webrepl_cfg

            _webrepl.password(webrepl_cfg.PASS)
        except:  # noqa: E722  (as v1.15's own: any failure means "not configured")
            print("WebREPL is not configured, run 'import webrepl_setup'")
            return
    else:
        _webrepl.password(password)
    if not served:
        print("WebREPL started, not served: DUCO_WEBREPL names no port")
        return
    setup_conn(int(served), accept_conn)
    print("Started webrepl in %s mode" % ("normal" if password is None else "manual override"))


def start_foreground(port=8266):
    stop()
    s = setup_conn(int(os.getenv("DUCO_WEBREPL") or port), None)
    accept_conn(s)
