"""Every route declares its access-policy entry and what it answers; each kind of
credential gets exactly what the policy gives it on representative routes, and never
reaches a route the policy denies it on any route of the API (new ones included)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Match
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, as_token
from tests.web.conftest import add_user, sign_in
from thereyet.server.app import create_app
from thereyet.server.domain.policy import POLICY, Credential, Entry, Reach, reach
from thereyet.server.services.tokens import issue_run_token
from thereyet.server.web.declare import FRAMEWORK_ROUTES, declared_entry


def all_routes(routes: list[Any]) -> Iterator[Any]:
    """The app's routes, those of included routers included."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            yield from contexts()
        else:
            yield route


def test_every_route_of_the_app_declares_a_policy_entry(settings):
    app = create_app(settings)
    routes = list(all_routes(app.routes))
    assert len(routes) > 100  # compat, hooks, pages and live streams included
    undeclared = [
        (sorted(getattr(r, "methods", None) or []), r.path)
        for r in routes
        if declared_entry(getattr(r, "endpoint", None)) is None and r.path not in FRAMEWORK_ROUTES
    ]
    assert undeclared == []


def _declares_a_body(answer: dict[str, Any]) -> bool:
    """Whether a documented answer says what its body is: a JSON schema with fields
    (or a choice of them), or the media types of what else the route sends."""
    content = answer.get("content") or {}
    for media, declared in content.items():
        if media == "application/json" or media.endswith("+json"):
            schema = declared.get("schema") or {}
            if not {"properties", "$ref", "anyOf", "oneOf"} & set(schema):
                return False
    return bool(content)


def test_every_json_route_declares_its_success_answer(settings):
    """The OpenAPI document says what each route answers when it succeeds, so clients
    and the fuzz stage can check it: a route returning a dict declares it with
    `response_model=answer(Model)` (web/answers.py); only a 204 has no body."""
    app = create_app(settings)
    undeclared = [
        f"{method.upper()} {path} {status}"
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        for status, answer in operation["responses"].items()
        if status.startswith("2") and status != "204" and not _declares_a_body(answer)
    ]
    assert undeclared == []


def test_every_declared_entry_is_in_the_policy(settings):
    app = create_app(settings)
    entries = {declared_entry(getattr(r, "endpoint", None)) for r in all_routes(app.routes)}
    entries.discard(None)
    assert entries <= set(POLICY)


def _entry_of(app: Any, method: str, path: str) -> Entry:
    scope = {"type": "http", "method": method, "path": path.split("?")[0]}
    for route in all_routes(app.routes):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            entry = declared_entry(route.endpoint)
            assert entry is not None
            return entry
    raise AssertionError(f"no route for {method} {path}")


# Representative routes: (method, path, JSON body). Bodies are valid, so an allowed
# caller gets past the policy (2xx, or 404/409 about the thing itself).
ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/api/v1/runs", None),
    ("GET", "/api/v1/runs/{run}", None),
    ("GET", "/api/v1/runs/{run}/events", None),
    ("POST", "/api/v1/runs", {"job": "backup", "room": "ops"}),
    ("POST", "/api/v1/runs/{run}/events", {"events": [{"type": "log", "line": "hi"}]}),
    ("GET", "/api/v1/jobs", None),
    ("GET", "/api/v1/jobs/backup/schedule", None),
    ("PUT", "/api/v1/jobs/backup/schedule", {"schedule": "0 3 * * *"}),
    ("PATCH", "/api/v1/jobs/backup", {"title": "Backup"}),
    ("GET", "/api/v1/rooms", None),
    ("GET", "/api/v1/rooms/ops/messages", None),
    ("POST", "/api/v1/rooms/ops/messages", {"text": "hello"}),
    ("GET", "/api/v1/search?q=hello", None),
    ("GET", "/api/v1/incidents", None),
    ("POST", "/api/v1/incidents", {"service": "web", "summary": "down"}),
    ("GET", "/api/v1/oncall/people", None),
    ("GET", "/api/v1/oncall/rotations", None),
    ("GET", "/api/v1/oncall/reports/2026-03", None),
    ("GET", "/api/v1/commands/runs", None),
    ("GET", "/api/v1/channels", None),
    ("GET", "/api/v1/integrations", None),
    ("GET", "/api/v1/tokens", None),
    ("GET", "/api/v1/users", None),
    ("GET", "/api/v1/shares", None),
    ("GET", "/api/v1/ping-keys", None),
]

# Credentials that read through a query string or a cookie can only GET.
READ_ONLY_KINDS = {Credential.ROOM_SHARE, Credential.JOB_SHARE}


@pytest.fixture
def route_hub(settings, clock) -> Iterator[dict[str, Any]]:
    """A hub with one credential of each kind the API takes, and a run in room `ops`."""
    app = create_app(settings, clock)
    with TestClient(app, raise_server_exceptions=False) as admin:
        admin.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        run = admin.post("/api/v1/runs", json={"job": "backup", "room": "ops"}).json()["id"]
        admin.post("/api/v1/rooms/ops/messages", json={"text": "hello"})
        admin.put("/api/v1/oncall/services/web", json={"room": "ops"})

        def token(scope: str, **limits: list[str]) -> str:
            body = {"name": f"a {scope} token", "scope": scope, **limits}
            return str(admin.post("/api/v1/tokens", json=body).json()["token"])

        def share(kind: str, target: str) -> str:
            made = admin.post("/api/v1/shares", json={"kind": kind, "target": target})
            return str(made.json()["url"].rsplit("/", 1)[1])

        run_token = app.state.hub.writer.run_sync(lambda tx: issue_run_token(tx, run))
        callers: dict[Credential, Any] = {
            Credential.ADMIN: ("bearer", ADMIN_TOKEN),
            Credential.READ_TOKEN: ("bearer", token("read")),
            Credential.INGEST_TOKEN: ("bearer", token("ingest", rooms=["ops"])),
            Credential.RUN_TOKEN: ("bearer", run_token),
            Credential.ROOM_SHARE: ("share", share("room", "ops")),
            Credential.JOB_SHARE: ("share", share("job", "backup")),
        }
        for kind, role in ((Credential.OPERATOR, "operator"), (Credential.VIEWER, "viewer")):
            add_user(admin, role, role)
            person = TestClient(app, raise_server_exceptions=False)
            sign_in(person, role)
            callers[kind] = ("session", person)
        yield {"app": app, "admin": admin, "run": run, "callers": callers}


