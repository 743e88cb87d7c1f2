# blockloop.py - the faithful loop, as the rig this ports runs it: each connection in turn
# polls its target and, when the target is done, submits the result, asks for the next job
# and writes it, waiting for each reply. Loaded by mydu for `l` in `mode block` (the default).
import sys
import gc
import select
import mydu


def serve(c):
    # one connection's turn in the blocking loop; True when there was nothing to do
    try:
        st = mydu.begin_turn(c)
        if st is None:
            return True
        print("*** Targ  %d Sta  %s" % (c.target.addr, st))
        if c.state == "K":
            nonce, ms = c.take_result()
            rate = mydu.rate_of(nonce, ms)
            print("ela %d  res  %d  rat %d" % (ms, nonce, rate))
            c.ask_result(nonce, rate if mydu.send_rate else None)
            took, feedback = c.reply()
            print("SndRes took  %d" % took)
            print(feedback)
        if c.state != "J":
            c.ask_job()
            print("ReqJob took  %d" % c.reply())
            if mydu.verbose:
                print("job %s" % c.line.decode())
        print("Hashes sent  %d" % c.send_job())
        c.failures = 0
        c.retry_at = None
    except Exception as e:
        mydu.turn_over(c, e)
    return False


def run(n, cons):
    # n rounds (0: 99999); True when a key ended it
    keys = select.poll()
    keys.register(sys.stdin, select.POLLIN)
    allbus = 0
    key = False
    for left in range(n or 99999, 0, -1):
        if keys.poll(0) and mydu.is_key():  # any key returns to the menu
            key = True
            break
        mydu.mark()
        print("===Loop  %d" % left)
        busy = 0
        for c in cons:
            if serve(c):
                busy += 1
        if busy == len(cons):
            allbus += 1
            print("All Bus  %d" % allbus)
            if allbus == 1:
                gc.collect()  # idle anyway, and only work makes garbage: once per idle stretch
            keys.poll(100)  # the 100 ms wait, cut short by a key
        else:
            allbus = 0
    print("Loop Done")
    return key


