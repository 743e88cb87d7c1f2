# A stand-in for MicroPython's `network` on the host: a WLAN that connects when the fake says.
import os

STA_IF = 0
AP_IF = 1
reachable = not os.getenv("WIFI_DOWN")  # "WiFi down at boot", set by tests


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

    def status(self):
        # the ESP8266's codes: 5 got an IP, 3 no access point found
        return 5 if self.isconnected() else 3

    def ifconfig(self):
        return ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")
