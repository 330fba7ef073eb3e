"""Where the SDK and the hub take their settings from, as docs/sdk.md and the README
promise: the environment wins over the config file, a token may come from a file,
THEREYET_DISABLE turns reporting off, and the hub's admin token may come from a file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import make_settings
from tests.servers import recording_server
from thereyet.client.config import load_config
from thereyet.server.app import create_app
from thereyet.server.config import settings_from_env

TRACK = "import thereyet\nfor _ in thereyet.track(range(3), job='export', room='ops'): pass\n"


def test_the_environment_wins_over_the_config_file(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('url = "http://from-file:1"\ntoken = "ty_file"\nroom = "file-room"\n')
    env = {"THEREYET_CONFIG": str(file), "THEREYET_URL": "http://from-env:2/"}
    config = load_config(env)
    assert (config.url, config.token, config.room) == ("http://from-env:2", "ty_file", "file-room")


def test_a_token_file_is_read_and_a_token_variable_wins_over_it(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("ty_from_file\n")
    env = {"THEREYET_CONFIG": str(tmp_path / "none.toml"), "THEREYET_TOKEN_FILE": str(secret)}
    assert load_config(env).token == "ty_from_file"
    assert load_config({**env, "THEREYET_TOKEN": "ty_from_env"}).token == "ty_from_env"


def _track_in_a_child(hub_url: str, tmp_path: Path, **extra: str) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "HOME": str(tmp_path),
        "THEREYET_URL": hub_url,
        "THEREYET_TOKEN": "ty_x",
        "THEREYET_SPOOL_DIR": str(tmp_path / "spool"),
        **extra,
    }
    child = subprocess.run([sys.executable, "-c", TRACK], env=env, timeout=60, check=False)
    assert child.returncode == 0


@pytest.mark.parametrize("value", ["1", "true", "yes", "on"])
def test_thereyet_disable_turns_reporting_off(value: str, tmp_path: Path) -> None:
    with recording_server() as recorder:
        recorder.status = 201
        _track_in_a_child(f"http://{recorder.url}", tmp_path, THEREYET_DISABLE=value)
        assert recorder.requests == []


def test_without_thereyet_disable_the_same_job_reports(tmp_path: Path) -> None:
    with recording_server() as recorder:
        recorder.status = 201
        _track_in_a_child(f"http://{recorder.url}", tmp_path, THEREYET_TOKEN="")
        assert recorder.requests == []  # no token: off, as the docs say
        _track_in_a_child(f"http://{recorder.url}", tmp_path)
        assert recorder.requests[0]["path"] == "/api/v1/runs"
        assert recorder.requests[0]["headers"]["Authorization"] == "Bearer ty_x"


def test_the_hub_takes_its_admin_token_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "admin-token"
    secret.write_text("ty_admin_from_a_file_" + "k" * 24 + "\n")
    env = {"THEREYET_ADMIN_TOKEN_FILE": str(secret), "THEREYET_DATA_DIR": str(tmp_path)}
    settings = settings_from_env(env)
    assert settings.admin_token == "ty_admin_from_a_file_" + "k" * 24
    hub_settings = make_settings(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path)
    app = create_app(hub_settings.with_overrides(admin_token=settings.admin_token))
    with TestClient(app) as client:
        ok = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {settings.admin_token}"})
        refused = client.get("/api/v1/jobs", headers={"Authorization": "Bearer ty_other"})
    assert (ok.status_code, refused.status_code) == (200, 401)


def test_an_admin_token_variable_wins_over_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "admin-token"
    secret.write_text("ty_from_file")
    env = {"THEREYET_ADMIN_TOKEN_FILE": str(secret), "THEREYET_ADMIN_TOKEN": "ty_from_env"}
    assert settings_from_env(env).admin_token == "ty_from_env"
