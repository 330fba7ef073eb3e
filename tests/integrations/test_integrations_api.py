"""One collection for every inbound integration: /api/v1/integrations, field `kind`, an
absolute URL to paste and a sender's configuration; the former routes and field names
still answer, marked deprecated."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, make_settings
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock

PUBLIC = "https://hub.example.com"
_NAMES = itertools.count(1)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One hub (SQLite) for the module, with a public address, a room and a service:
    these are answers' shapes; the writes run on both databases in test_deliveries.py."""
    data_dir = tmp_path_factory.mktemp("integrations")
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    app = create_app(make_settings(f"sqlite:///{data_dir / 'hub.db'}", data_dir), clock)
    with TestClient(app, raise_server_exceptions=False) as shared:
        shared.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert shared.put("/api/v1/oncall/public-url", json={"public_url": PUBLIC}).is_success
        assert shared.put("/api/v1/oncall/services/payments", json={}).is_success
        yield shared


def make(client: TestClient, **body: Any) -> Any:
    body.setdefault("name", f"in-{next(_NAMES)}")
    return client.post("/api/v1/integrations", json=body)


@pytest.mark.parametrize(
    ("kind", "target", "path"),
    [
        ("slack", {"room": "ops"}, "/hooks/slack/"),
        ("github", {"room": "ops"}, "/hooks/github/"),
        ("gitlab", {"room": "ops"}, "/hooks/gitlab/"),
        ("jenkins", {"room": "ops"}, "/hooks/jenkins/"),
        ("nagios", {"room": "ops"}, "/hooks/nagios/"),
        ("alertmanager", {"service": "payments"}, "/api/v1/alerts/"),
        ("generic", {"service": "payments"}, "/api/v1/alerts/"),
    ],
)
def test_every_kind_is_made_in_one_collection_with_an_absolute_url_and_a_sender_example(
    client: TestClient, kind: str, target: dict[str, str], path: str
):
    made = make(client, kind=kind, **target)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["kind"] == kind
    assert body["url"] == f"{PUBLIC}{body['path']}"
    assert body["path"].startswith(path) and body["token"] in body["path"]
    assert body["url"] in body["example"]
    listed = {i["name"]: i for i in client.get("/api/v1/integrations").json()["integrations"]}
    assert listed[body["name"]]["kind"] == kind
    assert body["token"] not in str(listed[body["name"]])  # shown once, never again


def test_a_pagerduty_integration_gives_the_events_url_and_its_routing_key(client: TestClient):
    body = make(client, kind="pagerduty", service="payments").json()
    assert body["url"] == f"{PUBLIC}/v2/enqueue"
    assert len(body["token"]) == 32  # as PagerDuty routing keys are
    assert f"routing_key: {body['token']}" in body["example"]  # Alertmanager's pagerduty_configs
    assert f"url: {PUBLIC}/v2/enqueue" in body["example"]


def test_an_alertmanager_example_is_a_receiver_to_paste_into_alertmanager_yml(client: TestClient):
    body = make(client, kind="alertmanager", service="payments").json()
    assert body["example"].splitlines()[1:] == [
        "receivers:",
        "  - name: thereyet",
        "    webhook_configs:",
        f"      - url: {body['url']}",
        "        send_resolved: true",
    ]


def test_a_slack_example_has_a_curl_line_and_an_apprise_url(client: TestClient):
    body = make(client, kind="slack", room="ops").json()
    assert f"mmosts://hub.example.com/{body['token']}" in body["example"]
    assert "curl -fsS -X POST -H 'Content-Type: application/json'" in body["example"]


def test_a_github_example_carries_the_secret_shown_once(client: TestClient):
    body = make(client, kind="github", room="ops").json()
    assert body["secret"] and f"Secret:       {body['secret']}" in body["example"]
    one = client.get(f"/api/v1/integrations/{body['name']}").json()
    assert one["has_secret"] is True and body["secret"] not in str(one)


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"kind": "fax", "room": "ops"}, "kind", "kind must be one of"),
        ({"kind": "slack", "service": "payments"}, "service", "posts to a room"),
        ({"kind": "slack"}, "room", "needs a room"),
        ({"kind": "alertmanager", "room": "ops"}, "room", "posts to a service"),
        ({"kind": "pagerduty"}, "service", "needs a service"),
        ({"kind": "generic", "service": "nowhere"}, "service", "no service named"),
        ({"kind": "slack", "room": "ops", "secret": "s" * 20}, "secret", "has no secret"),
        ({"kind": "slack", "format": "slack", "room": "ops"}, "kind", "not both"),
        ({"room": "ops"}, "kind", "give kind"),
    ],
)
def test_bad_integrations_are_refused_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str, reason: str
):
    before = client.get("/api/v1/integrations").json()["integrations"]
    answer = make(client, **body)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["field"] == field and reason in answer.json()["error"]
    assert client.get("/api/v1/integrations").json()["integrations"] == before


def test_the_former_field_format_is_answered_as_before_with_a_deprecation_header(
    client: TestClient,
):
    made = make(client, format="jenkins", room="ops")
    assert made.status_code == 201
    assert made.headers["Deprecation"] == "true"
    assert made.json()["url"] == made.json()["path"]  # relative, as the former answer was
    assert made.json()["format"] == made.json()["kind"] == "jenkins"
    bad = make(client, format="fax", room="ops")
    assert bad.status_code == 422 and bad.json()["field"] == "format"


def test_the_former_oncall_collection_still_makes_and_lists_alert_sources(client: TestClient):
    made = client.post(
        "/api/v1/oncall/integrations",
        json={"name": "old-am", "service": "payments", "kind": "alertmanager"},
    )
    assert made.status_code == 201 and made.headers["Deprecation"] == "true"
    token = made.json()["token"]
    assert made.json()["endpoint"] == f"/api/v1/alerts/{token}/alertmanager"
    assert made.json()["url"] == f"{PUBLIC}/api/v1/alerts/{token}/alertmanager"
    listed = client.get("/api/v1/oncall/integrations")
    assert listed.headers["Deprecation"] == "true"
    names = {i["name"]: i for i in listed.json()["integrations"]}
    assert names["old-am"]["service"] == "payments" and names["old-am"]["revoked"] is False
    assert all(i["service"] for i in names.values())  # hooks are not alert sources
    new = {i["name"] for i in client.get("/api/v1/integrations").json()["integrations"]}
    assert "old-am" in new


def test_an_integration_is_deleted_and_its_token_stops_working(client: TestClient):
    made = make(client, kind="generic", service="payments").json()
    alert = {"action": "trigger", "key": "k", "summary": "disk"}
    assert client.post(made["path"], json=alert).status_code == 202
    assert client.delete(f"/api/v1/integrations/{made['name']}").status_code == 204
    assert client.post(made["path"], json=alert).status_code == 404
    assert client.get(f"/api/v1/integrations/{made['name']}").status_code == 404


def test_only_admins_reach_integrations(client: TestClient):
    reader = client.post("/api/v1/tokens", json={"name": "r", "scope": "read"}).json()["token"]
    as_reader = {"Authorization": f"Bearer {reader}"}
    assert client.get("/api/v1/integrations", headers=as_reader).status_code == 403
    body = {"name": "x", "kind": "slack", "room": "ops"}
    assert client.post("/api/v1/integrations", json=body, headers=as_reader).status_code == 403
