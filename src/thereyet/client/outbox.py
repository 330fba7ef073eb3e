"""What one run still owes the hub: its creation, events, files and finish, in order.

Every event gets its id when it is made, so a batch sent twice (a retry, or a
spool delivered by the next process) is recorded once by the hub.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

MAX_LOG_CHARS = 16_000
MAX_NOTE_CHARS = 20_000
MAX_STAT_TEXT = 255


def iso(seconds: float) -> str:
    """A UTC time the hub accepts, to the millisecond."""
    whole = int(seconds)
    millis = int((seconds - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


class Figures(Protocol):
    """A live run's latest progress and stats, read by the sender when it is due."""

    def progress_snapshot(self) -> tuple[float, float | None, str | None]: ...

    def stats_snapshot(self) -> dict[str, tuple[float | str, str | None]]: ...

    def expire(self, now: float, grace: float) -> None: ...


class Outbox:
    def __init__(
        self,
        run_id: str,
        create: dict[str, Any] | None,
        *,
        wall: Callable[[], float] = time.time,
        max_pending: int = 10_000,
    ) -> None:
        self.run_id = run_id
        self.create = create  # the body of POST /runs until the hub has it
        self.events: deque[dict[str, Any]] = deque()
        self.batch: list[dict[str, Any]] | None = None  # sent, not yet acknowledged
        self.attachments: deque[dict[str, Any]] = deque()
        self.finish: dict[str, Any] | None = None
        self.source: Figures | None = None
        self.seq = 0
        self.dropped = 0
        self.sent_progress: tuple[float, float | None, str | None] | None = None
        self.sent_stats: dict[str, tuple[float | str, str | None]] = {}
        self.progress_at = float("-inf")  # sender clock of the last progress check
        self.contact_at = float("-inf")  # sender clock of the last word to the hub
        self.spool_file: Any = None  # the claimed spool file this box came from
        self.max_pending = max_pending
        self._wall = wall

    # -- filled by the job's thread ----------------------------------------------

    def make(self, kind: str, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        return {"id": f"{kind[0]}{self.seq}", "type": kind, "ts": iso(self._wall()), **fields}

    def add(self, kind: str, **fields: Any) -> None:
        """Queue an event; past `max_pending`, the oldest ones are dropped and counted."""
        if len(self.events) >= self.max_pending:
            try:
                self.events.popleft()
                self.dropped += 1
            except IndexError:
                pass
        self.events.append(self.make(kind, **fields))

    # -- read by the sender ----------------------------------------------------------

    def figures(self) -> list[dict[str, Any]]:
        """Progress and stats events for what changed since they were last taken."""
        if self.source is None:
            return []
        out = []
        progress = self.source.progress_snapshot()
        if progress != self.sent_progress:
            done, total, unit = progress
            body: dict[str, Any] = {"done": done}
            if total is not None:
                body["total"] = total
            if unit is not None:
                body["unit"] = unit
            out.append(self.make("progress", **body))
            self.sent_progress = progress
        for name, (value, unit) in self.source.stats_snapshot().items():
            if self.sent_stats.get(name) != (value, unit):
                stat: dict[str, Any] = {"name": name, "value": value}
                if unit is not None:
                    stat["unit"] = unit
                out.append(self.make("stat", **stat))
                self.sent_stats[name] = (value, unit)
        return out

    def next_batch(self, limit: int, with_figures: bool) -> list[dict[str, Any]] | None:
        events: list[dict[str, Any]] = []
        while self.events and len(events) < limit:
            events.append(self.events.popleft())
        if self.dropped:
            count, self.dropped = self.dropped, 0
            text = f"thereyet: {count} events were dropped while the hub was unreachable"
            events.append(self.make("log", text=text, stream="log"))
        if with_figures:
            events.extend(self.figures())
        return events or None

    def has_work(self) -> bool:
        return bool(
            self.create is not None
            or self.events
            or self.batch
            or self.attachments
            or self.finish is not None
            or self.dropped
        )

    def take_over(self, earlier: Outbox) -> None:
        """Carry on from an earlier box of the same run (one an earlier process spooled):
        what it had not delivered goes first, and its spool file goes once all is sent."""
        self.create = earlier.create if earlier.create is not None else self.create
        self.events = deque([*(earlier.batch or []), *earlier.events, *self.events])
        self.attachments = deque([*earlier.attachments, *self.attachments])
        self.finish = self.finish or earlier.finish
        self.seq = max(self.seq, earlier.seq)
        self.dropped += earlier.dropped
        self.spool_file = earlier.spool_file

    # -- spool ----------------------------------------------------------------------

    def to_spool(self) -> dict[str, Any]:
        events = list(self.batch or []) + list(self.events)
        return {
            "run_id": self.run_id,
            "create": self.create,
            "events": events,
            "attachments": list(self.attachments),
            "finish": self.finish,
            "seq": self.seq,
        }

    @classmethod
    def from_spool(cls, data: dict[str, Any], wall: Callable[[], float]) -> Outbox:
        box = cls(str(data["run_id"]), data.get("create"), wall=wall)
        box.seq = int(data.get("seq", 0)) + 1000  # never reuse an id, even a lost one
        box.events.extend(data.get("events") or [])
        box.attachments.extend(data.get("attachments") or [])
        box.finish = data.get("finish")
        return box
