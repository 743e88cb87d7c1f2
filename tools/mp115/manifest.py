# Frozen into the rigs' interpreter (tools/mp115/build.sh): the stand-ins for what the ESP8266
# has built in (machine, socket with lwIP's limit, network, webrepl). Frozen, their bytecode
# stays out of the heap as the board's C modules do; what they still allocate at import is
# measured by tools/bench_heap.py and left out of the rig's figures.
# Paths are relative to this file.
freeze("../../host_tests/fakes/upy", ("_boot.py", "machine.py", "rawrepl.py", "socket.py"))
freeze("../../host_tests/fakes", ("network.py", "webrepl.py"))
# v1.15's own HTTP upgrade for WebREPL, frozen on the ESP8266 too (extmod/webrepl/manifest.py)
freeze("$(MPY_DIR)/extmod/webrepl", "websocket_helper.py")