def _call(route_hub: dict[str, Any], kind: Credential, method: str, path: str, body: Any) -> int:
    how, credential = route_hub["callers"][kind]
    client: TestClient = route_hub["admin"]
    headers = as_token(client, None)
    if how == "bearer":
        headers = as_token(client, credential)
    elif how == "share":
        path += ("&" if "?" in path else "?") + f"share={credential}"
    else:
        client = credential
        headers = {"X-CSRF-Token": "none", "Accept": "application/json"}
    response = client.request(method, path, json=body, headers=headers)
    return response.status_code


API_KINDS = [
    Credential.ADMIN,
    Credential.OPERATOR,
    Credential.VIEWER,
    Credential.READ_TOKEN,
    Credential.INGEST_TOKEN,
    Credential.RUN_TOKEN,
    Credential.ROOM_SHARE,
    Credential.JOB_SHARE,
]


@pytest.mark.parametrize("kind", API_KINDS, ids=lambda k: k.name.lower())
def test_each_kind_of_credential_gets_what_the_policy_gives_it(route_hub, kind):
    wrong: list[str] = []
    for method, template, body in ROUTES:
        path = template.format(run=route_hub["run"])
        entry = _entry_of(route_hub["app"], method, path)
        allowed = reach(kind, entry.resource, entry.action) is not Reach.NONE
        if method != "GET" and kind in READ_ONLY_KINDS | {Credential.OPERATOR, Credential.VIEWER}:
            continue  # a share link never writes; a page writes only with its CSRF token
        status = _call(route_hub, kind, method, path, body)
        refused = status in (401, 403)
        if allowed == refused:
            wrong.append(f"{method} {path} ({entry}): {status}, policy says {allowed=}")
    assert wrong == []


def test_a_credential_carried_in_a_url_is_no_bearer_token(client):
    """Ping URLs and integration tokens reach their own endpoint, and nothing else."""
    client.post("/api/v1/runs", json={"job": "backup", "room": "ops"})
    schedule = client.put("/api/v1/jobs/backup/schedule", json={"schedule": "0 3 * * *"})
    ping_uuid = schedule.json()["ping_url"].rsplit("/", 1)[1]
    client.put("/api/v1/oncall/services/web", json={"room": "ops"})
    made = client.post(
        "/api/v1/oncall/integrations", json={"name": "am", "service": "web", "kind": "generic"}
    )
    assert made.status_code == 201, made.text
    integration = made.json()["token"]
    for secret in (ping_uuid, integration):
        for path in ("/api/v1/runs", "/api/v1/incidents", "/api/v1/rooms/ops/messages"):
            assert client.get(path, headers=as_token(client, secret)).status_code == 401
    assert client.get(f"/ping/{ping_uuid}").status_code == 200


def api_routes(app: Any) -> Iterator[tuple[str, str, Entry]]:
    """(method, path, policy entry) of every route under /api/v1."""
    for route in all_routes(app.routes):
        entry = declared_entry(getattr(route, "endpoint", None))
        if entry is None or not route.path.startswith("/api/v1/"):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            yield method, route.path, entry


def _placeholders(path: str) -> str:
    """The path with each parameter given a value every kind of parameter takes."""
    return re.sub(r"\{[^}]+\}", "1", path)


def _carries_its_credential(path: str, entry: Entry) -> bool:
    """Whether a route needs no bearer: open to anyone, or its credential is in the URL."""
    return "{token}" in path or reach(Credential.ANYONE, entry.resource, entry.action) is not (
        Reach.NONE
    )


def test_every_api_route_refuses_a_caller_without_a_credential(client):
    """A route that declares an entry but takes no credential would be open to anyone."""
    open_routes = []
    for method, path, entry in api_routes(client.app):
        if _carries_its_credential(path, entry):
            continue
        body = None if method in ("GET", "DELETE") else {}
        response = client.request(
            method, _placeholders(path), json=body, headers=as_token(client, None)
        )
        if response.status_code != 401:
            open_routes.append(f"{method} {path}: {response.status_code}")
    assert open_routes == []


@pytest.mark.parametrize("kind", API_KINDS[1:], ids=lambda k: k.name.lower())
def test_no_credential_reaches_an_api_route_the_policy_denies_it(route_hub, kind):
    """Walks every route under /api/v1, those added later too: where the policy gives a
    kind of credential nothing, it is refused; and no route answers it a 5xx."""
    wrong: list[str] = []
    for method, path, entry in api_routes(route_hub["app"]):
        if method != "GET" and kind in READ_ONLY_KINDS | {Credential.OPERATOR, Credential.VIEWER}:
            continue  # a share link never writes; a page writes only with its CSRF token
        if _carries_its_credential(path, entry):
            continue
        body = None if method in ("GET", "DELETE") else {}
        status = _call(route_hub, kind, method, _placeholders(path), body)
        denied = reach(kind, entry.resource, entry.action) is Reach.NONE
        if status >= 500 or (denied and status not in (401, 403)):
            wrong.append(f"{method} {path} ({entry}): {status}")
    assert wrong == []
