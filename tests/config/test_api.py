"""Configuration over the API: the CLI plans and applies against a running hub
(--url, admin token), secrets resolved on the client; managed objects refuse
changes through the API (409 naming the file) or warn; stored commands are used."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from starlette.testclient import TestClient

from tests.config.conftest import ok
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.servers import serve
from thereyet.cli.main import main
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.config import Settings
from thereyet.server.store.tables import jobs

TEAM = """
[rooms.ops]

[jobs.backup]
rooms = ["ops"]
schedule = "every 1h"
target = { url = "env:BACKUP_HOOK", headers = { X-Key = "file:KEYFILE" } }

[commands.greet]
template = "greet {who}"
description = "Say hello"
allow = { roles = ["admin"] }
action = { exec = ["/bin/echo", "hello", "{who}"] }

[tokens.ci]
scope = "ingest"
jobs = ["backup"]
"""


@pytest.fixture
def hub_url(settings, clock: FakeClock):  # type: ignore[no-untyped-def]
    with serve(create_app(settings, clock)) as url:
        yield url


def test_plan_and_apply_over_the_api_with_secrets_resolved_by_the_client(
    hub_url: str,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    key = tmp_path / "key"
    key.write_text("k-123\n")
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "team.toml").write_text(TEAM.replace("file:KEYFILE", f"file:{key}"))
    monkeypatch.setenv("BACKUP_HOOK", "https://hooks.internal/backup")
    monkeypatch.setenv("THEREYET_ADMIN_TOKEN", ADMIN_TOKEN)
    remote = ["--url", hub_url]
    assert main(["plan", str(conf), *remote]) == 2
    assert main(["apply", str(conf), *remote]) == 0
    out = capsys.readouterr().out
    assert "Generated secrets (shown once, store them now):" in out
    assert '"kind": "tokens", "name": "ci", "token": "ty_' in out
    assert main(["plan", str(conf), *remote]) == 0
    with httpx.Client(base_url=hub_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api:
        schedule = ok(api.get("/api/v1/jobs/backup/schedule"))
        commands = {c["name"] for c in ok(api.get("/api/v1/commands"))["commands"]}
    assert schedule["target"]["url"] == "https://hooks.internal/backup"
    assert schedule["target"]["headers"] == ["X-Key"]  # the API never shows their values
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        target = conn.execute(select(jobs.c.target).where(jobs.c.name == "backup")).scalar()
    engine.dispose()
    assert target["headers"] == {"X-Key": "k-123"}
    assert "greet" in commands


def test_the_hub_never_reads_its_own_environment_for_a_remote_plan(
    hub_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("HUB_SIDE_SECRET", "x")
    files = {"c.toml": '[channels.chat]\nurl = "env:HUB_SIDE_SECRET"\n'}
    answer = httpx.post(
        f"{hub_url}/api/v1/config/plan",
        json={"files": files},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert answer.status_code == 422
    assert (
        answer.json()["problems"][0]["reason"] == "env:HUB_SIDE_SECRET was not sent with the files"
    )


def test_config_endpoints_need_an_admin_token(client: TestClient):
    ok(client.post("/api/v1/tokens", json={"name": "reader", "scope": "read"}))
    read = ok(client.post("/api/v1/tokens", json={"name": "r2", "scope": "read"}))["token"]
    answer = client.get("/api/v1/config/export", headers={"Authorization": f"Bearer {read}"})
    assert answer.status_code == 403


def _apply(client: TestClient, text: str) -> dict:  # type: ignore[type-arg]
    return ok(client.post("/api/v1/config/apply", json={"files": {"team.toml": text}}))


def test_the_api_refuses_to_change_a_managed_object_naming_its_file(client: TestClient):
    _apply(client, '[jobs.backup]\nschedule = "every 1h"\n')
    answer = client.put("/api/v1/jobs/backup/schedule", json={"schedule": "every 2h"})
    assert answer.status_code == 409
    assert answer.json()["file"] == "team.toml"
    assert "jobs.backup is managed by the configuration file team.toml" in answer.json()["error"]
    assert ok(client.get("/api/v1/jobs/backup/schedule"))["schedule"] == "every 1h"
    # Objects not in the files are changed as before.
    ok(client.put("/api/v1/jobs/other/schedule", json={"schedule": "every 2h"}))


def test_in_warn_mode_the_change_goes_through_with_a_warning_and_plan_shows_drift(
    client: TestClient,
):
    text = '[hub]\nmanaged_changes = "warn"\n\n[jobs.backup]\nschedule = "every 1h"\n'
    _apply(client, text)
    answer = client.put("/api/v1/jobs/backup/schedule", json={"schedule": "every 2h"})
    assert answer.status_code == 200
    assert "managed by the configuration file team.toml" in answer.headers["warning"]
    plan = ok(client.post("/api/v1/config/plan", json={"files": {"team.toml": text}}))
    change = plan["changes"][0]
    assert (change["action"], change["drift"]) == ("update", True)
    assert {"field": "schedule", "old": "every 2h", "new": "every 1h"} in change["fields"]


def test_a_legacy_commands_file_still_works_beside_stored_commands(
    settings,
    clock: FakeClock,
    tmp_path: Path,  # type: ignore[no-untyped-def]
):
    (settings.data_dir / "commands.toml").write_text(
        '[commands.legacy]\nallow = { roles = ["admin"] }\naction = { exec = ["/bin/true"] }\n'
    )
    with TestClient(create_app(settings, clock)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        _apply(
            client,
            '[commands.stored]\nallow = { roles = ["admin"] }\naction = { exec = ["/bin/true"] }\n',
        )
        names = {c["name"] for c in ok(client.get("/api/v1/commands"))["commands"]}
    assert {"legacy", "stored"} <= names


def test_two_hubs_on_one_database_read_the_same_stored_commands(
    settings,
    clock: FakeClock,
    tmp_path: Path,  # type: ignore[no-untyped-def]
):
    other = make_settings(settings.db, tmp_path / "other-node", node="node-b")
    with TestClient(create_app(settings, clock)) as a, TestClient(create_app(other, clock)) as b:
        for c in (a, b):
            c.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        _apply(
            a,
            '[commands.shared]\nallow = { roles = ["admin"] }\naction = { exec = ["/bin/true"] }\n',
        )
        names = {c["name"] for c in ok(b.get("/api/v1/commands"))["commands"]}
    assert "shared" in names


def test_a_managed_token_or_channel_route_is_refused_by_id_too(client: TestClient):
    text = (
        '[tokens.ci]\nscope = "read"\n\n[channels.chat]\nurl = "json://127.0.0.1:9/x"\n'
        'routes = [{ job = "backup", events = ["failed"] }]\n'
    )
    _apply(client, text)
    token = next(t for t in ok(client.get("/api/v1/tokens"))["tokens"] if t["name"] == "ci")
    answer = client.delete(f"/api/v1/tokens/{token['id']}")
    assert answer.status_code == 409 and "tokens.ci is managed" in answer.json()["error"]
    route = ok(client.get("/api/v1/routes"))["routes"][0]
    answer = client.delete(f"/api/v1/routes/{route['id']}")
    assert answer.status_code == 409 and "channels.chat is managed" in answer.json()["error"]
    # The bootstrap admin token was never in the files: it is revoked as before.
    other = ok(client.post("/api/v1/tokens", json={"name": "adhoc", "scope": "read"}))
    assert client.delete(f"/api/v1/tokens/{other['id']}").status_code == 204


def test_the_public_url_set_in_the_files_is_refused_through_the_api(client: TestClient):
    body = {"public_url": "https://elsewhere.example.com"}
    _apply(client, '[hub]\nmanaged_changes = "refuse"\n')
    assert client.put("/api/v1/oncall/public-url", json=body).status_code == 200
    _apply(client, '[hub]\npublic_url = "https://ops.example.com"\n')
    answer = client.put("/api/v1/oncall/public-url", json=body)
    assert answer.status_code == 409 and "hub.settings is managed" in answer.json()["error"]
