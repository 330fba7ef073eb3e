"""Two hub nodes on one PostgreSQL database page each escalation step once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import _empty_pg
from tests.incidents.conftest import escalate, paths, setup_oncall
from tests.monitoring.conftest import HandHub, Recorder, open_hand_hub
from thereyet.server.clock import FakeClock

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_hubs(
    pg_database: str, tmp_path: Path, clock: FakeClock
) -> Iterator[tuple[HandHub, HandHub]]:
    _empty_pg(pg_database)
    first = open_hand_hub(pg_database, tmp_path / "a", clock, node="node-a")
    second = open_hand_hub(pg_database, tmp_path / "b", clock, node="node-b")
    a = next(first)
    b = next(second)
    try:
        yield a, b
    finally:
        for gen in (first, second):
            gen.close()


def test_each_step_is_paged_once_by_two_nodes_racing(
    two_hubs: tuple[HandHub, HandHub], recorder: Recorder
):
    a, b = two_hubs
    setup_oncall(a, recorder)
    incident = a.client.post("/api/v1/incidents", json={"service": "payments", "summary": "x"})
    assert incident.status_code == 201, incident.text
    with ThreadPoolExecutor(2) as pool:
        for minutes in (15, 30, 15):  # steps 1, 2 (the repeat) and 3 fall due
            a.clock.advance(minutes=minutes)
            won = list(pool.map(escalate, (a, b)))
            assert sum(won) == 1, won
            list(pool.map(lambda hand_hub: hand_hub.dispatch(), (a, b)))
        a.clock.advance(hours=2)
        assert list(pool.map(escalate, (a, b))) == [False, False]
        list(pool.map(lambda hand_hub: hand_hub.dispatch(), (a, b)))
    view = b.client.get(f"/api/v1/incidents/{incident.json()['id']}").json()
    assert [p["position"] for p in view["pages"]] == [0, 1, 2, 3]
    # Two dispatchers deliver in parallel, so only the counts are certain: each page once.
    assert sorted(paths(recorder)) == sorted(
        ["/ana/push", "/ana/sms", "/boss/push", "/boss/sms"] * 2
    )
