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

.PHONY: venv sim test bench mpy-check

$(VENV): requirements.txt
	python3 -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(VENV)

sim: $(VENV)
	$(PY) tools/sim.py --keys "$(KEYS)" --pool "$(POOL)" --targets "$(TARGETS)" \
		--latency $(LATENCY) --jitter $(JITTER) $(if $(RATE),--rate $(RATE)) --heap $(HEAP) --impl $(TARGETS_IMPL) --mode $(MODE)

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
	$(PY) tools/soak.py --minutes $(SOAK_MINUTES)

.PHONY: bench-throughput
# blocking against polling loop, 1..10 targets, 800 ms server latency (see docs/performance.md)
bench-throughput: $(VENV)
	$(PY) tools/bench_throughput.py
