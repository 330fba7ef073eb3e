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

Pause points hold a node still at a line instead, so a test can make two nodes
meet there in the order it wants:

    THEREYET_PAUSE=agents.before_claim=nightly THEREYET_PAUSE_DIR=/tmp/gate

The first time it is reached about `nightly` (`=SUBJECT` is optional; `@N` picks
the Nth visit), the node writes `/tmp/gate/agents.before_claim.reached` and waits
(the thread that reached it, nothing else) until the test creates
`/tmp/gate/agents.before_claim.go`, or for at most 60 s. Pause point:
agents.before_claim (the assigner counted, and chose which agent takes which run,
before it claims them; its subjects are the chosen runs' jobs).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

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


PAUSES = ("agents.before_claim",)
PAUSE_LONGEST = 60.0  # seconds a paused node waits for its go file


def parse_pauses(text: str) -> dict[str, tuple[str | None, int]]:
    """ "point[=subject][@visit],..." -> {point: (subject, visit)}."""
    armed: dict[str, tuple[str | None, int]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        spec, _, count = part.partition("@")
        name, _, subject = spec.partition("=")
        if name not in PAUSES:
            raise ValueError(f"THEREYET_PAUSE: unknown pause point {name!r}")
        armed[name] = (subject or None, int(count or 1))
    return armed


_paused = parse_pauses(os.environ.get("THEREYET_PAUSE", ""))
_pause_visits: dict[str, int] = {}
_PAUSE_DIR = Path(os.environ.get("THEREYET_PAUSE_DIR", "."))


def pause(name: str, subjects: Iterable[str] = ()) -> None:
    """Wait here for the test's go file if `name` is armed (for one of `subjects`, when
    armed for one) and this is the visit it fires at."""
    if not _paused or name not in _paused:
        return
    subject, visit = _paused[name]
    if subject is not None and subject not in subjects:
        return
    with _lock:
        _pause_visits[name] = _pause_visits.get(name, 0) + 1
        if _pause_visits[name] != visit:
            return
    (_PAUSE_DIR / f"{name}.reached").touch()
    sys.stderr.write(f"thereyet: pause point {name} reached: waiting for {name}.go\n")
    deadline = time.monotonic() + PAUSE_LONGEST
    while not (_PAUSE_DIR / f"{name}.go").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
