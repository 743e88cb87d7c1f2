# Runs on the MicroPython unix port (tools/bench_heap.py starts it): the rig of setup.txt for
# ROUNDS rounds, and the peak of the live heap after gc.collect() at the end of each round.
import gc
import os
import mydu  # stdin is empty: the menu leaves at once, the module stays loaded

rounds = int(os.getenv("ROUNDS") or "200")
mydu.start()
gc.collect()
peak = gc.mem_alloc()
for _ in range(rounds):
    for c in mydu.cons:
        mydu.serve(c)
    gc.collect()
    peak = max(peak, gc.mem_alloc())
shares = sum(c.accepted for c in mydu.cons)
print("PROBE peak_live %d shares %d" % (peak, shares))
