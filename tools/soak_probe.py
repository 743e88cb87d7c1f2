# Runs on the MicroPython unix port (tools/soak.py starts it): the rig of setup.txt in mydu's
# own loop, in chunks of 20 rounds, for SOAK_SECONDS; after each chunk one line with the live
# heap after gc.collect() and each target's accepted, faults and lost counts.
import gc
import os
import time
from duclas import ACCEPTED, FAULTS, LOST
import mydu  # the first key on stdin is x: the menu leaves at once, the module stays

seconds = int(os.getenv("SOAK_SECONDS") or "600")
mydu.start()
t0 = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), t0) < seconds * 1000:
    mydu.loop(20)
    gc.collect()
    print("SOAK %d %d" % (time.ticks_diff(time.ticks_ms(), t0), gc.mem_alloc()),
          " ".join("%d:%d:%d:%d" % (c.target.addr, c.n[ACCEPTED], c.n[FAULTS], c.n[LOST]) for c in mydu.cons))
