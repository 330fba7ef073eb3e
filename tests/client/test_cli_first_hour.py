"""Client commands as a new user meets them: --version, --url/--token and the
variables they stand for, a status that says what the token cannot see, and a
flush that says why reports stay in the spool."""

from __future__ import annotations

import json

import pytest

from tests.client.conftest import client_env
from tests.client.test_cli import thereyet_cli
from tests.servers import free_port
from thereyet import __version__


def test_version_is_printed(tmp_path):
    done = thereyet_cli(client_env("http://x", "t", tmp_path), "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"thereyet {__version__}")


@pytest.mark.parametrize("command", ["run", "say", "status", "watch", "flush"])
def test_client_command_help_names_url_token_and_their_variables(tmp_path, command):
    done = thereyet_cli(client_env("http://x", "t", tmp_path), command, "--help")
    assert done.returncode == 0
    for word in ("--url", "--token", "THEREYET_URL", "THEREYET_TOKEN", "THEREYET_SPOOL_DIR"):
        assert word in done.stdout, word


def test_url_and_token_flags_work_without_the_environment(live_hub, tmp_path):
    env = client_env(live_hub.url, live_hub.token, tmp_path)
    del env["THEREYET_URL"], env["THEREYET_TOKEN"]
    said = thereyet_cli(
        env, "say", "ops", "from flags", "--url", live_hub.url, "--token", live_hub.token
    )
    assert said.returncode == 0, said.stderr
    assert [m["text"] for m in live_hub.messages("ops")] == ["from flags"]
    ran = thereyet_cli(env, "run", "--url", live_hub.url, "--token", live_hub.token, "--", "true")
    assert ran.returncode == 0
    assert live_hub.runs(job="true")[0]["status"] == "succeeded"


def test_status_says_when_the_tokens_scope_hides_runs(live_hub, tmp_path):
    live_hub.api.post("/api/v1/runs", json={"job": "billing", "room": "finance"})
    limited = live_hub.api.post(
        "/api/v1/tokens", json={"name": "ops job", "scope": "ingest", "rooms": ["ops"]}
    ).json()["token"]
    env = client_env(live_hub.url, limited, tmp_path)
    done = thereyet_cli(env, "status", "--once")
    assert done.returncode == 0, done.stderr
    assert "nothing is running" in done.stdout
    assert "sees only runs of rooms ops" in done.stdout
    everything = thereyet_cli(
        client_env(live_hub.url, live_hub.token, tmp_path), "status", "--once"
    )
    assert "billing" in everything.stdout and "sees only" not in everything.stdout
    as_json = thereyet_cli(env, "status", "--json")
    assert json.loads(as_json.stdout) == []


def test_flush_says_why_reports_stay_in_the_spool(live_hub, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    env = client_env(dead, live_hub.token, tmp_path)
    thereyet_cli(env, "say", "ops", "while the hub was away")
    (tmp_path / "spool" / "x.broken").write_text("{")

    done = thereyet_cli(env, "flush", "--url", live_hub.url, "--timeout", "3")
    assert done.returncode == 0
    assert f"1 report(s) are for another hub, {dead}: flush them with --url {dead}" in done.stdout
    assert "1 unreadable file(s)" in done.stdout

    still_dead = thereyet_cli(env, "flush", "--timeout", "1")
    assert still_dead.returncode == 1
    assert f"not delivered to {dead}: hub unreachable" in still_dead.stdout
    assert "Connection refused" in still_dead.stdout
