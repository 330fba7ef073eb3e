"""The hub's own health: /metrics in Prometheus' text format, read back with
prometheus_client's own parser, and readiness that asks the database."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ADMIN_TOKEN, PG_URL, make_settings
from tests.monitoring.conftest import HandHub, open_hand_hub
from tests.servers import serve
from thereyet.server.app import create_app


def scrape(hand_hub: HandHub, **headers: str) -> dict[tuple[str, tuple], float]:
    """Every sample as {(name, sorted labels): value}."""
    response = hand_hub.client.get("/metrics", headers=headers or None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def report(hand_hub: HandHub, run_id: str, *ids: str) -> None:
    events = [{"id": i, "type": "progress", "done": n} for n, i in enumerate(ids)]
    response = hand_hub.client.post(f"/api/v1/runs/{run_id}/events", json={"events": events})
    assert response.status_code == 200, response.text


def test_metrics_count_ingested_events_group_commits_and_name_the_node(any_hand_hub: HandHub):
    run = any_hand_hub.client.post("/api/v1/runs", json={"job": "export"}).json()
    report(any_hand_hub, run["id"], "e1", "e2")
    report(any_hand_hub, run["id"], "e2")
    any_hand_hub.schedule()
    got = scrape(any_hand_hub)
    assert got[("thereyet_events_ingested_total", ())] == 2
    assert got[("thereyet_event_duplicates_total", ())] == 1
    assert got[("thereyet_writer_group_size_count", ())] >= 3
    assert got[("thereyet_writer_commit_seconds_count", ())] >= 3
    assert got[("thereyet_writer_commit_seconds_sum", ())] > 0
    assert got[("thereyet_writer_queue_depth", ())] == 0
    assert got[("thereyet_sse_clients", ())] == 0
    assert got[("thereyet_node_info", (("node", "test-node"),))] == 1


def test_outbox_pending_and_failed_are_counted_per_channel(any_hand_hub: HandHub):
    channel = {"name": "ops-chat", "url": "json://127.0.0.1:9/hook"}  # nobody listens there
    assert any_hand_hub.client.post("/api/v1/channels", json=channel).status_code == 201
    route = {"channel": "ops-chat", "room": "ops", "events": ["failed"]}
    assert any_hand_hub.client.post("/api/v1/routes", json=route).status_code == 201
    for job in ("export", "import"):
        run = any_hand_hub.client.post("/api/v1/runs", json={"job": job, "room": "ops"}).json()
        any_hand_hub.client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "failed"})
    got = scrape(any_hand_hub)
    assert got[("thereyet_outbox_pending", (("channel", "ops-chat"),))] == 2
    any_hand_hub.dispatch()  # delivery fails: the rows wait for a retry, still pending
    assert scrape(any_hand_hub)[("thereyet_outbox_pending", (("channel", "ops-chat"),))] == 2


def test_scheduler_lateness_is_how_long_after_due_a_routine_was_started(hand_hub: HandHub):
    target = {"kind": "http", "url": "http://127.0.0.1:9/play"}
    hand_hub.put_schedule("league", schedule="every 1m", target=target)
    hand_hub.clock.set(datetime(2026, 3, 2, 9, 1, 7, tzinfo=UTC))  # due at 09:01:00
    hand_hub.schedule()
    got = scrape(hand_hub)
    assert got[("thereyet_scheduler_lateness_seconds_count", ())] == 1
    assert got[("thereyet_scheduler_lateness_seconds_sum", ())] == 7
    assert got[("thereyet_scheduler_lateness_seconds_bucket", (("le", "5.0"),))] == 0
    assert got[("thereyet_scheduler_lateness_seconds_bucket", (("le", "10.0"),))] == 1


def test_the_heartbeat_is_the_time_of_the_workers_last_round(hand_hub: HandHub):
    hand_hub.call(hand_hub.app.state.workers.run_once)
    beat = scrape(hand_hub)[
        ("thereyet_node_heartbeat_timestamp_seconds", (("loop", "workers"), ("node", "test-node")))
    ]
    assert beat == hand_hub.clock.now().timestamp()


def test_metrics_need_an_unlimited_read_or_admin_token(hand_hub: HandHub):
    def token(**body: object) -> str:
        made = hand_hub.client.post("/api/v1/tokens", json={"name": "t", **body})
        return str(made.json()["token"])

    anonymous = hand_hub.client.get("/metrics", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    limited = token(scope="ingest", rooms=["ops"])
    refused = hand_hub.client.get("/metrics", headers={"Authorization": f"Bearer {limited}"})
    assert refused.status_code == 403 and "an ingest token may not read metrics" in refused.text
    reader = token(scope="read")
    assert scrape(hand_hub, Authorization=f"Bearer {reader}")


def test_metrics_public_lets_anyone_scrape(sqlite_url, tmp_path, clock):
    for hand_hub in open_hand_hub(sqlite_url, tmp_path, clock, metrics_public=True):
        assert scrape(hand_hub, Authorization="")[("thereyet_node_info", (("node", "test-node"),))]


def test_an_open_live_stream_is_counted(tmp_path, clock):
    settings = make_settings(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with serve(create_app(settings, clock)) as url, httpx.Client(timeout=10) as browser:
        httpx.post(f"{url}/api/v1/runs", json={"job": "export", "room": "ops"}, headers=admin)
        share = httpx.post(
            f"{url}/api/v1/shares", json={"kind": "room", "target": "ops"}, headers=admin
        ).json()["token"]
        with browser.stream("GET", f"{url}/live/room/ops?share={share}") as stream:
            assert stream.status_code == 200, stream.status_code
            chunks = stream.iter_bytes()  # kept: a dropped iterator closes the stream
            assert next(chunks).startswith(b"retry:")  # the stream is open and said hello
            body = httpx.get(f"{url}/metrics", headers=admin).text
        assert "\nthereyet_sse_clients 1.0\n" in body


def test_health_says_the_database_answers(hand_hub: HandHub):
    ready = hand_hub.client.get("/api/v1/health", headers={"Authorization": ""})
    assert ready.status_code == 200
    assert ready.json() | {"version": "-"} == {
        "status": "ok",
        "database": "ok",
        "node": "test-node",
        "version": "-",
        "bus": "this node",  # SQLite: one node, nothing to bridge
    }
    live = hand_hub.client.get("/api/v1/health/live", headers={"Authorization": ""})
    assert live.json() == {"status": "ok", "node": "test-node"}


@pytest.mark.postgres
def test_health_is_503_with_the_reason_when_the_database_does_not_answer(
    pg_database, tmp_path, clock
):
    name = make_url(pg_database).database + "_health"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_database).set(database=name).render_as_string(hide_password=False)
    try:
        for hand_hub in open_hand_hub(url, tmp_path, clock):
            assert hand_hub.client.get("/api/v1/health").status_code == 200
            with admin.connect() as conn:  # the database goes away under the hub
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                    ),
                    {"n": name},
                )
            hand_hub.app.state.health._checked_at = -float("inf")  # no cached answer
            down = hand_hub.client.get("/api/v1/health")
            assert down.status_code == 503
            assert down.json()["status"] == "unavailable"
            assert "OperationalError" in down.json()["database"]
            live = hand_hub.client.get("/api/v1/health/live")
            assert live.status_code == 200
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
