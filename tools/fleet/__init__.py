"""The fleet monitor: every rig's log read over WebREPL, kept in SQLite, shown on one page and
published over MQTT. It runs on a PC and costs the rigs nothing but the WebREPL client they
already serve: the per-loop log they print is the telemetry (docs/fleet.md).

    fleetfile       the fleet file: which rigs, where, and where each one's password is
    webrepl_client  one WebREPL session: the login, then the rig's console as text
    logparse        console lines -> events (shares, faults, loop runs, lines not understood)
    store           the SQLite file the events are kept in
    figures         what the page and MQTT show, computed from the store
    watch           one rig: its session kept up with back-off, its lines parsed and stored
    wallet          the wallet's balance rows, from the balance monitor's API
    web             the page and its JSON on 127.0.0.1
    mqtt_publish    figures to an MQTT broker, with Home Assistant discovery
    monitor         `make fleet`: all of the above for the rigs of a fleet file
    simweb          the simulator's WebREPL: its password file and start-up
    simrig          a simulated rig with WebREPL, for the demo and the tests
    demo            `make fleet-demo`
    browser         headless Chromium through its DevTools protocol (tests, the screenshot)
    webrepl_heap    `make webrepl-heap`: what an attached client costs the ESP8266's heap
                    (webrepl_heap_probe.py is its part that runs on the rigs' interpreter)
"""
