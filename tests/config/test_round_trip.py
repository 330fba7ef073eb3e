"""A hub configured through the API exports files that apply cleanly to an empty hub,
and a second export is byte-identical (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.config.conftest import configure_through_api, ok
from thereyet.cli.main import main


def _files(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*.toml")}


def test_export_apply_export_round_trip_is_byte_identical(
    client: TestClient, db_url: str, other_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    configure_through_api(client)
    first, second = tmp_path / "first", tmp_path / "second"
    secrets = tmp_path / "secrets.env"
    assert main(["export", str(first), "--db", db_url, "--secrets-out", str(secrets)]) == 0
    text = (first / "jobs.toml").read_text()
    assert "https://hooks.internal/backup" not in text  # a secret leaves as a reference
    assert 'url = "env:THEREYET_JOB_BACKUP_TARGET_URL"' in text
    for line in secrets.read_text().splitlines():
        name, _, value = line.partition("=")
        monkeypatch.setenv(name, value)

    assert main(["plan", str(first), "--db", other_db]) == 2
    assert main(["apply", str(first), "--db", other_db, "--secrets-out", str(tmp_path / "s")]) == 0
    assert main(["plan", str(first), "--db", other_db]) == 0
    assert main(["export", str(second), "--db", other_db]) == 0
    assert _files(second) == _files(first)
    assert set(_files(first)) >= {"rooms.toml", "jobs.toml", "people.toml", "integrations.toml"}


def test_exported_files_are_applied_back_to_the_same_hub_without_changes(
    client: TestClient, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    configure_through_api(client)
    secrets = tmp_path / "secrets.env"
    assert (
        main(["export", str(tmp_path / "conf"), "--db", db_url, "--secrets-out", str(secrets)]) == 0
    )
    for line in secrets.read_text().splitlines():
        monkeypatch.setenv(*line.split("=", 1))
    # Adopting what the API made: nothing changes but the objects become managed.
    assert main(["apply", str(tmp_path / "conf"), "--db", db_url]) == 0
    assert main(["plan", str(tmp_path / "conf"), "--db", db_url]) == 0
    policy = ok(client.get("/api/v1/oncall/policies"))["policies"][0]
    assert policy["name"] == "default" and policy["repeat"] == 2
