"""Finding 9: every stored link is an absolute http(s) URL; `javascript:` never gets in."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.trust.conftest import make_integrations
from thereyet.server.domain.links import is_web_url

BAD = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:text/html,x",
    "//evil",
    "ftp://x/y",
    "http://",
    "https://a b/",
]


@pytest.mark.parametrize("url", BAD)
def test_a_job_runbook_that_is_not_http_is_422_naming_it(client: TestClient, url: str) -> None:
    response = client.post("/api/v1/jobs", json={"name": "backup", "runbook_url": url})
    assert response.status_code == 422
    assert response.json()["field"] == "runbook_url"
    patched = client.patch("/api/v1/jobs/backup", json={"runbook_url": url})
    assert patched.status_code in (404, 422)


@pytest.mark.parametrize(
    "path,body,field",
    [
        (
            "/api/v1/incidents",
            {"service": "payments", "summary": "x", "runbook_url": BAD[0]},
            "runbook_url",
        ),
        ("/api/v1/oncall/services/payments", {"room": "ops", "runbook_url": BAD[0]}, "runbook_url"),
        ("/api/v1/jobs/backup/schedule", {"target": {"kind": "http", "url": BAD[0]}}, "target.url"),
        ("/api/v1/oncall/public-url", {"public_url": "javascript:alert(1)//x"}, "public_url"),
    ],
)
def test_incident_service_callback_and_public_urls_must_be_http(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    make_integrations(client)
    method = client.post if path == "/api/v1/incidents" else client.put
    response = method(path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_our_own_alert_format_refuses_a_javascript_link(client: TestClient) -> None:
    make_integrations(client)
    generic = {"name": "own", "kind": "generic", "service": "payments"}
    token = client.post("/api/v1/integrations", json=generic).json()["token"]
    event = {"action": "trigger", "summary": "x", "links": [{"href": BAD[0], "text": "go"}]}
    response = client.post(f"/api/v1/alerts/{token}", json=event)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "links.0.href"


def test_pagerduty_links_that_are_not_http_are_dropped_and_the_alert_still_pages(
    client: TestClient,
) -> None:
    hooks = make_integrations(client)
    event = {
        "routing_key": hooks["pagerduty"]["token"],
        "event_action": "trigger",
        "payload": {
            "summary": "disk",
            "source": "db-1",
            "severity": "error",
            "custom_details": {"runbook_url": "javascript:alert(1)"},
        },
        "links": [
            {"href": "javascript:x", "text": "bad"},
            {"href": "https://grafana/d/1", "text": "ok"},
        ],
        "images": [{"src": "data:image/svg+xml,<svg/>"}],
    }
    assert client.post("/v2/enqueue", json=event).status_code == 202
    [incident] = client.get("/api/v1/incidents").json()["incidents"]
    view = client.get(f"/api/v1/incidents/{incident['id']}").json()
    assert view["runbook_url"] is None
    assert [link["href"] for link in view["links"]] == ["https://grafana/d/1"]
    assert view["images"] == []


def test_what_counts_as_a_web_url() -> None:
    assert is_web_url("https://wiki.example.com/runbooks/disk#free")
    assert is_web_url("HTTP://10.0.0.1:8080/x?y=1")
    assert not any(is_web_url(u) for u in BAD)
    assert not is_web_url(None) and not is_web_url("http://[::1")
