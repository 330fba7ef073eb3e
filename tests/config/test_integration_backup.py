"""A hub restored from a backup keeps its integrations in the one table: every sender's
token still delivers, and the last deliveries are still listed (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from tests.config.conftest import ok
from tests.conftest import ADMIN_TOKEN, make_settings
from thereyet.cli.main import main
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock


def test_restored_integrations_keep_their_tokens_and_deliveries(
    client: TestClient, db_url: str, other_db: str, tmp_path: Path, clock: FakeClock
):
    ok(client.put("/api/v1/oncall/services/payments", json={"room": "ops"}))
    hook = ok(
        client.post("/api/v1/integrations", json={"name": "chat", "kind": "slack", "room": "ops"})
    )
    pd = ok(
        client.post(
            "/api/v1/integrations", json={"name": "pd", "kind": "pagerduty", "service": "payments"}
        )
    )
    assert client.post(hook["path"], json={"text": "before the backup"}).status_code == 200
    before = ok(client.get("/api/v1/integrations"))["integrations"]
    archive = tmp_path / "hub.tgz"
    assert main(["backup", str(archive), "--db", db_url]) == 0
    assert main(["restore", str(archive), "--db", other_db]) == 0

    restored = create_app(make_settings(other_db, tmp_path / "restored"), clock)
    with TestClient(restored) as other:
        other.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert ok(other.get("/api/v1/integrations"))["integrations"] == before
        assert other.post(hook["path"], json={"text": "after the restore"}).text == "ok"
        event = {
            "routing_key": pd["token"],
            "event_action": "trigger",
            "payload": {"summary": "payments down", "source": "pay-1", "severity": "error"},
        }
        assert other.post("/v2/enqueue", json=event).status_code == 202
        [latest, first] = ok(other.get("/api/v1/integrations/chat"))["deliveries"]
        assert (latest["status"], first["status"]) == (200, 200)
