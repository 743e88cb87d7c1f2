# boot.py - WiFi up from setup.txt's `wifi SSID PASSWORD` line, access point off, WebREPL on
# when webrepl_cfg.py holds a real password. Nothing else: `import mydu` starts the rig.
import gc
import network
import time

PLACEHOLDER = "changeme"  # what webrepl_cfg.py ships with


def wifi_from_setup(path="setup.txt"):
    # (ssid, password) from the wifi line; the SSID may hold spaces, the password is the last word
    try:
        for line in open(path):
            words = line.split("#")[0].split()
            if len(words) >= 3 and words[0] == "wifi":
                return " ".join(words[1:-1]), words[-1]
    except OSError:
        pass
    return None


# sta.status() codes of the ESP8266 that end the wait early, and what they mean
WHY = {2: "wrong password", 3: "no access point of that name", 4: "connect failed"}


def wifi_up(ssid, password, wait_s=15):
    network.WLAN(network.AP_IF).active(False)
    sta = network.WLAN(network.STA_IF)
    sta.active(True)
    why = "no answer in %d s" % wait_s
    if not sta.isconnected():
        sta.connect(ssid, password)
        for _ in range(wait_s * 10):
            if sta.isconnected() or sta.status() in WHY:
                why = WHY.get(sta.status(), why)
                break
            time.sleep_ms(100)
    if sta.isconnected():
        print("WiFi %s up, %s" % (ssid, sta.ifconfig()[0]))
    else:
        print("WiFi %s not up yet (%s); the ESP keeps trying, mydu reconnects when it is" % (ssid, why))


def webrepl_on():
    try:
        import webrepl_cfg
        pw = webrepl_cfg.PASS
    except (ImportError, AttributeError):
        pw = ""
    if pw == PLACEHOLDER or not 4 <= len(pw) <= 9:
        print("WebREPL off: webrepl_cfg.py needs a password of 4..9 characters, not the placeholder")
        return
    import webrepl
    webrepl.start()


wifi = wifi_from_setup()
if wifi:
    wifi_up(*wifi)
else:
    print("WiFi: no wifi line in setup.txt")
webrepl_on()
# The firmware keeps boot.py's globals for good: drop them, so the rig finds the heap they took
del wifi_from_setup, wifi_up, webrepl_on, wifi, WHY, PLACEHOLDER
gc.collect()
