# A stand-in for MicroPython's `network` on the host: a WLAN that connects when the fake says.
STA_IF = 0
AP_IF = 1
reachable = True  # tests set False for "WiFi down at boot"


class WLAN:
    _active = {}

    def __init__(self, iface):
        self.iface = iface

    def active(self, on=None):
        if on is not None:
            WLAN._active[self.iface] = on
        return WLAN._active.get(self.iface, False)

    def connect(self, ssid, password):
        self.ssid = ssid

    def isconnected(self):
        return reachable and WLAN._active.get(STA_IF, False)

    def ifconfig(self):
        return ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")
