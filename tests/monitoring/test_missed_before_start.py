"""A start that comes past the deadline of the occurrence its job waited for, before the
monitor looked, still has that occurrence said as missed: once, whichever comes first.

(An every-minute check that skips a minute is pinged again at the next minute, which is
that occurrence's deadline: the ping often comes before the monitor's look, and moved
the job on in silence.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.monitoring.conftest import HandHub, Recorder
from tests.monitoring.test_monitor_flow import route_to


def at(hour: int, minute: int, second: float = 0.0) -> datetime:
    whole = int(second)
    return datetime(2026, 3, 2, hour, minute, whole, int((second - whole) * 1e6), tzinfo=UTC)


def start(hand_hub: HandHub, how: str, ping_url: str) -> None:
    if how == "ping":
        path = ping_url.split("127.0.0.1:8480", 1)[1]
        response = hand_hub.client.get(path)
        assert response.status_code == 200, response.text
    else:
        response = hand_hub.client.post("/api/v1/runs", json={"job": "tick"})
        assert response.status_code == 201, response.text


def setup(hand_hub: HandHub, recorder: Recorder) -> str:
    route_to(hand_hub, recorder, job="tick")
    hand_hub.clock.set(at(9, 59, 30))
    view = hand_hub.put_schedule("tick", schedule="* * * * *", limits={"grace": 30}, room="ops")
    assert view["due_at"] == "2026-03-02T10:00:00Z"
    return str(view["ping_url"])


def said(hand_hub: HandHub, recorder: Recorder) -> tuple[list[str], list[str], list[str]]:
    """The job's events, the room's alert cards and the notifications sent."""
    hand_hub.dispatch()
    events = hand_hub.client.get("/api/v1/jobs/tick/schedule").json()["events"]
    cards = [t for t in hand_hub.room("ops") if "missed" in t or "late" in t]
    return [e["kind"] for e in events], cards, [b["title"] for b in recorder.bodies()]


@pytest.mark.parametrize("how", ["ping", "api"])
def test_a_start_at_the_next_occurrence_says_the_one_skipped_was_missed(
    any_hand_hub: HandHub, recorder: Recorder, how: str
):
    hub = any_hand_hub
    ping_url = setup(hub, recorder)
    hub.clock.set(at(10, 0, 2))
    start(hub, how, ping_url)  # on time for 10:00; 10:01 then passes without a start
    hub.clock.set(at(10, 2, 0.3))
    start(hub, how, ping_url)  # for 10:02, before the monitor looked at 10:01's deadline

    assert said(hub, recorder) == (
        ["missed"],
        ["**tick** missed its run due at 10:01 UTC"],
        ["tick missed its run due at 10:01 UTC"],
    )
    view = hub.client.get("/api/v1/jobs/tick/schedule").json()
    assert (view["state"], view["due_at"]) == ("ok", "2026-03-02T10:03:00Z")

    hub.monitor()  # the monitor's look finds nothing left to say
    assert said(hub, recorder)[0] == ["missed"]
    assert len(recorder.bodies()) == 1


def test_a_miss_the_monitor_said_first_is_not_said_again_by_the_start(
    any_hand_hub: HandHub, recorder: Recorder
):
    hub = any_hand_hub
    ping_url = setup(hub, recorder)
    hub.clock.set(at(10, 0, 2))
    start(hub, "ping", ping_url)
    hub.clock.set(at(10, 2))
    hub.monitor()  # says 10:01 was missed (past its deadline, late is not said as well)
    hub.clock.set(at(10, 2, 0.3))
    start(hub, "ping", ping_url)
    kinds, cards, sent = said(hub, recorder)
    assert kinds == ["missed"]
    assert cards == ["**tick** missed its run due at 10:01 UTC"]
    assert sent == ["tick missed its run due at 10:01 UTC"]
    view = hub.client.get("/api/v1/jobs/tick/schedule").json()
    assert (view["state"], view["due_at"]) == ("ok", "2026-03-02T10:03:00Z")


def test_a_start_before_the_deadline_says_nothing(any_hand_hub: HandHub, recorder: Recorder):
    hub = any_hand_hub
    ping_url = setup(hub, recorder)
    hub.clock.set(at(10, 0, 2))
    start(hub, "ping", ping_url)
    hub.clock.set(at(10, 1, 59.9))  # past 10:01's grace, before its deadline: late, not missed
    start(hub, "ping", ping_url)
    hub.monitor()
    assert said(hub, recorder) == ([], [], [])
