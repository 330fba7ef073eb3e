"""Finding 10: a GitHub delivery needs its X-GitHub-Delivery id; a captured one replayed
under a new id (or none) is refused, for 72 hours, and the memory is in the database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, func, select
from starlette.testclient import TestClient

from tests.chatops.test_inbound_hooks import GITHUB_PUSH, github_post, integration
from thereyet.server.clock import FakeClock
from thereyet.server.config import Settings
from thereyet.server.store.tables import hook_deliveries


def remembered(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(hook_deliveries)).scalar_one()
    engine.dispose()
    return int(count)


def test_a_delivery_without_an_id_is_422_naming_the_header(client: TestClient) -> None:
    hook = integration(client, "github")
    response = github_post(client, hook, "push", GITHUB_PUSH, delivery="")
    assert response.status_code == 422
    assert response.json()["field"] == "X-GitHub-Delivery"


def test_a_captured_delivery_replayed_under_a_new_id_is_dropped(client: TestClient) -> None:
    hook = integration(client, "github")
    first = github_post(client, hook, "push", GITHUB_PUSH, "d-1")
    assert first.json() == {"ok": True, "posted": 1, "duplicate": False}
    for new_id in ("d-2", "attacker-chosen"):
        replayed = github_post(client, hook, "push", GITHUB_PUSH, new_id)
        assert replayed.json()["duplicate"] is True
    messages = client.get("/api/v1/rooms/ci/messages").json()["messages"]
    assert len([m for m in messages if m["author"] != "thereyet" or "pushed" in m["text"]]) == 1


def test_deliveries_are_remembered_72_hours_then_pruned(
    client: TestClient, clock: FakeClock, settings: Settings
) -> None:
    hook = integration(client, "github")
    assert github_post(client, hook, "push", GITHUB_PUSH, "d-1").json()["posted"] == 1
    clock.advance(timedelta(hours=71, minutes=59).total_seconds())
    assert github_post(client, hook, "push", GITHUB_PUSH, "d-1").json()["duplicate"] is True
    assert remembered(settings) == 2  # the id and the body's digest
    clock.advance(timedelta(hours=72, minutes=1).total_seconds())
    other: dict[str, Any] = {**GITHUB_PUSH, "after": "e" * 40}
    assert github_post(client, hook, "push", other, "d-2").json()["posted"] == 1
    assert remembered(settings) == 2  # d-1 and its body forgotten; d-2 and its body kept
    assert github_post(client, hook, "push", GITHUB_PUSH, "d-1").json()["posted"] == 1
