"""Pings made together: the writer's batch handler for success and failure pings.

Each ping of a group is one change of its own to the client (it is answered
once the group is committed), but the group shares its work: the checks' rows,
with their open runs and rooms, are read in one statement, and the runs the
pings make are recorded together (run_groups). On PostgreSQL, where each
statement is a round trip, the per-check limit's write-back and the group's
inserts are held (store.pipeline) and go with the group's COMMIT. Anything less
plain is left to be made alone, by the ping's own path: a URL that is no
check's (the alone path answers 404), and a check with a run a start ping
opened (its end goes through RunService.finish_in).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.ratelimit import Bucket
from ..domain.runs import RunStatus
from ..store import pings as store
from ..store import pipeline
from ..store.writer import ALONE, Tx
from .run_groups import EndedRun, announce_ended_runs, insert_ended_runs
from .runs import RunService


@dataclass(frozen=True)
class PingEnd:
    """A ping that ends a run: success, fail or an exit status, without a run id."""

    ping_uuid: str
    failed: bool
    exit_code: int | None
    log: str


@dataclass(frozen=True)
class Limit:
    """The per-check limit, as a group of pings spends it.

    `take(tx, names, held)`: given the checks' names of the pings the group would record,
    in order, for each None if it may be recorded, else the error to refuse it with;
    `held`, the buckets the group has locked already. When `capacity` is set (shared
    buckets, on PostgreSQL), the group locks its checks' buckets (keys: `prefix` and the
    check's name, made full with `capacity` tokens) in the round trip that reads the
    checks (store.pings.jobs_and_buckets)."""

    take: Callable[[Tx, list[str], Mapping[str, Bucket] | None], list[BaseException | None]]
    prefix: str
    capacity: float | None


def pings_together(runs: RunService, tx: Tx, pings: list[PingEnd], limit: Limit) -> list[Any]:
    """Record what it can of `pings` together: for each, its check's name once recorded,
    the error `limit` refused it with, or ALONE to be made on its own."""
    answers: list[Any] = [ALONE] * len(pings)
    uuids = sorted({p.ping_uuid for p in pings})
    held: dict[str, Bucket] | None = None
    if limit.capacity is None:
        jobs = store.jobs_by_ping_uuids(tx.conn, uuids)
    else:
        jobs, held = store.jobs_and_buckets(tx.conn, uuids, limit.prefix, limit.capacity, tx.now)
    # Pings of a check with no open run each make a run of their own, so several of
    # one check can be made together, in order.
    mine = [
        i
        for i, ping in enumerate(pings)
        if (job := jobs.get(ping.ping_uuid)) is not None and not job.opened
    ]
    with pipeline.held(tx.conn):  # the writes wait, for the COMMIT on PostgreSQL's writer
        refusals = limit.take(tx, [jobs[pings[i].ping_uuid].name for i in mine], held)
        for i, refused in zip(mine, refusals, strict=True):
            answers[i] = refused
        mine = [i for i, refused in zip(mine, refusals, strict=True) if refused is None]
        ended = [
            EndedRun(
                job=jobs[pings[i].ping_uuid],
                status=RunStatus.FAILED if pings[i].failed else RunStatus.SUCCEEDED,
                exit_code=pings[i].exit_code,
                log=pings[i].log,
            )
            for i in mine
        ]
        inserted = insert_ended_runs(runs, tx, ended) if ended else None
    if inserted is not None:
        announce_ended_runs(runs, tx, inserted)
    for i in mine:
        answers[i] = jobs[pings[i].ping_uuid].name
    return answers
