# The firmware's own start-up on the PC (on the ESP8266 its frozen _boot.py runs before boot.py):
# the GC threshold at a quarter of the heap, as there; the stand-ins for the board's built-in
# modules imported now, so that what they hold is taken before the rig starts and is never
# counted as the rig's. hold(n) leaves only n bytes free: by default the rest held in pieces
# of about 1 KB with small freed gaps between them, a heap cut up worse than a board's boot
# leaves it (tools/bench_heap.py says what that stands for); hold(n, False) holds it in one
# piece, to check the budget alone.
import gc
import machine  # noqa: F401
import network  # noqa: F401
import socket  # noqa: F401

gc.threshold((gc.mem_free() + gc.mem_alloc()) // 4)
held = []


def hold(free, gaps=True):
    gaps = [] if gaps else None
    while gaps is not None and gc.mem_free() > free + 2048:
        gaps.append(bytearray(48))  # freed below: a hole a small object can use, a big one cannot
        held.append(bytearray(992))
    gaps = None
    gc.collect()
    rest = gc.mem_free() - free  # a bytearray(n) takes n rounded up to 16, plus 16 for itself
    if rest > 64:
        held.append(bytearray(rest - 32))


gc.collect()
