"""Backup and restore: checksums, schema revision, empty hubs only, both backends."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.config.conftest import configure_through_api, ok
from tests.conftest import ADMIN_TOKEN, make_settings
from thereyet.cli.main import main
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock


def _rewrite(path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the archive with one member changed by `change(name, data) -> data`."""
    out = path.with_name("changed.tgz")
    with tarfile.open(path, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src.getmembers():
            data = change(member.name, src.extractfile(member).read())  # type: ignore[union-attr]
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


@pytest.fixture
def backed_up(client: TestClient, db_url: str, tmp_path: Path) -> Path:
    configure_through_api(client)
    ok(client.post("/api/v1/rooms/ops/messages", json={"text": "hello before the backup"}))
    path = tmp_path / "hub.tgz"
    assert main(["backup", str(path), "--db", db_url]) == 0
    return path


def test_restore_into_an_empty_hub_answers_the_same_reads(
    backed_up: Path, client: TestClient, other_db: str, tmp_path: Path, clock: FakeClock
):
    assert main(["restore", str(backed_up), "--db", other_db]) == 0
    restored = create_app(make_settings(other_db, tmp_path / "restored"), clock)
    with TestClient(restored) as other:
        other.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        for path in ("/api/v1/rooms/ops/messages", "/api/v1/oncall/policies", "/api/v1/jobs"):
            assert ok(other.get(path)) == ok(client.get(path))
        # Ids continue after the restored ones.
        ok(other.post("/api/v1/rooms/ops/messages", json={"text": "after the restore"}))


def test_restore_refuses_a_hub_that_is_not_empty(backed_up: Path, db_url: str):
    assert main(["restore", str(backed_up), "--db", db_url]) == 1


def test_restore_refuses_a_damaged_archive(backed_up: Path, other_db: str, capsys):  # type: ignore[no-untyped-def]
    def damage(name: str, data: bytes) -> bytes:
        return data.replace(b"hello before", b"HELLO before") if "messages" in name else data

    assert main(["restore", str(_rewrite(backed_up, damage)), "--db", other_db]) == 1
    assert "messages.jsonl is damaged (checksum differs)" in capsys.readouterr().err
    truncated = backed_up.with_name("cut.tgz")
    truncated.write_bytes(backed_up.read_bytes()[:-200])
    assert main(["restore", str(truncated), "--db", other_db]) == 1
    # Nothing of either was kept: the hub is still empty, and the good archive restores.
    assert main(["restore", str(backed_up), "--db", other_db]) == 0


def test_restore_refuses_a_backup_of_a_newer_schema(backed_up: Path, other_db: str, capsys):  # type: ignore[no-untyped-def]
    def newer(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["revision"] = ["9999"]
        return json.dumps(manifest).encode()

    assert main(["restore", str(_rewrite(backed_up, newer)), "--db", other_db]) == 1
    assert "newer than this hub knows" in capsys.readouterr().err


def test_archive_is_gzip_tar_with_a_manifest(backed_up: Path):
    with gzip.open(backed_up) as raw, tarfile.open(fileobj=raw) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["format"] == "thereyet-backup/1"
    assert manifest["revision"]
    assert {t["table"] for t in manifest["tables"]} >= {"runs", "run_events", "attachments"}
