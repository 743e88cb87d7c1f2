# pollloop.py - the overlapped loop, for setup.txt's `mode poll`. While a connection waits for
# the server, the ESP goes on polling the other Mini Pros and sockets, and finishes each exchange
# when select.poll says its reply arrived. Same log lines and statistics as the blocking loop
# (a share's block is printed once its next job is on the target); still one message in flight
# per connection. Loaded by mydu for `l` in that mode.
import sys
import gc
import time
import select
import mydu


def _show(c, req_took, sent_ms):
    # the share's block, as the blocking loop prints it. c.held: (status letter,) or, once the
    # result was answered, (status, nonce, ela, SndRes ms, feedback)
    h = c.held
    c.held = None
    print("*** Targ  %d Sta  %s" % (c.target.addr, h[0]))
    if len(h) > 1:
        print("ela %d  res  %d  rat %d" % (h[2], h[1], mydu.rate_of(h[1], h[2])))
        print("SndRes took  %d" % h[3])
        print(h[4])
    if req_took is not None:
        print("ReqJob took  %d" % req_took)
    if sent_ms is not None:
        print("Hashes sent  %d" % sent_ms)
        c.failures = 0
        c.retry_at = None


def _turn(c):
    # start what this connection needs next; True when there is nothing to do
    if c.state in "RE":
        return True  # a message in flight: its reply finishes it
    st = mydu.begin_turn(c)
    if st is None:
        return True
    c.held = (st,)
    if c.state == "K":
        nonce, ms = c.take_result()
        c.held = (st, nonce, ms)
        c.ask_result(nonce, mydu.rate_of(nonce, ms) if mydu.send_rate else None)
    elif c.state == "J":
        _show(c, None, c.send_job())
    else:
        c.ask_job()
    return False


def _reply(c):
    # data arrived for c: finish its exchange once the line is whole
    if c.state not in "RE" or not c.more():
        return
    if c.state == "E":
        c.held += c.got_feedback()
        c.ask_job()  # the job request follows at once
        return
    took = c.got_job()
    if mydu.verbose:
        print("job %s" % c.line.decode())
    _show(c, took, c.send_job())


def _fail(c, e):
    # a share answered before its next job failed is logged before the error line
    if c.held and len(c.held) > 3:
        _show(c, None, None)
    c.held = None
    if c.state in "RE" and c.sock is not None:
        c.broken("exchange cut short")  # never a second message before the reply
    mydu.turn_over(c, e)


def _events(cons, wait_ms):
    # wait for replies (or a key) on stdin and the sockets with a message in flight (a fresh
    # poller: a socket closed by a fault is never left registered); finish the exchanges whose
    # reply is whole. Returns (a key was pressed, events seen).
    poller = select.poll()
    poller.register(sys.stdin, select.POLLIN)
    for c in cons:
        if c.state in "RE" and c.sock is not None:
            poller.register(c.sock, select.POLLIN)
    events = poller.poll(wait_ms)
    key = False
    for ev in events:
        for c in cons:  # the connection of the socket (CPython's poll reports file numbers)
            s = c.sock
            if s is not None and (ev[0] is s or (isinstance(ev[0], int) and ev[0] == s.fileno())):
                try:
                    _reply(c)
                except Exception as e:
                    _fail(c, e)
                break
        else:  # stdin
            key = mydu.is_key() or key
    for c in cons:
        if c.state in "RE" and time.ticks_diff(time.ticks_ms(), c.sent_at) > c.timeout * 1000:
            _fail(c, c.broken("server error ETIMEDOUT"))
    return key, len(events)


def run(n, cons):
    # n rounds (0: 99999); True when a key ended it
    for c in cons:
        c.held = None
    allbus = 0
    key = False
    for left in range(n or 99999, 0, -1):
        mydu.mark()
        print("===Loop  %d" % left)
        idle = 0
        for c in cons:
            try:
                if _turn(c):
                    idle += 1
            except Exception as e:
                _fail(c, e)
        key, seen = _events(cons, 100 if idle == len(cons) else 0)
        if key:  # any key returns to the menu, after this round
            break
        if idle == len(cons) and not seen:
            allbus += 1
            print("All Bus  %d" % allbus)
            if allbus == 1:
                gc.collect()  # idle anyway, and only work makes garbage: once per idle stretch
        else:
            allbus = 0
    # finish what is in flight, so the menu finds every connection between exchanges
    flying = True
    while flying:
        flying = False
        for c in cons:
            if c.state in "RE":
                flying = True
        if flying and _events(cons, 100)[0]:
            key = True
    print("Loop Done")
    return key
