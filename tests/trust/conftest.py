"""Helpers for the trust tests: a room with every kind of inbound integration."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from typing import Any

import httpx
from starlette.testclient import TestClient

from tests.web.conftest import add_user, browser, page_csrf, sign_in, web_hub

__all__ = ["browser", "web_hub"]  # the web tests' fixtures, for a browser here too

HOOK_FORMATS = ("slack", "github", "gitlab", "jenkins", "nagios")


def make_integrations(client: httpx.Client) -> dict[str, Any]:
    """Room `ops` with one integration per hook format, and PagerDuty and Alertmanager keys
    on a service `payments`: {format: its view, with "token" (and "secret")}."""
    client.post("/api/v1/rooms", json={"name": "ops", "title": "ops", "topic": ""})
    assert client.put("/api/v1/oncall/people/ana", json={"timezone": "UTC"}).status_code == 200
    steps = [{"targets": [{"kind": "person", "name": "ana"}], "delay_minutes": 5}]
    assert client.put("/api/v1/oncall/policies/default", json={"steps": steps}).status_code == 200
    service = {"room": "ops", "policy": "default"}
    assert client.put("/api/v1/oncall/services/payments", json=service).status_code == 200
    found: dict[str, Any] = {}
    for kind in ("pagerduty", "alertmanager"):
        body = {"name": kind, "service": "payments", "kind": kind}
        response = client.post("/api/v1/oncall/integrations", json=body)
        assert response.status_code == 201, response.text
        found[kind] = response.json()
    for fmt in HOOK_FORMATS:
        body = {"name": fmt, "format": fmt, "room": "ops"}
        response = client.post("/api/v1/integrations", json=body)
        assert response.status_code == 201, response.text
        found[fmt] = response.json()
    return found


def signed_in(client: TestClient) -> str:
    """Sign the client in as an operator (pages take sessions); the page's CSRF token."""
    add_user(client, "ana", "operator")
    client.post("/api/v1/rooms", json={"name": "ops", "title": "ops", "topic": ""})
    client.headers.pop("Authorization")
    sign_in(client, "ana")
    return page_csrf(client.get("/rooms/ops").text)


_DELIVERIES = itertools.count(1)


def signed(hooks: dict[str, Any], fmt: str, body: bytes) -> dict[str, str]:
    """JSON headers for a delivery of `body` to hook `fmt`, signed as GitHub and GitLab sign."""
    headers = {"Content-Type": "application/json"}
    secret = hooks[fmt].get("secret") or ""
    if fmt == "github":
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
        headers["X-GitHub-Event"] = "push"
        headers["X-GitHub-Delivery"] = f"delivery-{next(_DELIVERIES)}"
    if fmt == "gitlab":
        headers["X-Gitlab-Token"] = secret
        headers["X-Gitlab-Event"] = "Push Hook"
    return headers
