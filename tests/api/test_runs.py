"""Runs through the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

from starlette.testclient import TestClient

from thereyet.server.clock import FakeClock


def start(client: TestClient, job: str = "customer-export", **extra: object) -> dict:
    response = client.post("/api/v1/runs", json={"job": job, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def progress(client: TestClient, run_id: str, *events: dict) -> dict:
    response = client.post(f"/api/v1/runs/{run_id}/events", json={"events": list(events)})
    assert response.status_code == 200, response.text
    return response.json()


def test_health_answers_without_token(client):
    response = client.get("/api/v1/health", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json()["node"] == "test-node"


def test_openapi_schema_lists_the_v1_endpoints(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/v1/runs",
        "/api/v1/runs/{run_id}/events",
        "/api/v1/runs/{run_id}/finish",
        "/api/v1/rooms/{room}/messages",
        "/api/v1/jobs",
        "/api/v1/rooms",
    ):
        assert path in paths


def test_creating_a_run_creates_its_job_and_room_and_records_the_node(client):
    run = start(
        client,
        room="migration",
        host="host-3",
        pid=4242,
        user="ana",
        trigger="cli",
        total=1000,
        unit="rows",
    )
    assert run["status"] == "running"
    assert run["rooms"] == ["migration"]
    assert (run["host"], run["pid"], run["user"], run["node"]) == (
        "host-3",
        4242,
        "ana",
        "test-node",
    )
    assert run["progress"] == {"done": None, "total": 1000.0, "unit": "rows", "percent": None}
    jobs = client.get("/api/v1/jobs").json()["jobs"]
    assert [(j["name"], j["rooms"], j["run_count"]) for j in jobs] == [
        ("customer-export", ["migration"], 1)
    ]


def test_a_later_run_of_the_job_posts_to_the_rooms_the_job_reported_to(client):
    start(client, room="migration")
    second = start(client)
    assert second["rooms"] == ["migration"]


def test_a_client_chosen_run_id_makes_creation_repeat_safe(client):
    first = client.post("/api/v1/runs", json={"job": "export", "id": "run-abcdef01"})
    again = client.post("/api/v1/runs", json={"job": "export", "id": "run-abcdef01"})
    other_job = client.post("/api/v1/runs", json={"job": "backup", "id": "run-abcdef01"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] == "run-abcdef01"
    assert other_job.status_code == 409
    assert other_job.json()["field"] == "id"
    assert len(client.get("/api/v1/runs").json()["runs"]) == 1


def test_progress_updates_done_percent_rate_and_eta(client, clock: FakeClock):
    run = start(client, total=1000, unit="rows")
    for step in range(1, 6):
        clock.advance(10)
        progress(client, run["id"], {"id": f"p{step}", "type": "progress", "done": step * 100})
    view = client.get(f"/api/v1/runs/{run['id']}").json()
    assert view["progress"] == {"done": 500.0, "total": 1000.0, "unit": "rows", "percent": 50.0}
    assert abs(view["rate"] - 10.0) < 0.01
    assert view["eta"]["basis"] in ("rate", "blended")
    assert 40 <= view["eta"]["seconds"] <= 60
    assert view["elapsed"] == 50.0


def test_eta_says_not_enough_data_on_a_fresh_run(client):
    run = start(client, total=1000)
    eta = client.get(f"/api/v1/runs/{run['id']}").json()["eta"]
    assert eta["seconds"] is None
    assert eta["reason"] == "not enough data yet"


def test_eta_uses_the_jobs_history_before_progress_says_anything(client, clock: FakeClock):
    for _ in range(3):
        run = start(client, job="nightly")
        clock.advance(600)
        client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "succeeded"})
    run = start(client, job="nightly")
    clock.advance(120)
    eta = client.get(f"/api/v1/runs/{run['id']}").json()["eta"]
    assert eta["basis"] == "history"
    assert abs(eta["seconds"] - 480) < 1
    assert client.get("/api/v1/jobs/nightly").json()["typical_duration"] == 600.0


def test_a_retried_batch_never_creates_duplicates(client):
    run = start(client)
    batch = [
        {"id": "e1", "type": "progress", "done": 10},
        {"id": "e2", "type": "log", "text": "copied table a"},
        {"id": "e3", "type": "stat", "name": "rows_per_s", "value": 812.5},
    ]
    assert progress(client, run["id"], *batch) == {
        "accepted": 3,
        "duplicates": 0,
        "status": "running",
    }
    assert progress(client, run["id"], *batch) == {
        "accepted": 0,
        "duplicates": 3,
        "status": "running",
    }
    mixed = progress(client, run["id"], batch[0], {"id": "e4", "type": "log", "text": "b"})
    assert (mixed["accepted"], mixed["duplicates"]) == (1, 1)
    events = client.get(f"/api/v1/runs/{run['id']}/events").json()["events"]
    kinds = [(e["type"], e.get("id")) for e in events if e["type"] != "status"]
    assert kinds == [("progress", "e1"), ("log", "e2"), ("stat", "e3"), ("log", "e4")]
    view = client.get(f"/api/v1/runs/{run['id']}").json()
    assert view["log_tail"] == ["copied table a", "b"]
    assert view["stats"] == {"rows_per_s": 812.5}


def test_the_same_id_twice_in_one_batch_counts_once(client):
    run = start(client)
    result = progress(
        client,
        run["id"],
        {"id": "x", "type": "log", "text": "one"},
        {"id": "x", "type": "log", "text": "one"},
    )
    assert (result["accepted"], result["duplicates"]) == (1, 1)


def test_a_note_is_posted_in_the_runs_rooms(client):
    run = start(client, room="migration")
    progress(client, run["id"], {"id": "n1", "type": "note", "text": "switching to batch 2"})
    texts = [m["text"] for m in client.get("/api/v1/rooms/migration/messages").json()["messages"]]
    assert texts[-1] == "switching to batch 2"


def test_a_queued_run_starts_on_its_first_report(client, clock: FakeClock):
    run = start(client, status="queued")
    assert run["status"] == "queued" and run["started_at"] is None
    clock.advance(5)
    assert progress(client, run["id"], {"id": "h", "type": "heartbeat"})["status"] == "running"
    view = client.get(f"/api/v1/runs/{run['id']}").json()
    assert view["started_at"] == "2026-03-02T09:00:05Z"


def test_finishing_posts_cards_and_a_second_finish_conflicts(client, clock: FakeClock):
    run = start(client, room="migration", host="host-3", total=1_200_000, unit="rows")
    clock.advance(3 * 3600 + 12 * 60)
    progress(client, run["id"], {"id": "p", "type": "progress", "done": 1_200_000})
    done = client.post(
        f"/api/v1/runs/{run['id']}/finish", json={"status": "succeeded", "exit_code": 0}
    )
    assert done.status_code == 200
    assert done.json()["status"] == "succeeded"
    assert done.json()["finished_at"] == "2026-03-02T12:12:00Z"
    again = client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "failed"})
    assert again.status_code == 409
    assert "already succeeded" in again.json()["error"]
    cards = [
        m["text"]
        for m in client.get("/api/v1/rooms/migration/messages").json()["messages"]
        if m["kind"] == "run"
    ]
    assert cards[0].startswith("**customer-export** started on host-3")
    assert "finished in 3h12m" in cards[1] and "1.2M rows" in cards[1]


def test_repeating_the_same_finish_is_answered_not_refused(client):
    run = start(client)
    body = {"status": "failed", "exit_code": 3, "error": "boom", "id": "fin-1"}
    first = client.post(f"/api/v1/runs/{run['id']}/finish", json=body)
    second = client.post(f"/api/v1/runs/{run['id']}/finish", json=body)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["exit_code"] == 3


def test_a_failed_run_card_shows_exit_code_and_last_lines(client, clock: FakeClock):
    run = start(client, room="ops")
    progress(client, run["id"], {"id": "l1", "type": "log", "text": "loading\nTraceback: KeyError"})
    clock.advance(41 * 60)
    client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "failed", "exit_code": 3})
    card = client.get("/api/v1/rooms/ops/messages").json()["messages"][-1]["text"]
    assert "failed after 41m" in card and "exit 3" in card and "KeyError" in card


def test_list_runs_filters_by_job_room_status_host_and_time(client, clock: FakeClock):
    a = start(client, job="export", room="migration", host="h1")
    clock.advance(60)
    b = start(client, job="backup", host="h2")
    client.post(f"/api/v1/runs/{b['id']}/finish", json={"status": "failed"})
    clock.advance(60)
    c = start(client, job="export", host="h2")

    def ids(**params: object) -> list[str]:
        response = client.get("/api/v1/runs", params=params)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["runs"]]

    assert ids() == [c["id"], b["id"], a["id"]]
    assert ids(job="export") == [c["id"], a["id"]]
    assert ids(room="migration") == [c["id"], a["id"]]  # the job's room carries over
    assert ids(status="failed") == [b["id"]]
    assert ids(status=["failed", "running"]) == [c["id"], b["id"], a["id"]]
    assert ids(host="h2") == [c["id"], b["id"]]
    assert ids(since="2026-03-02T09:01:00Z") == [c["id"], b["id"]]
    assert ids(until="2026-03-02T09:01:00Z") == [a["id"]]


def test_list_runs_pages_with_a_cursor(client, clock: FakeClock):
    made = []
    for _ in range(7):
        made.append(start(client)["id"])
        clock.advance(1)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/runs", params=params).json()
        seen += [r["id"] for r in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))


def test_an_attachment_is_stored_served_and_announced(client):
    run = start(client, room="migration")
    png = b"\x89PNG\r\n\x1a\n" + b"x" * 100
    response = client.post(
        f"/api/v1/runs/{run['id']}/attachments",
        params={"name": "shot.png"},
        content=png,
        headers={"Content-Type": "image/png"},
    )
    assert response.status_code == 201, response.text
    attachment = response.json()
    assert (attachment["name"], attachment["size"]) == ("shot.png", len(png))
    served = client.get(attachment["url"])
    assert served.content == png
    assert served.headers["content-type"] == "image/png"
    assert (
        client.get(f"/api/v1/runs/{run['id']}").json()["attachments"][0]["id"] == attachment["id"]
    )
    last = client.get("/api/v1/rooms/migration/messages").json()["messages"][-1]
    assert last["kind"] == "attachment" and last["data"]["attachment"]["id"] == attachment["id"]


def test_html_attachments_are_served_as_downloads_not_pages(client):
    run = start(client)
    up = client.post(
        f"/api/v1/runs/{run['id']}/attachments",
        params={"name": "x.html"},
        content=b"<script>alert(1)</script>",
        headers={"Content-Type": "text/html"},
    )
    served = client.get(up.json()["url"])
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment")


def test_an_attachment_upload_with_an_id_is_repeat_safe(client):
    run = start(client, room="migration")
    url = f"/api/v1/runs/{run['id']}/attachments"
    params = {"name": "report.csv", "id": "upload-1"}
    first = client.post(url, params=params, content=b"a,b\n1,2\n")
    again = client.post(url, params=params, content=b"a,b\n1,2\n")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert len(client.get(f"/api/v1/runs/{run['id']}").json()["attachments"]) == 1
    kinds = [m["kind"] for m in client.get("/api/v1/rooms/migration/messages").json()["messages"]]
    assert kinds.count("attachment") == 1


def test_a_finish_writes_the_jobs_last_status_only_when_it_changes(client):
    """Two nodes finishing runs of the same jobs in other orders took the jobs' row locks
    crosswise and deadlocked: a finish that leaves the job's last status as it was now
    writes nothing to the job's row."""
    from sqlalchemy import event

    hub = client.app.state.hub  # type: ignore[attr-defined]
    writes: list[str] = []

    def note(_conn, _cursor, statement: str, *_args) -> None:
        if statement.startswith("UPDATE jobs SET last_status"):
            writes.append(statement)

    def version() -> object:
        """The job row's version on PostgreSQL (xmin: a new one at each write, from
        whatever statement; the writer sends this one on the driver's cursor)."""
        read = "SELECT xmin::text FROM jobs WHERE name = 'nightly'"
        return hub.writer.run_sync(lambda tx: tx.conn.exec_driver_sql(read).scalar())

    postgres = hub.engines.write.dialect.name == "postgresql"
    event.listen(hub.engines.write, "before_cursor_execute", note)
    try:
        for status in ("succeeded", "succeeded", "failed", "failed", "succeeded"):
            run = start(client, "nightly")
            was = version() if postgres else None
            finish = {"status": status}
            assert client.post(f"/api/v1/runs/{run['id']}/finish", json=finish).status_code == 200
            if postgres and version() != was:
                writes.append(status)
    finally:
        event.remove(hub.engines.write, "before_cursor_execute", note)
    assert len(writes) == 3  # first succeeded, then failed, then succeeded again
