# Runs on the rigs' interpreter (tools/bench_heap.py starts it): the rig of setup.txt in its own
# loop for ROUNDS rounds, and the peak of the live heap after gc.collect() after every
# connection's turn, counted from just before `import mydu` (the interpreter, the frozen
# stand-ins and this probe are already in the heap then).
import gc
import os

gc.collect()
base = gc.mem_alloc()
peak = 0
import mydu  # noqa: E402  (the first key is x: the menu leaves at once, the module stays loaded)
from duclas import ACCEPTED  # noqa: E402  (loaded by mydu already)


def measure():
    global peak
    gc.collect()
    peak = max(peak, gc.mem_alloc() - base)


def probed(turn):
    # the loop calls its turn function by its module global: wrap it to measure after each turn
    def wrapped(c):
        try:
            return turn(c)
        finally:
            measure()
    return wrapped


mydu.start()
measure()
if mydu.mode == "poll":
    import pollloop
    pollloop._turn = probed(pollloop._turn)
    pollloop._reply = probed(pollloop._reply)
else:
    import blockloop
    blockloop.serve = probed(blockloop.serve)
rounds = int(os.getenv("ROUNDS") or "1000")
while rounds > 0:
    mydu.loop(min(rounds, 50))
    rounds -= 50
measure()
print("PROBE peak_live %d shares %d" % (peak, sum(c.n[ACCEPTED] for c in mydu.cons)))
