# Mini Pro firmware targets, included by the top-level Makefile (which defines PY).
# Also usable alone from the repo root: make -f target/firmware.mk firmware
#
#   firmware           install the Debian AVR packages if missing (as root), build the
#                      sketch with arduino-mk, print flash/RAM use, fail over the limits
#   firmware-hashrate  link the shipped build's duco_core.c object with a bench main, run it in
#                      simavr and print cycles per hash and H/s at 16 MHz (Timer1 cycle counts)
#   flash-target       upload to a Mini Pro through its bootloader: PORT=/dev/ttyUSB0
#   firmware-attiny85  compile the same core for an ATtiny85 and print its size

# Nothing here should become the default goal of the including Makefile.
FW_SAVED_GOAL := $(.DEFAULT_GOAL)

FW_ROOT := $(patsubst %/target/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
FW_SKETCH := $(FW_ROOT)/target/minipro
FW_BUILD := $(FW_ROOT)/build/minipro-avr
FW_ELF := $(FW_BUILD)/minipro.elf
FW_HEX := $(FW_BUILD)/minipro.hex
FW_BENCH := $(FW_ROOT)/build/minipro-bench/hashrate.elf
FW_PACKAGES := gcc-avr avr-libc arduino-core-avr arduino-mk simavr avrdude
FW_FLASH_MAX := 28672
FW_RAM_MAX := 1536
# the helper script needs only the standard library: any python3 does before the venv exists
PY ?= .venv/bin/python
FW_PY = $(if $(wildcard $(PY)),$(PY),python3)

.PHONY: firmware firmware-hashrate flash-target firmware-attiny85 fw-packages

fw-packages:
	@sh $(FW_ROOT)/tools/apt_install.sh firmware $(FW_PACKAGES)

firmware: fw-packages
	@mkdir -p $(FW_BUILD)
	@$(MAKE) --no-print-directory -C $(FW_SKETCH) >$(FW_BUILD)/make.log 2>&1 \
	  || { cat $(FW_BUILD)/make.log; echo "firmware: build failed"; exit 1; }
	@avr-size -A $(FW_ELF) | awk -v fmax=$(FW_FLASH_MAX) -v rmax=$(FW_RAM_MAX) -v elf=$(FW_ELF) ' \
	  $$1 == ".text" { text = $$2 } $$1 == ".data" { data = $$2 } $$1 == ".bss" { bss = $$2 } \
	  END { flash = text + data; ram = data + bss; \
	    printf "firmware: %s\nfirmware: flash %d bytes (limit %d), static RAM %d bytes (limit %d)\n", \
	      elf, flash, fmax, ram, rmax; \
	    if (flash >= fmax || ram >= rmax) { print "firmware: over the size limit"; exit 1 } }'

# The bench is linked from the very object file arduino-mk built for the sketch (an LTO object,
# so the link flags are those of the sketch's link too): it measures what `firmware` ships.
firmware-hashrate: firmware
	@mkdir -p $(dir $(FW_BENCH))
	@avr-gcc -mmcu=atmega328p -DF_CPU=16000000L -Os -Wall -Wextra -std=gnu11 -ffunction-sections \
	  -fdata-sections -flto -fuse-linker-plugin -Wl,--gc-sections -I$(FW_SKETCH) -o $(FW_BENCH) \
	  $(FW_ROOT)/target/bench/hashrate.c $(FW_BUILD)/duco_core.c.o
	@$(FW_PY) $(FW_ROOT)/target/simavr_hashrate.py $(FW_BENCH)

flash-target: firmware
	@test -n "$(PORT)" || { echo "flash-target: give the port: make flash-target PORT=/dev/ttyUSB0"; exit 1; }
	avrdude -c arduino -p m328p -b 57600 -P $(PORT) -D -U flash:w:$(FW_HEX):i

firmware-attiny85: fw-packages
	@mkdir -p $(FW_ROOT)/build/attiny85
	avr-gcc -mmcu=attiny85 -DF_CPU=16000000L -DDUCO_ARGS=15 -Os -Wall -Wextra -ffunction-sections -fdata-sections \
	  -Wl,--gc-sections -I$(FW_SKETCH) -o $(FW_ROOT)/build/attiny85/core.elf \
	  $(FW_ROOT)/target/attiny85/size_check.c $(FW_SKETCH)/duco_core.c
	@avr-size -A $(FW_ROOT)/build/attiny85/core.elf | awk ' \
	  $$1 == ".text" { text = $$2 } $$1 == ".data" { data = $$2 } $$1 == ".bss" { bss = $$2 } \
	  END { printf "firmware-attiny85: core flash %d of 8192 bytes, static RAM %d of 512 bytes\n", \
	    text + data, data + bss; if (text + data > 8192 || data + bss > 512) exit 1 }'

.DEFAULT_GOAL := $(FW_SAVED_GOAL)
