"""`thereyet token` and `thereyet user` find the hub's database as the server does,
never create one silently, and also act on a running hub over its API."""

from __future__ import annotations

import io

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ADMIN_TOKEN, PG_URL, make_settings
from tests.servers import serve
from thereyet.cli.main import main
from thereyet.server.app import create_app


def test_token_create_refuses_to_create_a_database_and_says_where_to_look(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("THEREYET_DATA_DIR", str(tmp_path / "nothing-here"))
    assert main(["token", "create", "--scope", "read"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"no hub database at {tmp_path / 'nothing-here' / 'thereyet.db'}" in err
    assert "--data-dir" in err and "--url" in err and "--init" in err
    assert not (tmp_path / "nothing-here").exists()


@pytest.mark.postgres
def test_user_list_refuses_an_empty_postgres_database(pg_database, capsys):
    # A database of its own: the session's is shared with hubs of other tests.
    name = make_url(pg_database).database + "_empty"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        empty = make_url(pg_database).set(database=name).render_as_string(hide_password=False)
        assert main(["user", "list", "--db", empty]) == 2
        assert "has no hub in it" in capsys.readouterr().err
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_token_commands_use_the_servers_data_dir_setting(tmp_path, capsys, monkeypatch, clock):
    settings = make_settings("", tmp_path)
    with serve(create_app(settings, clock)):  # the hub makes its database at its first start
        pass
    monkeypatch.setenv("THEREYET_DATA_DIR", str(tmp_path))
    assert main(["token", "create", "--scope", "read", "--name", "dashboard"]) == 0
    token = capsys.readouterr().out.strip()
    with serve(create_app(settings, clock)) as url:
        me = httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "dashboard"


def test_token_commands_act_on_a_running_hub_over_the_api(tmp_path, capsys, clock):
    with serve(create_app(make_settings("", tmp_path), clock)) as url:
        hub = ["--url", url, "--token", ADMIN_TOKEN]
        assert main(["token", "create", "--scope", "ingest", "--room", "ops", *hub]) == 0
        token = capsys.readouterr().out.strip()
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/api/v1/me", headers=auth).json()["rooms"] == ["ops"]

        assert main(["token", "list", *hub]) == 0
        listing = capsys.readouterr().out
        assert "ingest\tactive\tops\tingest: ops" in listing and token not in listing
        token_id = token.split("_")[1]
        assert main(["token", "revoke", token_id, *hub]) == 0
        assert httpx.get(f"{url}/api/v1/me", headers=auth).status_code == 401
        assert main(["token", "revoke", token_id, *hub]) == 1
        assert "404" in capsys.readouterr().err


def test_user_commands_act_on_a_running_hub_over_the_api(tmp_path, capsys, monkeypatch, clock):
    with serve(create_app(make_settings("", tmp_path), clock)) as url:
        hub = ["--url", url, "--token", ADMIN_TOKEN]
        monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
        assert main(["user", "create", "Ada", "--role", "operator", "--password-stdin", *hub]) == 0
        assert "created user ada (operator)" in capsys.readouterr().out
        monkeypatch.setattr("sys.stdin", io.StringIO("a new long password\n"))
        assert main(["user", "password", "ada", "--password-stdin", *hub]) == 0
        assert main(["user", "disable", "ada", *hub]) == 0
        capsys.readouterr()
        assert main(["user", "list", *hub]) == 0
        assert capsys.readouterr().out.startswith("ada\toperator\tdisabled 20")
        assert main(["user", "disable", "nobody", *hub]) == 1


@pytest.mark.parametrize("token", ["", "ty_not_a_real_token_" + "x" * 20])
def test_api_commands_without_an_admin_token_are_refused_clearly(
    tmp_path, capsys, monkeypatch, clock, token
):
    for name in ("THEREYET_TOKEN", "THEREYET_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with serve(create_app(make_settings("", tmp_path), clock)) as url:
        args = ["token", "list", "--url", url] + (["--token", token] if token else [])
        code = main(args)
    err = capsys.readouterr().err
    assert code != 0
    assert ("needs an admin token" in err) if not token else ("401" in err)
