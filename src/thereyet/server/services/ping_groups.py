"""Pings made together: the writer's batch handler for success and failure pings.

Each ping of a group is one change of its own to the client (it is answered
once the group is committed), but the group shares its work: the checks' rows
and their open runs are read in one statement each, and the runs the pings
make are recorded together (run_groups.record_ended_runs). Anything less
plain is left to be made alone, by the ping's own path: a check whose URL no
longer matches (changed, or removed, since it was looked up), a check with a
run a start ping opened (its end goes through RunService.finish_in), and a
second ping of the same check in one group (it must follow the first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.runs import RunStatus
from ..store import pings as store
from ..store.writer import ALONE, Tx
from .run_groups import EndedRun, record_ended_runs
from .runs import RunService


@dataclass(frozen=True)
class PingEnd:
    """A ping that ends a run: success, fail or an exit status, without a run id."""

    ping_uuid: str
    job_id: int
    failed: bool
    exit_code: int | None
    log: str


def pings_together(runs: RunService, tx: Tx, pings: list[PingEnd]) -> list[Any]:
    """Record what it can of `pings` together; 200 for each recorded, ALONE for the rest."""
    answers: list[Any] = [ALONE] * len(pings)
    first: dict[int, int] = {}
    for i, ping in enumerate(pings):
        first.setdefault(ping.job_id, i)
    jobs = store.jobs_by_ids(tx.conn, list(first))
    mine = [
        i
        for job_id, i in first.items()
        if job_id in jobs and jobs[job_id].ping_uuid == pings[i].ping_uuid
    ]
    opened = store.open_ping_runs(tx.conn, [pings[i].job_id for i in mine])
    mine = sorted(i for i in mine if pings[i].job_id not in opened)
    ended = [
        EndedRun(
            job=jobs[pings[i].job_id],
            status=RunStatus.FAILED if pings[i].failed else RunStatus.SUCCEEDED,
            exit_code=pings[i].exit_code,
            log=pings[i].log,
        )
        for i in mine
    ]
    if ended:
        record_ended_runs(runs, tx, ended)
    for i in mine:
        answers[i] = 200
    return answers
