"""Single-event reports handed in together are made together (RunService._report_many),
and what they leave is what the same reports made one by one leave."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from starlette.testclient import TestClient

from tests.api.test_runs import progress, start
from thereyet.server.clock import FakeClock
from thereyet.server.domain.access import SYSTEM, Principal, Scope
from thereyet.server.domain.events import Event, Heartbeat, Log, Progress, Stat
from thereyet.server.services.errors import NotFound


def report_together(client: TestClient, reports: list[tuple[Principal, str, Event]]) -> list[Any]:
    """Hand all reports to the writer while it is held, so that they form one group."""
    app: Any = client.app
    gate = threading.Event()
    held = app.state.hub.writer.submit(lambda tx: gate.wait(10))

    async def together() -> list[Any]:
        runs = app.state.runs
        tasks = [asyncio.create_task(runs.report(w, rid, [e])) for w, rid, e in reports]
        await asyncio.sleep(0)  # each task hands its report in
        gate.set()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    assert client.portal is not None
    answers = client.portal.call(together)
    held.result(10)
    return answers


def test_reports_in_one_group_are_made_together_as_if_one_by_one(client, clock: FakeClock):
    ids = [start(client, job=f"export-{n}", total=100)["id"] for n in range(4)]
    for rid in ids:  # reported once: each run is now kept by the hub
        progress(client, rid, {"id": "p0", "type": "progress", "done": 1})
    clock.advance(2)
    now = clock.now()
    writer = client.app.state.hub.writer  # type: ignore[attr-defined]
    batched = writer.batched

    answers = report_together(
        client,
        [
            (SYSTEM, ids[0], Progress(id="p1", ts=now, done=50)),
            (SYSTEM, ids[1], Log(id="l1", ts=now, text="half way")),
            (SYSTEM, ids[2], Stat(id="s1", ts=now, name="rows", value=7)),
            (SYSTEM, ids[3], Progress(id="p0", ts=now, done=1)),  # a repeat
            (SYSTEM, ids[0], Progress(id="p2", ts=now, done=60)),  # the same run again
            (SYSTEM, ids[1], Heartbeat(id="h1", ts=now)),
            (SYSTEM, "no-such-run", Progress(id="p1", ts=now, done=1)),
        ],
    )

    assert [(a.accepted, a.duplicates) for a in answers[:6]] == [
        (1, 0), (1, 0), (1, 0), (0, 1), (1, 0), (1, 0),
    ]  # fmt: skip
    assert isinstance(answers[6], NotFound)
    assert writer.batched - batched == 4  # the others went alone
    views = [client.get(f"/api/v1/runs/{rid}").json() for rid in ids]
    assert [v["progress"]["done"] for v in views] == [60, 1, 1, 1]
    assert views[1]["log_tail"] == ["half way"]
    assert views[2]["stats"] == {"rows": 7}
    assert views[1]["heartbeat_at"] == views[0]["progress_at"]
    events = client.get(f"/api/v1/runs/{ids[0]}/events").json()["events"]
    assert [e["id"] for e in events if e["type"] == "progress"] == ["p0", "p1", "p2"]

    # The kept copies are right: a later report builds on them.
    clock.advance(1)
    progress(client, ids[2], {"id": "s2", "type": "stat", "name": "files", "value": 3})
    assert client.get(f"/api/v1/runs/{ids[2]}").json()["stats"] == {"rows": 7, "files": 3}


def test_a_caller_who_may_not_report_is_refused_in_a_group_too(client, clock: FakeClock):
    rid = start(client, job="export", room="ops", total=100)["id"]
    progress(client, rid, {"id": "p0", "type": "progress", "done": 1})
    elsewhere = Principal(name="other room", scope=Scope.INGEST, rooms=frozenset({"elsewhere"}))
    now = clock.now()
    answers = report_together(
        client,
        [
            (elsewhere, rid, Progress(id="x1", ts=now, done=99)),
            (SYSTEM, rid, Progress(id="p1", ts=now, done=2)),
        ],
    )
    assert isinstance(answers[0], NotFound)
    assert answers[1].accepted == 1
    assert client.get(f"/api/v1/runs/{rid}").json()["progress"]["done"] == 2


def test_a_group_mixing_whole_and_fractional_progress_is_made_together(client, clock: FakeClock):
    # On PostgreSQL a group's changed columns go as one array each: progress of 5 and of
    # 2.5 in one array must both arrive (a list typed by its first value would refuse).
    ids = [start(client, job=f"export-{n}", total=10)["id"] for n in range(3)]
    for rid in ids:
        progress(client, rid, {"id": "p0", "type": "progress", "done": 1})
    clock.advance(2)
    now = clock.now()
    writer = client.app.state.hub.writer  # type: ignore[attr-defined]
    batched = writer.batched
    done: list[float] = [5, 2.5, 7]
    answers = report_together(
        client,
        [
            (SYSTEM, rid, Progress(id="p1", ts=now, done=d))
            for rid, d in zip(ids, done, strict=True)
        ],
    )
    assert [a.accepted for a in answers] == [1, 1, 1]
    assert writer.batched - batched == 3
    views = [client.get(f"/api/v1/runs/{rid}").json() for rid in ids]
    assert [v["progress"]["done"] for v in views] == done
