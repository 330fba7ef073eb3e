"""Values stored before input was checked can always be read back.

SQLite kept lone surrogates (as "\\ud800" escapes in JSON) and NaN; hubs that
ran older versions may hold them. Reading messages, search, transcripts, pages
and incidents must not fail on them. (PostgreSQL never stored either.)
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from tests.trust.conftest import make_integrations, signed_in

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def sqlite_client(sqlite_url: str, tmp_path: Any, clock: Any) -> Any:
    from tests.conftest import ADMIN_TOKEN, make_settings
    from thereyet.server.app import create_app

    app = create_app(make_settings(sqlite_url, tmp_path), clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield client


def _corrupt(url: str, statement: str) -> None:
    """Write a value as an older hub could have, bypassing today's checks."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def test_a_stored_lone_surrogate_and_nan_do_not_break_any_later_read(
    sqlite_client: TestClient, sqlite_url: str
) -> None:
    client = sqlite_client
    hooks = make_integrations(client)
    slack = {"text": "deploy done", "username": "bot"}
    assert client.post(f"/hooks/slack/{hooks['slack']['token']}", json=slack).status_code == 200
    event = {
        "routing_key": hooks["pagerduty"]["token"],
        "event_action": "trigger",
        "payload": {"summary": "disk", "source": "db", "severity": "error", "custom_details": {}},
    }
    assert client.post("/v2/enqueue", json=event).status_code == 202
    _corrupt(
        sqlite_url,
        """UPDATE messages SET data = '{"username": "\\ud800bot", "x": NaN}'
           WHERE body LIKE '%deploy done%'""",
    )
    _corrupt(
        sqlite_url,
        """UPDATE incidents SET details = '{"custom_details": {"who": "\\udfff", "free": NaN}}'""",
    )
    messages = client.get("/api/v1/rooms/ops/messages")
    assert messages.status_code == 200
    [posted] = [m for m in messages.json()["messages"] if "deploy done" in m["text"]]
    assert posted["data"]["username"] == "\ufffdbot" and posted["data"]["x"] is None
    assert client.get("/api/v1/search", params={"q": "deploy"}).status_code == 200
    [incident] = client.get("/api/v1/incidents").json()["incidents"]
    view = client.get(f"/api/v1/incidents/{incident['id']}")
    assert view.status_code == 200
    assert view.json()["details"]["custom_details"] == {"who": "\ufffd", "free": None}
    signed_in(client)
    for page in ("/rooms/ops", "/search?q=deploy", "/incidents"):
        shown = client.get(page)
        assert shown.status_code == 200 and "Sign in" not in shown.text, page
    for fmt in ("md", "jsonl", "html"):
        exported = client.get("/rooms/ops/transcript", params={"format": fmt})
        assert exported.status_code == 200, exported.text
        assert "deploy done" in exported.text
