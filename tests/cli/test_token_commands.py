"""`thereyet token create|list|revoke` work on the hub's database."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import make_settings
from thereyet.cli.main import main
from thereyet.server.app import create_app


def test_token_create_prints_a_token_once_that_the_hub_accepts(tmp_path, capsys, clock):
    data = ["--data-dir", str(tmp_path)]
    assert (
        main(["token", "create", "--scope", "ingest", "--room", "migration", *data, "--init"]) == 0
    )
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("ty_") and "shown once" in err
    assert main(["token", "list", *data]) == 0
    listing = capsys.readouterr().out
    assert "ingest\tactive\tmigration" in listing and token not in listing

    settings = make_settings(f"sqlite:///{tmp_path / 'thereyet.db'}", tmp_path)
    with TestClient(create_app(settings, clock)) as client:
        auth = {"Authorization": f"Bearer {token}"}
        ok = client.post("/api/v1/runs", json={"job": "export", "room": "migration"}, headers=auth)
        refused = client.post("/api/v1/runs", json={"job": "export", "room": "x"}, headers=auth)
        assert (ok.status_code, refused.status_code) == (201, 403)

    token_id = token.split("_")[1]
    assert main(["token", "revoke", token_id, *data]) == 0
    assert main(["token", "revoke", token_id, *data]) == 1
    assert "revoked" in capsys.readouterr().out
    with TestClient(create_app(settings, clock)) as client:
        response = client.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_token_create_refuses_limits_on_a_read_token(tmp_path, capsys):
    code = main(
        ["token", "create", "--scope", "read", "--room", "x", "--data-dir", str(tmp_path), "--init"]
    )
    assert code == 2
    assert "only ingest tokens" in capsys.readouterr().err


def test_first_start_prints_a_generated_admin_token_once(tmp_path, capsys, clock):
    settings = make_settings(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path, admin_token="")
    with TestClient(create_app(settings, clock)):
        pass
    first = capsys.readouterr().err
    token = first.split("shown once): ")[1].split()[0]
    with TestClient(create_app(settings, clock)) as client:
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.json()["scope"] == "admin"
    assert "admin token" not in capsys.readouterr().err


def test_an_admin_token_from_the_environment_is_used_as_given(tmp_path, clock):
    given = "my-automation-token-0123456789"
    settings = make_settings(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path, admin_token=given)
    with TestClient(create_app(settings, clock)) as client:
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {given}"})
        assert response.json() == {"name": "admin", "scope": "admin", "jobs": [], "rooms": []}
