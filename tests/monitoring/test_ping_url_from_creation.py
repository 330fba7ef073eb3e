"""Every job has its ping URL from the moment it exists, absolute, ready to paste."""

from __future__ import annotations

import httpx
from sqlalchemy import create_engine, text

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.monitoring.conftest import HandHub, open_hand_hub
from tests.servers import serve
from thereyet.server.app import create_app


def test_a_job_made_by_its_first_run_has_a_ping_url_before_any_schedule(any_hub: HandHub):
    any_hub.client.post("/api/v1/runs", json={"job": "nightly-backup"})
    job = any_hub.client.get("/api/v1/jobs/nightly-backup").json()
    assert job["ping_url"].startswith("http://127.0.0.1:8480/ping/")
    schedule = any_hub.client.get("/api/v1/jobs/nightly-backup/schedule").json()
    assert schedule["ping_url"] == job["ping_url"]


def test_the_ping_url_starts_with_the_public_address(sqlite_url, tmp_path, clock):
    settings = {"public_url": "https://hub.example.com/"}
    for hub in open_hand_hub(sqlite_url, tmp_path, clock, **settings):
        made = hub.client.post("/api/v1/jobs", json={"name": "export"}).json()
        assert made["ping_url"].startswith("https://hub.example.com/ping/")
        moved = {"public_url": "https://ops.example.org"}  # set through the API, it wins
        assert hub.client.put("/api/v1/oncall/public-url", json=moved).status_code == 200
        job = hub.client.get("/api/v1/jobs/export").json()
        assert job["ping_url"] == made["ping_url"].replace(
            "https://hub.example.com", "https://ops.example.org"
        )


def test_only_admins_see_a_jobs_ping_url(hub: HandHub):
    hub.client.post("/api/v1/jobs", json={"name": "export"})
    reader = hub.client.post("/api/v1/tokens", json={"name": "r", "scope": "read"}).json()
    seen = hub.client.get(
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


def test_jobs_made_before_get_a_ping_url_when_the_hub_is_upgraded(sqlite_url, tmp_path, clock):
    for hub in open_hand_hub(sqlite_url, tmp_path, clock):
        hub.client.post("/api/v1/jobs", json={"name": "old"})
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:  # as a hub before this version left it
        conn.execute(text("UPDATE jobs SET ping_uuid = NULL"))
        # Every branch of this release applied but 0014 (then joined by 0015).
        conn.execute(text("DELETE FROM alembic_version"))
        for before in ("0008", "0010", "0011", "0012", "0013"):
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": before})
        # What migrations after 0015 made is not there yet either: the upgrade makes it.
        for later in ("agent_work", "agents"):  # 0016a
            conn.execute(text(f"DROP TABLE {later}"))
    engine.dispose()
    for hub in open_hand_hub(sqlite_url, tmp_path, clock):
        assert hub.client.get("/api/v1/jobs/old").json()["ping_url"]
