"""Writing one verified, parsed hook delivery: its messages in the room and, for
builds, the runs they report; all in the caller's transaction.

A message that came in through an integration is marked `inbound` (see
services/bridges.py for why).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..domain.access import SYSTEM
from ..domain.events import Heartbeat
from ..domain.runs import RunStatus
from ..hub import Hub
from ..integrations.inbound import BuildRun, Parsed
from ..store import integrations as store
from ..store import runs as run_store
from ..store.writer import Tx
from .rooms import post_in_rooms
from .runs import NewRun, RunService

DELIVERY_MEMORY = timedelta(hours=72)  # GitHub redelivers by hand for 3 days at most
INBOUND = "inbound"  # in the data of a message that came in through an integration
_FORGOTTEN = "integrations.forgotten"  # a key of Tx.memo: integrations whose old ids went
_PHASE = {
    "queued": RunStatus.QUEUED,
    "running": RunStatus.RUNNING,
    "succeeded": RunStatus.SUCCEEDED,
    "failed": RunStatus.FAILED,
    "cancelled": RunStatus.CANCELLED,
}


@dataclass(frozen=True)
class Received:
    posted: int
    duplicate: bool = False

    def summary(self) -> str:
        if self.duplicate:
            return "a redelivery: nothing new posted"
        return f"{self.posted} message{'' if self.posted == 1 else 's'} posted"


def run_id_for(integration: str, key: str) -> str:
    """A stable run id for a build, so each phase of it finds the same run."""
    return "build-" + hashlib.sha256(f"{integration}:{key}".encode()).hexdigest()[:24]


def write_delivery(tx: Tx, hub: Hub, runs: RunService, row: Any, parsed: Parsed) -> Received:
    """Post the delivery's messages and move its builds' runs, unless it was seen before."""
    if not _first_delivery(tx, row.id, parsed):
        return Received(0, duplicate=True)
    for build in parsed.runs:
        _build(tx, runs, row, build)
    for post in parsed.posts:
        data = {"integration": row.name, **post.data}
        if post.thread:
            data["thread"] = post.thread
        data[INBOUND] = True
        post_in_rooms(
            tx, hub, [row.room_id], author=row.name, kind="integration", body=post.text, data=data
        )
    return Received(len(parsed.posts))


def _first_delivery(tx: Tx, integration_id: int, parsed: Parsed) -> bool:
    """Remember the delivery's id, idempotency key and body for DELIVERY_MEMORY (in the
    database, so every node agrees); False if any was seen. Older ones are forgotten
    here, once per integration and writer group."""
    given = (parsed.delivery_id, parsed.idempotency_key, parsed.body_digest)
    keys = [k for k in given if k]
    if not keys:
        return True
    forgotten = tx.memo.setdefault(_FORGOTTEN, set())
    if integration_id not in forgotten:
        store.forget_deliveries(tx.conn, integration_id, tx.now - DELIVERY_MEMORY)
        forgotten.add(integration_id)
    return all([store.first_delivery(tx.conn, integration_id, k, tx.now) for k in keys])


def _build(tx: Tx, runs: RunService, row: Any, build: BuildRun) -> None:
    """Move the build's run to the phase reported: create it (queued or running),
    start it, or finish it. A phase older than the run's status changes nothing."""
    run_id = run_id_for(row.name, build.key)
    status = _PHASE[build.phase]
    existing = run_store.load_run(tx.conn, run_id)
    if existing is None:
        spec = NewRun(
            job=build.job,
            id=run_id,
            room=row.room,
            status=RunStatus.QUEUED if status is RunStatus.QUEUED else RunStatus.RUNNING,
            trigger=row.kind,
            host=None,
        )
        runs.create_in(tx, spec)
        if not status.finished:
            return
    elif existing.status.finished or status is RunStatus.QUEUED:
        return  # FINALIZED after COMPLETED, a late QUEUED, or a repeat
    elif status is RunStatus.RUNNING:
        if existing.status is RunStatus.QUEUED:  # its first word starts a queued run
            runs.report_in(tx, SYSTEM, run_id, [Heartbeat(f"{row.kind}-start", tx.now)])
        return
    runs.finish_in(tx, SYSTEM, run_id, status)
