"""Every job has its ping URL from the moment it exists, absolute, ready to paste."""

from __future__ import annotations

import httpx
from alembic import command
from sqlalchemy import create_engine, text

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.monitoring.conftest import HandHub, open_hand_hub
from tests.servers import serve
from thereyet.server.app import create_app
from thereyet.server.store.migrate import alembic_config


def test_a_job_made_by_its_first_run_has_a_ping_url_before_any_schedule(any_hand_hub: HandHub):
    any_hand_hub.client.post("/api/v1/runs", json={"job": "nightly-backup"})
    job = any_hand_hub.client.get("/api/v1/jobs/nightly-backup").json()
    assert job["ping_url"].startswith("http://127.0.0.1:8480/ping/")
    schedule = any_hand_hub.client.get("/api/v1/jobs/nightly-backup/schedule").json()
    assert schedule["ping_url"] == job["ping_url"]


def test_the_ping_url_starts_with_the_public_address(sqlite_url, tmp_path, clock):
    settings = {"public_url": "https://hub.example.com/"}
    for hand_hub in open_hand_hub(sqlite_url, tmp_path, clock, **settings):
        made = hand_hub.client.post("/api/v1/jobs", json={"name": "export"}).json()
        assert made["ping_url"].startswith("https://hub.example.com/ping/")
        moved = {"public_url": "https://ops.example.org"}  # set through the API, it wins
        assert hand_hub.client.put("/api/v1/oncall/public-url", json=moved).status_code == 200
        job = hand_hub.client.get("/api/v1/jobs/export").json()
        assert job["ping_url"] == made["ping_url"].replace(
            "https://hub.example.com", "https://ops.example.org"
        )


def test_only_admins_see_a_jobs_ping_url(hand_hub: HandHub):
    hand_hub.client.post("/api/v1/jobs", json={"name": "export"})
    reader = hand_hub.client.post("/api/v1/tokens", json={"name": "r", "scope": "read"}).json()
    seen = hand_hub.client.get(
        "/api/v1/jobs/export", headers={"Authorization": f"Bearer {reader['token']}"}
    )
    assert seen.status_code == 200 and "ping_url" not in seen.json()


def test_the_ping_url_works_as_pasted(tmp_path, clock):
    settings = make_settings(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with serve(create_app(settings, clock)) as url:
        made = httpx.post(f"{url}/api/v1/jobs", json={"name": "certs"}, headers=admin).json()
        path = made["ping_url"].split("/ping/", 1)[1]
        assert httpx.get(f"{url}/ping/{path}").text == "OK"
        [run] = httpx.get(f"{url}/api/v1/runs", params={"job": "certs"}, headers=admin).json()[
            "runs"
        ]
    assert run["status"] == "succeeded"


def test_jobs_made_before_get_a_ping_url_when_the_hub_is_upgraded(
    empty_sqlite_url, tmp_path, clock
):
    engine = create_engine(empty_sqlite_url)
    cfg = alembic_config()
    with engine.connect() as conn:  # every branch of the release before, applied but 0014
        cfg.attributes["connection"] = conn
        for before in ("0008", "0010", "0011", "0012", "0013"):
            command.upgrade(cfg, before)
        conn.commit()
    with engine.begin() as conn:  # a job as a hub of that version made it: no ping URL
        conn.execute(
            text(
                "INSERT INTO jobs (name, title, description, created_at)"
                " VALUES ('old', 'Old', '', '2026-03-01 09:00:00.000000')"
            )
        )
    engine.dispose()
    for hand_hub in open_hand_hub(empty_sqlite_url, tmp_path, clock):
        assert hand_hub.client.get("/api/v1/jobs/old").json()["ping_url"]
