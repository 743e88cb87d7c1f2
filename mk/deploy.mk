# ESP8266 targets, included by the top-level Makefile (which defines PY and VENV).
#
#   flash   erase the ESP8266 and write MicroPython: PORT=/dev/ttyUSB0
#           FIRMWARE=esp8266-20210418-v1.15.bin [BAUD=460800] [DRY_RUN=1: print the commands]
#   deploy  check the setup file (the device's parser) and its mining key (the REST API), compile
#           and copy the rig's files, list the board: PORT=/dev/ttyUSB0
#           [SETUP=setup-192.168.178.40.txt] [WEBREPL=webrepl_cfg-40.py] [SOURCE=1]
#           [API=https://server.duinocoin.com]
# See docs/deploy.md. The logic is in tools/deploy.py.

PORT ?=
FIRMWARE ?=
BAUD ?= 460800
DRY_RUN ?=
SETUP ?= setup.txt
WEBREPL ?= webrepl_cfg.py
SOURCE ?=

# SOURCE=0 and DRY_RUN=0 read as "no", as an operator would mean them
deploy_yes = $(filter-out 0,$(1))

.PHONY: flash deploy

flash: $(VENV)
	@$(PY) tools/deploy.py flash --port "$(PORT)" --firmware "$(FIRMWARE)" --baud "$(BAUD)" \
		$(if $(call deploy_yes,$(DRY_RUN)),--dry-run)

deploy: $(VENV)
	@$(PY) tools/deploy.py deploy --port "$(PORT)" --setup "$(SETUP)" --webrepl "$(WEBREPL)" \
		$(if $(call deploy_yes,$(SOURCE)),--source) $(if $(API),--api '$(API)')
