"""A read made from a coroutine waits in a thread, never on the event loop (Hub.read).

The workers tick on the event loop that answers requests. A read made there directly
held every request while the database answered it, and for as long as it was kept
waiting: a table locked by a migration or a long maintenance statement, or a server
being reached again. Here a read is kept waiting behind a real lock on PostgreSQL (the
notification dispatcher's, an Alertmanager webhook's), and the hub must go on answering.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, make_settings
from thereyet.server.app import create_app

pytestmark = pytest.mark.postgres
WAIT = 60.0  # seconds: a deadline for a loaded machine, not a measure of speed


def _waiting_for_a_lock(conn: psycopg.Connection[Any], table: str) -> bool:
    """Some other session waits for a lock on `table`."""
    found = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass", (table,)
    ).fetchone()
    return bool(found and found[0])


# What reads the locked table: the notification dispatcher's tick (by itself), an
# Alertmanager webhook looking up its integration by token, or a chat command answered
# as its message is posted (`!status` reads the runs); and what is asked meanwhile.
CASES = [
    ("outbox", None, "/api/v1/jobs"),
    ("integrations", "/api/v1/alerts/not-a-token/alertmanager", "/api/v1/jobs"),
    ("runs", "/api/v1/rooms/ops/messages", "/api/v1/health/live"),
]


@pytest.mark.parametrize(
    ("table", "webhook", "probe"), CASES, ids=["dispatcher", "alertmanager", "chat-command"]
)
def test_a_read_kept_waiting_by_the_database_holds_no_other_request(
    pg_database, tmp_path, clock, table, webhook, probe
):
    app = create_app(make_settings(pg_database, tmp_path), clock)
    plain = pg_database.replace("+psycopg", "")
    with TestClient(app) as client, psycopg.connect(plain) as lock:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        if table == "runs":  # only the command reads them: the monitor is stopped
            made = client.post("/api/v1/rooms", json={"name": "ops"}).status_code
            assert made in (201, 409)  # 409: made by an earlier test on this database
            assert client.portal is not None
            client.portal.call(app.state.timely_workers.stop)
            client.portal.call(app.state.workers.stop)
        watcher = psycopg.connect(plain, autocommit=True)
        threads = []
        try:
            lock.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            if webhook is not None:
                body = {"text": "!status"} if "/rooms/" in webhook else {}
                threads.append(threading.Thread(target=lambda: client.post(webhook, json=body)))
                threads[-1].start()
            deadline = time.monotonic() + WAIT
            while not _waiting_for_a_lock(watcher, table):
                assert time.monotonic() < deadline, f"nothing read {table}"
                time.sleep(0.05)
            answers: list[int] = []
            threads.append(
                threading.Thread(target=lambda: answers.append(client.get(probe).status_code))
            )
            threads[-1].start()
            threads[-1].join(WAIT)
            answered_while_locked = list(answers)
            still_waiting = _waiting_for_a_lock(watcher, table)
        finally:
            lock.rollback()  # the read goes on (and a held loop with it)
            watcher.close()
        for thread in threads:
            thread.join()
        if table == "runs":  # and the command, let go, answered
            said = client.get("/api/v1/rooms/ops/messages").json()["messages"]
            assert "nothing is running" in said[-1]["text"]
    assert answered_while_locked == [200]
    assert still_waiting  # the read was still kept waiting meanwhile
