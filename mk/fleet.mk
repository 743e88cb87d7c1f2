# The fleet monitor, included by the top-level Makefile (which defines PY and VENV).
#
#   fleet           watch the rigs of a fleet file over WebREPL, keep their logs in SQLite, serve
#                   the page: FLEET=fleet.txt [FLEET_PORT=8270] [DB=fleet.sqlite] [MQTT=host:port]
#                   [USER=duco user, for the wallet's balance] [API=url]
#   fleet-demo      two simulated rigs and the monitor, the page's address printed
#                   [FLEET_PORT=8270] [MQTT=host:port] [SECONDS=n: stop after n s]
#   webrepl-heap    what an attached WebREPL client costs the ESP8266's heap, measured on the
#                   rigs' interpreter (MicroPython 1.15 built as the ESP8266 port)
#   fleet-packages  install what the fleet's tests use from Debian: mosquitto (the MQTT broker)
#                   and chromium (the page in a real browser); as root, else it names them
# See docs/fleet.md. The code is in tools/fleet/.

FLEET ?=
FLEET_PORT ?= 8270
DB ?=
MQTT ?=
SECONDS ?=
FLEET_PACKAGES := mosquitto chromium

.PHONY: fleet fleet-demo webrepl-heap fleet-packages

# USER is the login name in every shell: only a USER= on the command line names a Duino-Coin user
fleet_user = $(if $(filter command line,$(origin USER)),--user '$(USER)')

fleet: $(VENV)
	@test -n "$(FLEET)" || { echo "usage: make fleet FLEET=fleet.txt [FLEET_PORT=8270] [MQTT=host:port] [USER=duco user]"; exit 1; }
	$(PY) tools/fleet/monitor.py '$(FLEET)' --port $(FLEET_PORT) $(if $(DB),--db '$(DB)') \
		$(if $(MQTT),--mqtt '$(MQTT)') $(fleet_user) $(if $(API),--api '$(API)')

fleet-demo: $(VENV)
	$(PY) tools/fleet/demo.py --port $(FLEET_PORT) $(if $(MQTT),--mqtt '$(MQTT)') \
		$(if $(SECONDS),--seconds $(SECONDS))

webrepl-heap: $(VENV)
	$(PY) tools/fleet/webrepl_heap.py

fleet-packages:
	@sh ./tools/apt_install.sh fleet $(FLEET_PACKAGES)
