"""An agent token made for one agent name lives in the files too: export writes its
`agent`, apply makes the token for that agent only (an agent of another name is refused
with it), and `agent` on a token of another scope is refused naming it (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.config.conftest import ok
from tests.conftest import ADMIN_TOKEN, make_settings
from thereyet.cli.main import main
from thereyet.server.app import create_app


def _register(client: TestClient, token: str, name: str) -> int:
    body = {"name": name, "host": f"{name}.example", "tags": [], "slots": 1}
    headers = {"Authorization": f"Bearer {token}"}
    return client.post("/api/v1/agents/register", json=body, headers=headers).status_code


def test_an_agent_bound_token_is_exported_and_applied_for_that_agent_only(
    client: TestClient, db_url: str, other_db: str, tmp_path: Path
):
    made = {"name": "runner-1", "scope": "agent", "agent": "runner-1"}
    ok(client.post("/api/v1/tokens", json=made))
    ok(client.post("/api/v1/tokens", json={"name": "fleet", "scope": "agent"}))
    files = tmp_path / "files"
    assert main(["export", str(files), "--db", db_url]) == 0
    text = "".join(p.read_text() for p in files.rglob("*.toml"))
    assert '[tokens.runner-1]\nscope = "agent"\nagent = "runner-1"\n' in text
    assert '[tokens.fleet]\nscope = "agent"\n\n' in text + "\n"  # a fleet token: no agent

    shown = tmp_path / "secrets"
    assert main(["apply", str(files), "--db", other_db, "--secrets-out", str(shown)]) == 0
    assert main(["plan", str(files), "--db", other_db]) == 0
    secrets = [json.loads(line) for line in shown.read_text().splitlines()]
    token = next(s["token"] for s in secrets if s["name"] == "runner-1")
    app = create_app(make_settings(other_db, tmp_path / "other"))
    with TestClient(app) as other:
        other.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        listed = {t["name"]: t for t in ok(other.get("/api/v1/tokens"))["tokens"]}
        assert listed["runner-1"]["agent"] == "runner-1"
        assert listed["fleet"]["agent"] is None
        assert _register(other, token, "runner-2") == 403
        assert _register(other, token, "runner-1") == 200


@pytest.mark.parametrize("scope", ["ingest", "read", "admin"])
def test_agent_on_a_token_of_another_scope_is_refused_naming_it(
    db_url: str, tmp_path: Path, scope: str, capsys: pytest.CaptureFixture[str]
):
    files = tmp_path / "files"
    files.mkdir()
    (files / "access.toml").write_text(f'[tokens.ci]\nscope = "{scope}"\nagent = "runner-1"\n')
    assert main(["plan", str(files), "--db", db_url]) == 1
    said = capsys.readouterr()
    assert 'agent: only an agent token (scope = "agent") is made for one agent' in said.err
