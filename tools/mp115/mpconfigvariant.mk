# The ESP8266-like variant of the v1.15 unix port (see mpconfigvariant.h).
PROG ?= micropython

MICROPY_FORCE_32BIT = 1
MICROPY_PY_BTREE = 0
MICROPY_PY_FFI = 0
MICROPY_PY_THREAD = 0
MICROPY_PY_USSL = 1
MICROPY_SSL_AXTLS = 1
MICROPY_USE_READLINE = 1

# v1.15's unix uos with VFS lists uos.dupterm (WebREPL needs it) without including its declaration
$(BUILD)/moduos_vfs.o: CFLAGS += -include $(TOP)/extmod/misc.h
