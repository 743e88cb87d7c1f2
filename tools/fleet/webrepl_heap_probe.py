# Runs on the rigs' interpreter (MicroPython 1.15 built as the ESP8266 port), started by
# tools/fleet/webrepl_heap.py: the live heap (gc.mem_alloc() after gc.collect()) before WebREPL,
# with it listening, and with one client logged in, and all that the login allocated (with the
# collector off), for
#   PROBE_WEBREPL=v115     v1.15's own webrepl.py (copied beside this probe as webrepl_v115.py,
#                          since the frozen `webrepl` is the simulator's stand-in), or
#   PROBE_WEBREPL=standin  the stand-in the simulator runs (host_tests/fakes/webrepl.py).
# v1.15's webrepl.py asks lwIP to call accept_conn when a client arrives
# (setsockopt(SOL_SOCKET, 20, handler)); the unix port has no such callback, so the probe keeps
# the handler and calls it by hand, then reads the password as the ESP's dupterm task would.
import gc
import os
import sys
import uos
import uselect
import usocket
import utime

PORT = int(os.getenv("DUCO_WEBREPL"))
PASSWORD = os.getenv("PROBE_PASSWORD")
LOGIN_WAIT_MS = 5000


class _Socket(usocket.socket):
    # lwIP's accept callback cannot be set on the unix port: keep it, for the probe to call
    def setsockopt(self, level, option, value):
        if option == 20 and callable(value):
            self.handler = value
        else:
            super().setsockopt(level, option, value)


class _EspSocket:
    # what v1.15's webrepl.py finds as `socket` on the ESP, with its listener on loopback only
    socket = _Socket
    SOL_SOCKET = usocket.SOL_SOCKET
    SO_REUSEADDR = usocket.SO_REUSEADDR

    @staticmethod
    def getaddrinfo(host, port):
        return usocket.getaddrinfo("127.0.0.1", port)


def live():
    gc.collect()
    return gc.mem_alloc()


poller = uselect.poll()  # the probe's own tools and names, made before anything is counted
key = bytearray(1)
ws = _ = needed = attached = None
v115 = os.getenv("PROBE_WEBREPL") == "v115"
if v115:
    sys.modules["socket"] = _EspSocket
before = live()
if v115:
    import webrepl_v115 as webrepl
else:
    import webrepl
loaded = live()
webrepl.start(port=PORT, password=PASSWORD)
poller.register(webrepl.listen_s.fileno(), uselect.POLLIN)  # the poller's table made now (quiet once accepted)
listening = live()
gc.disable()  # from here to the login, what is allocated (live or garbage) is what it needs free
print("PROBE ready")
if v115:
    webrepl.listen_s.handler(webrepl.listen_s)  # what lwIP would call: accept_conn, handshake
    ws = uos.dupterm(None)
    uos.dupterm(ws)
    poller.register(webrepl.client_s.fileno(), uselect.POLLIN)
    for _ in poller.ipoll(LOGIN_WAIT_MS):  # the password, as the dupterm task reads it
        break
    while ws.readinto(key) is not None:
        pass
else:
    while webrepl._pump.ws is None:  # the stand-in serves at the console's next output
        print("PROBE waiting")
        utime.sleep_ms(20)
needed = gc.mem_alloc() - listening
gc.enable()
attached = live()
print("PROBE module %d listening %d client %d login %d" % (loaded - before, listening - loaded,
                                                         attached - listening, needed))
