"""The disaster-recovery drill, with real hub processes: a hub with runs, events, rooms,
messages, attachments, incidents and configuration is backed up while it ingests; its
data directory is deleted; a new hub restored from the backup, with the config
directory, answers the same API reads. SQLite -> PostgreSQL, then back."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.config.hubs import api, start_hub, stop_hub
from tests.conftest import ADMIN_TOKEN, _empty_pg
from thereyet.cli.main import main

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CONFIG = """
[rooms.ops]
title = "Operations"

[jobs.nightly-export]
rooms = ["ops"]
schedule = "0 3 * * *"
runbook_url = "https://wiki.example.com/export"
paging = { service = "exports", events = ["failed"] }

[people.alice]
contact_methods = { email = "mailto://alice@example.com" }

[rotations.primary]
timezone = "UTC"
start_date = 2026-01-05
participants = ["alice"]

[escalation_policies.default]
steps = [{ targets = [{ kind = "rotation", name = "primary" }] }]

[services.exports]
room = "ops"
policy = "default"
"""
SCREENSHOT = os.urandom(300_000)  # attachments must come back byte for byte


def fill(url: str) -> None:
    """Runs with events and an attachment, messages, a room file and an incident."""
    with api(url) as hub:
        for n in range(3):
            run = hub.post("/api/v1/runs", json={"job": "nightly-export", "room": "ops"}).json()
            events = [
                {"id": f"p{i}", "type": "progress", "done": i * 10, "total": 100} for i in range(10)
            ]
            assert (
                hub.post(f"/api/v1/runs/{run['id']}/events", json={"events": events}).status_code
                == 200
            )
            hub.post(
                f"/api/v1/runs/{run['id']}/attachments",
                params={"name": f"log-{n}.txt"},
                content=b"log %d" % n,
            )
            status = "failed" if n == 2 else "succeeded"
            assert (
                hub.post(f"/api/v1/runs/{run['id']}/finish", json={"status": status}).status_code
                == 200
            )
        for n in range(20):
            hub.post("/api/v1/rooms/ops/messages", json={"text": f"note {n}"})
        shot = hub.post(
            "/api/v1/rooms/ops/attachments",
            params={"name": "graph.png"},
            content=SCREENSHOT,
            headers={"Content-Type": "image/png"},
        )
        assert shot.status_code == 201, shot.text
        incident = {"service": "exports", "summary": "disk full on db-2"}
        assert hub.post("/api/v1/incidents", json=incident).status_code == 201


def reads(url: str) -> dict[str, object]:
    """What the drill compares: the answers to the same API reads, attachments as bytes."""
    with api(url) as hub:
        runs = hub.get("/api/v1/runs", params={"limit": 100}).json()["runs"]
        found: dict[str, object] = {"runs": runs}
        for run in runs:
            detail = hub.get(f"/api/v1/runs/{run['id']}").json()
            found[f"run {run['id']}"] = detail
            found[f"events {run['id']}"] = hub.get(f"/api/v1/runs/{run['id']}/events").json()
            for attachment in detail.get("attachments", []):
                found[attachment["url"]] = hub.get(attachment["url"]).content
        messages = hub.get("/api/v1/rooms/ops/messages", params={"limit": 500}).json()["messages"]
        found["messages"] = messages
        for message in messages:
            attachment = (message.get("data") or {}).get("attachment")
            if attachment:
                found[attachment["url"]] = hub.get(attachment["url"]).content
        found["incidents"] = hub.get("/api/v1/incidents").json()
        found["policies"] = hub.get("/api/v1/oncall/policies").json()
        found["jobs"] = hub.get("/api/v1/jobs").json()
    return found


def archive_label(url: str) -> str:
    return url.rsplit(":", 1)[1]  # each drill's hub has its own port


def ingest(url: str, stop: threading.Event, acknowledged: list[str]) -> None:
    with api(url) as hub:
        n = 0
        while not stop.is_set():
            text = f"live {archive_label(url)} {n}"
            if hub.post("/api/v1/rooms/ops/messages", json={"text": text}).status_code == 201:
                acknowledged.append(text)
            n += 1


def backup_while_ingesting(url: str, target: list[str], archive: Path) -> list[str]:
    """Back up (the database named by `target`) while a client keeps posting; return
    the texts acknowledged before the backup began."""
    stop, acknowledged = threading.Event(), []
    writer = threading.Thread(target=ingest, args=(url, stop, acknowledged))
    writer.start()
    try:
        while len(acknowledged) < 20:
            threading.Event().wait(0.05)
        before = list(acknowledged)
        assert main(["backup", str(archive), *target]) == 0
        during = len(acknowledged) - len(before)
    finally:
        stop.set()
        writer.join(30)
    assert during > 0  # the hub kept answering writes while the backup read
    return before


def drill(
    source: list[str],
    source_dir: Path,
    target: list[str],
    target_dir: Path,
    conf: Path,
    archive: Path,
    target_db: str | None,
) -> None:
    process, url = start_hub(source_dir, *([source[1]] if source[0] == "--db" else []))
    try:
        assert main(["apply", str(conf), "--url", url, "--token", ADMIN_TOKEN]) == 0
        fill(url)
        before = backup_while_ingesting(url, source, archive)
        settled = reads(url)
    finally:
        stop_hub(process)
    shutil.rmtree(source_dir, ignore_errors=True)  # the disk is lost...
    if source[0] == "--db":
        _empty_pg(source[1])  # ...or the database server's

    assert main(["restore", str(archive), *target]) == 0
    process, url = start_hub(target_dir, target_db, "node-restored")
    try:
        again = reads(url)
        texts = [m["text"] for m in again["messages"]]  # type: ignore[union-attr]
        assert set(before) <= set(texts)  # everything acknowledged before the backup is there
        prefix = before[0].rsplit(" ", 1)[0]
        live = [t for t in texts if t.startswith(prefix + " ")]
        assert live == [f"{prefix} {n}" for n in range(len(live))]  # a consistent cut: no holes
        settled["messages"] = [m for m in settled["messages"] if m["text"] in texts]  # type: ignore[union-attr]
        assert again == settled
        assert SCREENSHOT in again.values()
        # The config directory still describes the restored hub: nothing to change.
        assert main(["plan", str(conf), "--url", url, "--token", ADMIN_TOKEN]) == 0
    finally:
        stop_hub(process)


def test_disaster_recovery_sqlite_to_postgresql_and_back(pg_database: str, tmp_path: Path):
    _empty_pg(pg_database)
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "team.toml").write_text(CONFIG)
    first = tmp_path / "hub-sqlite"
    drill(
        ["--data-dir", str(first)],
        first,
        ["--db", pg_database],
        tmp_path / "hub-pg",
        conf,
        tmp_path / "sqlite.tgz",
        pg_database,
    )

    back = tmp_path / "hub-sqlite-again"
    drill(
        ["--db", pg_database],
        tmp_path / "hub-pg",
        ["--data-dir", str(back)],
        back,
        conf,
        tmp_path / "pg.tgz",
        None,
    )
