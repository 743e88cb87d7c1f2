# pollloop.py - the overlapped loop, for setup.txt's `mode poll`. While a connection waits for
# the server, the ESP goes on polling the other Mini Pros and sockets, and finishes each exchange
# when select.poll says its reply arrived. Same log lines and statistics as mydu's blocking loop
# (a share's block is printed once its next job is on the target); still one message in flight
# per connection. Loaded only in that mode.
import sys
import gc
import select
import mydu

_IN = select.POLLIN


def _owner(obj, cons):
    # the connection whose socket poll reported (CPython's poll reports file numbers)
    for c in cons:
        s = c.sock
        if s is not None and (obj is s or (isinstance(obj, int) and obj == s.fileno())):
            return c
    return None


def _watch(cons):
    # a fresh poller each round, watching stdin and the sockets with a message in flight:
    # a socket closed by a fault is then never left registered
    poller = select.poll()
    poller.register(sys.stdin, _IN)
    for c in cons:
        if c.state in "RE" and c.sock is not None:
            poller.register(c.sock, _IN)
    return poller


def _show(c, req_took, sent_ms):
    # the share's block, as the blocking loop prints it
    print("*** Targ  %d Sta  %s" % (c.target.addr, c.shown))
    if c.shown == "C":
        print("ela %d  res %d  rat %d" % (c.ela, c.nonce, mydu.rate_of(c.nonce, c.ela)))
        print("SndRes took  %d" % c.snd_took)
        print(c.feedback)
    if req_took is not None:
        print("ReqJob took  %d" % req_took)
    print("Hashes sent  %d" % sent_ms)
    c.feedback = ""


def _turn(c):
    # start what this connection needs next; True when there is nothing to do
    if c.state in "RE":
        return True  # a message in flight: the reply finishes it
    st = mydu.begin_turn(c)
    if st is None:
        return True
    c.shown = st
    if c.state == "K":
        c.nonce, c.ela = c.take_result()
        c.ask_result(c.nonce, mydu.rate_of(c.nonce, c.ela) if mydu.send_rate else None)
    elif c.state == "J":
        _show(c, None, c.send_job())
        c.failures = 0
    else:
        c.ask_job()
    return False


def _reply(c):
    # data arrived for c: finish its exchange once the line is whole
    if c.state not in "RE" or not c.more():
        return
    if c.state == "E":
        c.snd_took, c.feedback = c.got_feedback()
        c.ask_job()  # the job request follows at once
        return
    took = c.got_job()
    if mydu.verbose:
        print("job %s" % c.line.decode())
    _show(c, took, c.send_job())
    c.failures = 0
    c.retry_at = None


def _fail(c, e):
    if c.feedback:
        _show_partial(c)
    if c.state in "RE" and c.sock is not None:
        c.broken("exchange cut short")  # never a second message before the reply
    mydu.turn_over(c, e)


def _show_partial(c):
    # the share was answered but its next job failed: log the answer before the error
    print("*** Targ  %d Sta  C" % c.target.addr)
    print("ela %d  res %d  rat %d" % (c.ela, c.nonce, mydu.rate_of(c.nonce, c.ela)))
    print("SndRes took  %d" % c.snd_took)
    print(c.feedback)
    c.feedback = ""


def _events(cons, wait_ms):
    # wait for replies (or a key); finish the exchanges whose reply is whole; True on a key
    key = False
    events = _watch(cons).poll(wait_ms)
    for ev in events:
        c = _owner(ev[0], cons)
        if c is None:
            key = True  # stdin
            continue
        try:
            _reply(c)
        except Exception as e:
            _fail(c, e)
    for c in cons:
        if c.state in "RE" and c.waited() > c.timeout * 1000:
            _fail(c, c.broken("server error ETIMEDOUT"))
    return key, len(events)


def run(n, cons):
    for c in cons:
        c.shown = ""
        c.feedback = ""
        c.snd_took = 0
        c.ela = 0
    allbus = 0
    key = False
    for left in range(n or 99999, 0, -1):
        print("===Loop  %d" % left)
        idle = 0
        for c in cons:
            try:
                if _turn(c):
                    idle += 1
            except Exception as e:
                _fail(c, e)
        key, seen = _events(cons, 100 if idle == len(cons) else 0)
        if key:
            sys.stdin.read(1)  # any key returns to the menu, after this round
            break
        if idle == len(cons) and not seen:
            allbus += 1
            print("All Bus  %d" % allbus)
            if allbus == 1:
                gc.collect()  # idle anyway, and only work makes garbage: once per idle stretch
        else:
            allbus = 0
    # finish what is in flight, so the menu finds every connection between exchanges
    while [c for c in cons if c.state in "RE"]:
        if _events(cons, 100)[0]:
            sys.stdin.read(1)
            key = True
    print("Loop Done")
    return key
