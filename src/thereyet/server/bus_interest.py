"""Which topics other nodes have subscribers for, as they said over the bridge.

A node builds and sends a run's live view only if someone shows it: a subscriber on
the node itself, or on another node that said so. Nodes tell each other (through the
bridge, bus_bridge.py) when a topic gains its first subscriber ("want") or loses its
last ("unwant"), and repeat their whole list every REFRESH_SECONDS; a node that said
nothing for EXPIRY_SECONDS (it died) is forgotten.

What a node was not told it does not send, so until it has heard the others (for
WARM_SECONDS after its listener starts listening, and again after it reconnects) it
assumes that every topic is heard elsewhere. That is to keep views fresh, not what
keeps them whole: a node that begins to send a topic (a viewer's first "want", or
the answer to a node that starts) acknowledges it, and the viewers' node then takes
a fresh snapshot (bus.HEARD_ELSEWHERE, web/live.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

REFRESH_SECONDS = 10.0  # how often a node repeats the topics it subscribes to
EXPIRY_SECONDS = 35.0  # a node not heard from for this long has no subscribers
WARM_SECONDS = 2.0  # after (re)listening: every topic counts as heard elsewhere


class Interest:
    """Other nodes' subscribed topics, by node; safe to use from any thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        # origin -> (topics, when said). Replaced, never changed, so that `heard` (once or
        # twice a report) reads it without a lock while another thread writes a new one.
        self._nodes: dict[str, tuple[frozenset[str], float]] = {}
        self._warm_until = 0.0
        self._lock = threading.Lock()

    def warm(self, seconds: float = WARM_SECONDS) -> None:
        """Count every topic as heard elsewhere for `seconds` (the others are being asked)."""
        self._warm_until = max(self._warm_until, self.clock() + seconds)

    def heard(self, topic: str) -> bool:
        """Whether another node may have a subscriber to `topic`."""
        now = self.clock()
        if now < self._warm_until:
            return True
        for topics, said_at in self._nodes.values():  # (a dict no one changes)
            if topic in topics and now - said_at < EXPIRY_SECONDS:
                return True
        return False

    def want(self, origin: str, topics: Iterable[str], *, whole: bool = False) -> None:
        """`origin` subscribes to `topics` (`whole`: to those and no others)."""
        with self._lock:
            had = frozenset() if whole else self._nodes.get(origin, (frozenset(), 0.0))[0]
            self._nodes = {**self._nodes, origin: (had | frozenset(topics), self.clock())}

    def unwant(self, origin: str, topics: Iterable[str]) -> None:
        """`origin` no longer subscribes to `topics`."""
        with self._lock:
            had = self._nodes.get(origin)
            if had is not None:
                self._nodes = {**self._nodes, origin: (had[0] - frozenset(topics), self.clock())}

    def gone(self, origin: str) -> None:
        """`origin` stopped: it subscribes to nothing."""
        with self._lock:
            self._nodes = {k: v for k, v in self._nodes.items() if k != origin}
