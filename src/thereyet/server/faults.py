"""Fault points: places where a test makes this hub process die on purpose.

A test arms them with an environment variable read once at start:

    THEREYET_FAULT=dispatcher.after_claim            # die the first time it is reached
    THEREYET_FAULT=escalator.after_claim@2           # die the second time
    THEREYET_FAULT=dispatcher.mid_send,scheduler.after_claim

The process kills itself with SIGKILL: no shutdown, no flush, no goodbye, the
same as `kill -9` or a power cut at that line. With nothing armed, `reached`
is one test of an empty dict.

The points (see docs/leases.md): dispatcher.after_claim, dispatcher.mid_send
(THEREYET_FAULT_DELAY seconds, default 0.2, after a send began, while it waits
for its answer), dispatcher.after_send, escalator.after_claim,
scheduler.after_claim, monitor.after_claim, command.running.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

POINTS = (
    "dispatcher.after_claim",
    "dispatcher.mid_send",
    "dispatcher.after_send",
    "escalator.after_claim",
    "scheduler.after_claim",
    "monitor.after_claim",
    "command.running",
)


def parse(text: str) -> dict[str, int]:
    """Armed points and the visit that fires each: "a,b@3" -> {"a": 1, "b": 3}.

    An unknown name is refused, so a typo in a test cannot pass silently."""
    armed: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, count = part.partition("@")
        if name not in POINTS:
            raise ValueError(f"THEREYET_FAULT: unknown fault point {name!r}")
        armed[name] = int(count or 1)
    return armed


_armed = parse(os.environ.get("THEREYET_FAULT", ""))
_visits: dict[str, int] = {}
_lock = threading.Lock()
DELAY = float(os.environ.get("THEREYET_FAULT_DELAY", "0.2"))


def die(name: str) -> None:
    """Say which point fired (the test reads the node's log), then SIGKILL this process."""
    sys.stderr.write(f"thereyet: fault point {name} reached: killing this node\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _fires(name: str) -> bool:
    with _lock:
        _visits[name] = _visits.get(name, 0) + 1
        return _visits[name] == _armed[name]


def reached(name: str) -> None:
    """Die here if `name` is armed and this is the visit it fires at."""
    if _armed and name in _armed and _fires(name):
        die(name)


def reached_later(name: str) -> None:
    """Die DELAY seconds from now if `name` fires at this visit (the caller goes on meanwhile)."""
    if _armed and name in _armed and _fires(name):
        timer = threading.Timer(DELAY, die, args=(name,))
        timer.daemon = True
        timer.start()
