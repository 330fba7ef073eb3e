"""A corpus of hostile input sent to every route of the app, including those the OpenAPI
does not describe (compat endpoints, hooks, pings, page forms, live streams): no answer
is a 5xx, and the hub still answers afterwards. Runs on SQLite and PostgreSQL.

Each route is called with its path parameters filled in plausibly and with hostile
values, signed in with a session (for the pages) and with the admin token, and sent
every body of the corpus as JSON, as a form and without a Content-Type.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import Mount
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN
from tests.trust.conftest import make_integrations, signed_in

DEEP = b"[" * 100_000 + b"]" * 100_000
JSON_BODIES = [
    DEEP,
    b'{"a": ' * 70 + b"1" + b"}" * 70,
    b'{"text": "\\ud800", "username": "\\udfff", "name": "x\\ud800"}',
    b'{"text": "a\\u0000b", "name": "n\\u0000", "job": "j\\u0000", "room": "ops"}',
    b'{"id": 99999999999999999999999, "done": 1e999, "total": NaN, "value": -Infinity}',
    b'{"job": "export", "room": "ops", "pid": 18446744073709551616}',
    b'{"blocks": [{"type": "section", "fields": "x"}, {"type": "context", "elements": 5}]}',
    b'{"attachments": [{"fields": {"a": 1}}], "text": 5}',
    b'{"events": "no"}',
    b'{"events": [{"id": "\\ud800", "type": "log", "text": "\\u0000"}]}',
    b"[1, 2, 3]",
    b'"just a string"',
    b"12345678901234567890123456789",
    b"{not json",
    b"\xff\xfe\x00garbage",
    b"",
]
FORM_BODIES = [
    b"payload=" + DEEP,
    b"payload=%7B%22text%22%3A%22%5Cud800%22%7D",
    b"text=%00&csrf=x&name=%00&username=%00&password=%00",
    b"text=%ED%A0%80&name=%C0%AF",
    b"action=acknowledge&csrf=" + b"9" * 5000,
]
SEGMENTS = ["ops", "9223372036854775808", "9" * 5000, "%00", "%ED%A0%80", "..%2F..", "-1"]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
FORM = "application/x-www-form-urlencoded"


def routes(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path template) the app answers, the OpenAPI's and the others."""
    found: list[tuple[str, str]] = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            continue
        # FastAPI keeps an included router as one entry that yields its routes.
        contexts = getattr(route, "effective_route_contexts", None)
        for one in contexts() if contexts else [route]:
            found += [(m, one.path) for m in sorted(one.methods or ()) if m != "HEAD"]
    assert len(found) > 100, found
    return found


def filled(path: str, hooks: dict[str, Any], value: str) -> str:
    """`path` with its parameters filled: a real token where one is wanted, else `value`."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name == "token":
            return str(hooks["slack"]["token"])
        if name == "format":
            return "slack"
        return value

    return re.sub(r"\{([^}]+)\}", one, path)


def send(client: TestClient, method: str, path: str, body: bytes, kind: str | None) -> int:
    headers = {"Content-Type": kind} if kind else {}
    headers["Last-Event-ID"] = "9" * 5000
    if path.startswith(("/live/", "/api/v1/live")) and method == "GET":
        with client.stream(method, path, headers=headers) as response:
            return response.status_code
    return client.request(method, path, content=body or None, headers=headers).status_code


def attempts(method: str, *, every_body: bool) -> list[tuple[bytes, str | None]]:
    """The bodies (and Content-Types) to send: none to a read; to a write, the whole
    corpus with the plausible path, and with each hostile path one body of each kind
    (a path is parsed before the body is, so the pairs between them add nothing but
    minutes: the whole product was 4x the requests, and the suite's longest test)."""
    if method not in WRITES:
        return [(b"", None)]
    if not every_body:
        return [(b"", None), (JSON_BODIES[2], "application/json"), (FORM_BODIES[2], FORM)]
    sent: list[tuple[bytes, str | None]] = [(b, "application/json") for b in JSON_BODIES]
    sent += [(b, FORM) for b in FORM_BODIES]
    return [*sent, (JSON_BODIES[2], None), (JSON_BODIES[4], "text/plain")]


@pytest.mark.slow
def test_no_route_answers_5xx_to_the_hostile_corpus(client: TestClient) -> None:
    hooks = make_integrations(client)
    csrf = signed_in(client)
    client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    client.headers["X-CSRF-Token"] = csrf
    failures: list[str] = []
    sent = 0
    for method, template in routes(client):
        for value in SEGMENTS if "{" in template else ["-"]:
            path = filled(template, hooks, value)
            for body, kind in attempts(method, every_body=value in ("ops", "-")):
                status = send(client, method, path, body, kind)
                sent += 1
                if status >= 500:
                    failures.append(f"{status} {method} {path[:80]} {kind} {body[:60]!r}")
    assert failures == [], "\n".join(failures[:40])
    assert sent > 1000
    assert client.get("/api/v1/health").json()["status"] == "ok"
