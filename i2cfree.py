# i2cfree.py - free a stuck I2C bus. Loaded by mydu only after a bus error, then dropped.
import time
from machine import Pin
from duclas import errname


def unstick(scl_pin, sda_pin):
    # A target reset in the middle of a byte can hold SDA low for ever, and no I2C transaction
    # gets through. Clock SCL until it lets go (at most nine pulses), then send a STOP.
    # Returns True when the bus was stuck. The caller re-inits its I2C afterwards.
    sda = Pin(sda_pin, Pin.OPEN_DRAIN, value=1)
    if sda.value():
        return False
    scl = Pin(scl_pin, Pin.OPEN_DRAIN, value=1)
    for _ in range(9):
        scl(0)
        time.sleep_us(5)
        scl(1)
        time.sleep_us(5)
        if sda.value():
            break
    sda(0)  # STOP: SDA rises while SCL is high
    time.sleep_us(5)
    sda(1)
    return True


def free_bus(bus, pins):
    # after a bus error: if a target holds SDA low, clock it free; then start the bus again in
    # either case, since the check drove the pins as plain GPIOs. pins: (scl, sda, freq)
    try:
        stuck = unstick(pins[0], pins[1])
        bus.init(scl=Pin(pins[0]), sda=Pin(pins[1]), freq=pins[2])
        if stuck:
            print("*** I2C bus was stuck (SDA low), freed with SCL pulses")
    except OSError as e:
        print("*** I2C bus check failed: %s" % errname(e))
