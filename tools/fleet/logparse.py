"""The rig's console, line by line, as events: shares, jobs sent, faults, loop rounds, and the
lines it does not understand (kept, never dropped).

The per-loop log (docs/log.md), one turn of one target:

    ===Loop  99851
    *** Targ  20 Sta  C
    ela 2863  res  476  rat 166
    SndRes took  755
    GOOD
    ReqJob took  1431
    Hashes sent  30

A turn starts at its `*** Targ  N Sta  X` line and ends at `Hashes sent`, or at the next line
that is not part of a turn (another turn, `===Loop`, `All Bus`, `Loop Done`, a fault). A turn
with a feedback line is a Share (GOOD and BLOCK accepted, anything else rejected), even when its
job request failed after it; a turn without one but with a job sent is a JobSent; a result read
but never answered leaves no share (the rig prints a fault line for it). Spacing is taken as it
comes: the rig's columns are separated by one or two spaces depending on the line.

A line the parser does not know (a key's echo, the statistics, a garbled line) becomes an
Unparsed event and does not end the turn it falls into, so the share around it still counts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

TURN = re.compile(r"^\*\*\* Targ\s+(\d+)\s+Sta\s+(\S)\s*$")
FAULT_OF_TARGET = re.compile(r"^\*\*\* Targ\s+(\d+)\s")
FAULT = re.compile(r"^\*\*\* ")
RESULT = re.compile(r"^ela\s+(\d+)\s+res\s+(\d+)\s+rat\s+(\d+)\s*$")
SND_RES = re.compile(r"^SndRes took\s+(-?\d+)\s*$")
REQ_JOB = re.compile(r"^ReqJob took\s+(-?\d+)\s*$")
HASHES_SENT = re.compile(r"^Hashes sent\s+(-?\d+)\s*$")
LOOP = re.compile(r"^===Loop\s+(\d+)\s*$")
ALL_BUSY = re.compile(r"^All Bus\s+(\d+)\s*$")
LOOP_DONE = re.compile(r"^Loop Done\s*$")
# lines that can never be a server's feedback: when one follows `SndRes took`, the feedback is missing
STRUCTURE = (TURN, FAULT, LOOP, ALL_BUSY, LOOP_DONE, RESULT, SND_RES, REQ_JOB, HASHES_SENT)


@dataclass
class Share:
    target: int
    feedback: str  # GOOD, BLOCK, BAD,<reason>, or whatever the server said
    ela_ms: int | None = None  # None where the line was garbled
    nonce: int | None = None
    rate: int | None = None  # H/s, as the rig computed it
    snd_res_ms: int | None = None
    req_job_ms: int | None = None  # None when the next job was not had in this turn
    hashes_sent_ms: int | None = None

    @property
    def accepted(self) -> bool:
        return self.feedback.startswith(("GOOD", "BLOCK"))


@dataclass
class JobSent:
    """A turn without a result: a target's first job (status I), or a job sent again."""

    target: int
    status: str
    req_job_ms: int | None = None
    hashes_sent_ms: int | None = None


@dataclass
class Fault:
    target: int | None  # None for a fault of the whole rig (the I2C bus)
    line: str


@dataclass
class LoopRound:
    left: int  # the rig counts its rounds down


@dataclass
class AllBusy:
    rounds: int


@dataclass
class LoopDone:
    pass


@dataclass
class Unparsed:
    line: str


Event = Share | JobSent | Fault | LoopRound | AllBusy | LoopDone | Unparsed


@dataclass
class _Turn:
    target: int
    status: str
    ela_ms: int | None = None
    nonce: int | None = None
    rate: int | None = None
    snd_res_ms: int | None = None
    feedback: str | None = None
    awaiting_feedback: bool = False
    req_job_ms: int | None = None
    hashes_sent_ms: int | None = None

    def event(self) -> Share | JobSent | None:
        if self.feedback is not None:
            return Share(self.target, self.feedback, self.ela_ms, self.nonce, self.rate,
                         self.snd_res_ms, self.req_job_ms, self.hashes_sent_ms)
        if self.req_job_ms is not None or self.hashes_sent_ms is not None:
            return JobSent(self.target, self.status, self.req_job_ms, self.hashes_sent_ms)
        return None


class LogParser:
    """Feed it the console's lines, one at a time; it returns the events each one completes."""

    def __init__(self) -> None:
        self.turn: _Turn | None = None

    def feed(self, line: str) -> list[Event]:
        line = line.rstrip("\r\n")
        if not line.strip():
            return []
        turn = self.turn
        if turn is not None and turn.awaiting_feedback:
            turn.awaiting_feedback = False
            if not any(p.match(line) for p in STRUCTURE):
                turn.feedback = line.strip()
                return []
        if m := TURN.match(line):
            events = self.end_turn()
            self.turn = _Turn(int(m[1]), m[2])
            return events
        if turn is not None:
            if m := RESULT.match(line):
                turn.ela_ms, turn.nonce, turn.rate = int(m[1]), int(m[2]), int(m[3])
                return []
            if m := SND_RES.match(line):
                turn.snd_res_ms, turn.awaiting_feedback = int(m[1]), True
                return []
            if m := REQ_JOB.match(line):
                turn.req_job_ms = int(m[1])
                return []
            if m := HASHES_SENT.match(line):
                turn.hashes_sent_ms = int(m[1])
                return self.end_turn()
        if m := LOOP.match(line):
            return self.end_turn() + [LoopRound(int(m[1]))]
        if m := ALL_BUSY.match(line):
            return self.end_turn() + [AllBusy(int(m[1]))]
        if LOOP_DONE.match(line):
            return self.end_turn() + [LoopDone()]
        if FAULT.match(line):
            m = FAULT_OF_TARGET.match(line)
            return self.end_turn() + [Fault(int(m[1]) if m else None, line.strip())]
        return [Unparsed(line)]  # kept; a turn it interrupts goes on

    def end_turn(self) -> list[Event]:
        """Close the turn in progress (at the end of a session too): its share or job, if any."""
        turn, self.turn = self.turn, None
        event = turn.event() if turn is not None else None
        return [event] if event is not None else []


class LineSplitter:
    """Console text as it arrives (lines split anywhere, `\\n` or `\\r\\n`) -> whole lines."""

    def __init__(self) -> None:
        self.partial = ""

    def feed(self, text: str) -> list[str]:
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        return [line.rstrip("\r") for line in lines]

    def rest(self) -> str:
        """What came after the last line end (a line cut off by a reset); cleared."""
        rest, self.partial = self.partial.rstrip("\r"), ""
        return rest
