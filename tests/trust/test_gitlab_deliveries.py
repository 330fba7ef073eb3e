"""GitLab deliveries are de-duplicated as GitHub's are (test_github_deliveries.py): a
delivery whose Idempotency-Key (the same on GitLab's retries and hand resends) or
X-Gitlab-Event-UUID was received in the last 72 hours is dropped, and the memory is
in the database, so a resend that reaches another node is dropped too."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from starlette.testclient import TestClient

from tests.chatops.test_inbound_hooks import GITLAB_PIPELINE, GITLAB_PUSH, integration
from tests.conftest import ADMIN_TOKEN
from tests.trust.test_github_deliveries import remembered
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.config import Settings


def deliver(
    client: TestClient,
    hook: dict[str, Any],
    payload: dict[str, Any],
    *,
    key: str | None = None,
    event: str | None = None,
) -> dict[str, Any]:
    """POST one delivery as GitLab sends it; the hub's answer."""
    headers = {"X-Gitlab-Token": hook["secret"], "X-Gitlab-Event": "Push Hook"}
    if key is not None:
        headers["Idempotency-Key"] = key
    if event is not None:
        headers["X-Gitlab-Event-UUID"] = event
    response = client.post(hook["url"], json=payload, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def pushes(client: TestClient) -> int:
    found = client.get("/api/v1/rooms/ci/messages").json()["messages"]
    return len([m for m in found if m["kind"] == "integration"])


def test_a_delivery_resent_with_its_idempotency_key_is_dropped(client: TestClient) -> None:
    hook = integration(client, "gitlab")
    first = deliver(client, hook, GITLAB_PUSH, key="k-1", event="e-1")
    assert first == {"ok": True, "posted": 1, "duplicate": False}
    # A resend from the webhook's log: the same key, a new event id.
    resent = deliver(client, hook, GITLAB_PUSH, key="k-1", event="e-2")
    assert resent == {"ok": True, "posted": 0, "duplicate": True}
    assert pushes(client) == 1


def test_a_delivery_repeated_with_its_event_uuid_is_dropped(client: TestClient) -> None:
    hook = integration(client, "gitlab")
    assert deliver(client, hook, GITLAB_PUSH, event="e-1")["posted"] == 1
    assert deliver(client, hook, GITLAB_PUSH, event="e-1")["duplicate"] is True
    # Two webhooks (say a project's and its group's) sent for one event: posted once.
    assert deliver(client, hook, GITLAB_PUSH, key="k-2", event="e-1")["duplicate"] is True
    assert pushes(client) == 1


def test_distinct_deliveries_are_all_posted(client: TestClient) -> None:
    hook = integration(client, "gitlab")
    assert deliver(client, hook, GITLAB_PUSH, key="k-1", event="e-1")["posted"] == 1
    assert deliver(client, hook, GITLAB_PIPELINE, key="k-2", event="e-2")["posted"] == 1
    # An older GitLab sends neither header: nothing to recognise a repeat by.
    assert deliver(client, hook, GITLAB_PUSH)["posted"] == 1
    assert deliver(client, hook, GITLAB_PUSH)["posted"] == 1
    assert pushes(client) == 4


def test_a_key_is_one_integrations_own(client: TestClient) -> None:
    first, second = integration(client, "gitlab", "ci"), integration(client, "gitlab", "ops")
    assert deliver(client, first, GITLAB_PUSH, key="k-1")["posted"] == 1
    assert deliver(client, second, GITLAB_PUSH, key="k-1")["posted"] == 1


def test_deliveries_are_remembered_72_hours_then_forgotten(
    client: TestClient, clock: FakeClock, settings: Settings
) -> None:
    hook = integration(client, "gitlab")
    assert deliver(client, hook, GITLAB_PUSH, key="k-1", event="e-1")["posted"] == 1
    assert remembered(settings) == 2  # the key and the event id
    clock.advance(timedelta(hours=71, minutes=59).total_seconds())
    assert deliver(client, hook, GITLAB_PUSH, key="k-1", event="e-9")["duplicate"] is True
    clock.advance(timedelta(hours=72, minutes=1).total_seconds())
    assert deliver(client, hook, GITLAB_PIPELINE, key="k-2")["posted"] == 1
    assert remembered(settings) == 1  # k-1, e-1 and e-9 forgotten; k-2 kept
    assert deliver(client, hook, GITLAB_PUSH, key="k-1", event="e-1")["posted"] == 1


def test_a_resend_reaching_another_node_is_dropped(
    client: TestClient, settings: Settings, clock: FakeClock
) -> None:
    hook = integration(client, "gitlab")
    assert deliver(client, hook, GITLAB_PUSH, key="k-1")["posted"] == 1
    other_node = create_app(replace(settings, node="node-b"), clock)
    with TestClient(other_node, raise_server_exceptions=False) as other:
        other.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert deliver(other, hook, GITLAB_PUSH, key="k-1")["duplicate"] is True
        assert pushes(other) == 1
