"""Claims end with their holder: two hub nodes on one database, ticked by hand with
one fake clock. A node that stops heartbeating has its claims released by the other
at once; a live node keeps its claims by renewing them; an incident's steps leave
in order; a chat command left running by a dead node becomes lost."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chatops.conftest import make_room, say, texts
from tests.incidents.conftest import escalate, paths, put
from tests.incidents.test_escalation_flow import open_incident
from tests.monitoring.conftest import HandHub, Recorder, open_hand_hub, recorder
from thereyet.server.clock import FakeClock
from thereyet.server.domain.leases import LAPSE_SECONDS

__all__ = ["recorder"]
hand_hub = contextlib.contextmanager(open_hand_hub)


@pytest.fixture
def nodes(db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[tuple[HandHub, HandHub]]:
    with (
        hand_hub(db_url, tmp_path / "a", clock, node="node-a") as a,
        hand_hub(db_url, tmp_path / "b", clock, node="node-b") as b,
    ):
        yield a, b


def beat(hand_hub: HandHub) -> None:
    hand_hub.call(hand_hub.app.state.nodes.beat, hand_hub.clock.now())


def claim(hand_hub: HandHub) -> list[Any]:
    """What a node's dispatcher claims before it sends (then this node "dies")."""
    return list(hand_hub.call(hand_hub.app.state.notifications.claim_due, hand_hub.clock.now()))


def routine(hand_hub: HandHub, recorder: Recorder) -> None:
    target = {"kind": "http", "url": f"http://{recorder.url}/start"}
    hand_hub.put_schedule("nightly", schedule="every 1h", target=target)
    hand_hub.clock.advance(3600)
    assert hand_hub.schedule() is False  # one occurrence started: not a full tick
    assert len(hand_hub.client.get("/api/v1/runs").json()["runs"]) == 1


def test_a_dead_nodes_claim_is_released_by_another_node_once_its_heartbeat_lapsed(
    nodes: tuple[HandHub, HandHub], recorder: Recorder
):
    a, b = nodes
    routine(a, recorder)
    beat(a), beat(b)
    [claimed] = claim(a)  # node-a claims the callback, then dies before sending it
    assert not b.dispatch()
    b.clock.advance(LAPSE_SECONDS - 1)
    beat(b)
    assert not b.dispatch()  # node-a might still be sending
    b.clock.advance(2)
    beat(b)  # node-a's last heartbeat is now older than the lapse: released at once
    assert b.dispatch()
    [call] = recorder.requests
    assert call["headers"]["Idempotency-Key"] == f"thereyet-outbox-{claimed.id}"
    [node] = b.client.get("/api/v1/nodes").json()["nodes"]
    assert (node["name"], node["alive"], node["this"]) == ("node-b", True, True)


def test_a_live_node_keeps_its_claim_past_the_lease_by_renewing_it(
    nodes: tuple[HandHub, HandHub], recorder: Recorder
):
    a, b = nodes
    routine(a, recorder)
    claim(a)
    for _ in range(8):  # 40 s of a slow send: longer than a 30 s lease
        a.clock.advance(5)
        beat(a), beat(b)
        assert not b.dispatch()
    assert recorder.requests == []


def test_a_node_restarted_under_its_name_releases_what_it_held_before(
    db_url: str, tmp_path: Path, clock: FakeClock, recorder: Recorder
):
    with hand_hub(db_url, tmp_path / "a", clock, node="node-a") as a:
        routine(a, recorder)
        claim(a)
        with hand_hub(db_url, tmp_path / "a2", clock, node="node-a") as again:
            assert again.dispatch()  # at once: no lapse to wait for
    assert len(recorder.requests) == 1


def test_steps_of_an_incident_leave_in_order_while_and_after_step_0_is_held_by_a_node(
    nodes: tuple[HandHub, HandHub], recorder: Recorder
):
    a, b = nodes
    for name in ("first", "second"):
        url = f"json://{recorder.url}/{name}"
        created = a.client.post("/api/v1/channels", json={"name": name, "url": url})
        assert created.status_code == 201, created.text
    steps = [
        {"targets": [{"kind": "channel", "name": "first"}], "delay_minutes": 1},
        {"targets": [{"kind": "channel", "name": "second"}], "delay_minutes": 1},
    ]
    put(a, "policies/default", {"steps": steps})
    put(a, "services/payments", {"room": "ops", "policy": "default"})
    open_incident(a)
    [step_0] = claim(a)  # node-a claims step 0; its send hangs, its heartbeat goes on
    for _ in range(4):
        a.clock.advance(15)
        beat(a), beat(b)
    assert escalate(b)  # step 1 is due and queued ...
    assert not b.dispatch()  # ... but it does not leave before step 0
    b.clock.advance(LAPSE_SECONDS + 1)  # then node-a dies
    beat(b)
    while b.dispatch():
        pass
    assert paths(recorder) == ["/first", "/second"]
    keys = [r["headers"]["Idempotency-Key"] for r in recorder.requests]
    assert keys[0] == f"thereyet-outbox-{step_0.id}" and len(set(keys)) == 2


def test_a_chat_command_left_running_by_a_dead_node_is_lost_with_a_card_in_its_room(
    sqlite_url: str, tmp_path: Path, clock: FakeClock
):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "commands.toml").write_text(
        '[commands.nap]\ntemplate = "nap"\nallow = { roles = ["admin"] }\n'
        'action = { exec = ["sleep", "30"] }\n'
    )
    with (
        hand_hub(sqlite_url, tmp_path / "a", clock, node="node-a") as a,
        hand_hub(sqlite_url, tmp_path / "b", clock, node="node-b") as b,
    ):
        make_room(a.client, "ops")
        say(a.client, "ops", "!nap")
        [record] = b.client.get("/api/v1/commands/runs").json()["runs"]
        assert record["status"] == "running"
        b.clock.advance(LAPSE_SECONDS + 1)  # node-a stops heartbeating (it "died")
        beat(b)
        lost = b.client.get(f"/api/v1/commands/runs/{record['id']}").json()
        assert lost["status"] == "lost"
        assert "node-a" in lost["error"]
        card = texts(b.client, "ops")[-1]
        assert card == (
            f"✗ #{record['id']} `!nap` lost: hub node node-a stopped answering while running it"
        )


@pytest.mark.postgres
def test_two_nodes_together_allow_an_integration_its_rate_not_twice_it(
    pg_database: str, tmp_path: Path, clock: FakeClock, recorder: Recorder
):
    from tests.conftest import _empty_pg
    from tests.incidents.conftest import integration, setup_oncall

    _empty_pg(pg_database)
    limits = {"alert_rate_per_minute": 6, "alert_burst": 3}
    with (
        hand_hub(pg_database, tmp_path / "a", clock, node="node-a", **limits) as a,
        hand_hub(pg_database, tmp_path / "b", clock, node="node-b", **limits) as b,
    ):
        setup_oncall(a, recorder)
        token = integration(a, "generic")
        answers = [
            hand_hub.client.post(
                f"/api/v1/alerts/{token}", json={"action": "trigger", "summary": f"disk {n}"}
            ).status_code
            for n, hand_hub in enumerate([a, b, a, b, a, b])
        ]
        assert answers == [202, 202, 202, 429, 429, 429]
        clock.advance(10)  # one token back, whichever node is asked
        assert (
            b.client.post(
                f"/api/v1/alerts/{token}", json={"action": "trigger", "summary": "disk 6"}
            ).status_code
            == 202
        )
