# rigstats.py - `i`: each connection's statistics in the exact block of the rig this ports,
# then the rig's own lines: uptime, shares per minute over its life and the last 10 minutes,
# each target's mean hash rate, free heap, the I2C scan. Loaded by mydu for `i` only.
import gc
import time
import mydu
from duclas import REQUESTS, REQ_WAIT, REQ_SEND, RESULTS, SND_WAIT, SND_SEND, ACCEPTED, REJECTED
from duclas import BLOCKS, FAULTS, LOST, RECONNECTS, HASHES, HASH_MS


def _per(total, count):
    return total // count if count else 0


def stats(c):
    n = c.n
    print("Target %d  Connected %s" % (c.target.addr, c.state != "D"))
    print("Name >%s<" % c.name.decode())
    print("Requests  %d" % n[REQUESTS])
    print("ReqWait  %d  per  %d" % (n[REQ_WAIT], _per(n[REQ_WAIT], n[REQUESTS])))
    print("ReqZwi  %d  per  %d" % (n[REQ_SEND], _per(n[REQ_SEND], n[REQUESTS])))
    print("SndWait  %d  per  %d" % (n[SND_WAIT], _per(n[SND_WAIT], n[RESULTS])))
    print("SndZwi  %d  per  %d" % (n[SND_SEND], _per(n[SND_SEND], n[RESULTS])))
    print("Targ Busy  %d" % c.target.busy)
    print("Accepted  %d  Rejected  %d  Blocks  %d" % (n[ACCEPTED], n[REJECTED], n[BLOCKS]))
    print("Faults  %d  Lost  %d  Reconnects  %d" % (n[FAULTS], n[LOST], n[RECONNECTS]))


def _rate(shares, seconds):
    # shares per minute with one decimal, in integers (no floats on the device)
    tenths = _per(shares * 600, seconds)
    return "%d.%d" % (tenths // 10, tenths % 10)


def rig(cons):
    now = int(time.time())
    up = now - mydu.up_since
    print("Rig up %dh%02dm%02ds" % (up // 3600, up // 60 % 60, up % 60))
    a = r = 0
    for c in cons:
        a += c.n[ACCEPTED]
        r += c.n[REJECTED]
    print("Shares per minute  life %s accepted %s rejected" % (_rate(a, up), _rate(r, up)))
    t, a0, r0 = now, a, r  # the mark closest to 10 minutes ago, not older
    marks = mydu.marks
    for m in range(max(mydu.marked - 10, 0), mydu.marked + 1):
        k = 3 * (m % 11)
        if marks[k] and now - marks[k] <= 600:  # 0: zeroed by `u`
            t, a0, r0 = marks[k], marks[k + 1], marks[k + 2]
            break
    print("Shares per minute  last 10 min %s accepted %s rejected" % (
        _rate(a - a0, now - t), _rate(r - r0, now - t)))
    for c in cons:
        print("Targ %d mean rate %d H/s" % (c.target.addr, _per(1000 * c.n[HASHES], c.n[HASH_MS])))


def act(n, ch):
    cons = mydu.cons
    for c in cons:
        stats(c)
    if cons:
        rig(cons)
    gc.collect()
    print("Free %d" % gc.mem_free())
    if mydu.bus:
        print("I2C scan %s" % mydu.bus.scan())
