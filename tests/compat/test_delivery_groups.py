"""Inbound deliveries made together in the writer's groups, over real HTTP on both backends.

PagerDuty's /v2/enqueue, Alertmanager's webhook and Slack-style hooks arrive in
bursts. A burst sent at once by many clients is recorded exactly once, each delivery
answered once its group is committed; a group whose commit fails answers every
delivery in it with the error and records none of them.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine

from tests.servers import serve, wait_for
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.config import Settings
from thereyet.server.store.writer import Tx

BURST = 40
CLIENTS = 8


def _send(base: str, method: str, path: str, body: Any, token: str | None = None) -> Any:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, None if body is None else json.dumps(body), headers)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    return response.status, json.loads(raw) if raw.startswith((b"{", b"[")) else raw


def _burst(base: str, requests: list[tuple[str, Any]], clients: int = CLIENTS) -> Counter[int]:
    """POST each (path, body) from `clients` threads at once; the answers' statuses."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def client(mine: list[tuple[str, Any]]) -> None:
        found = Counter(_send(base, "POST", path, body)[0] for path, body in mine)
        with lock:
            statuses.update(found)

    threads = [
        threading.Thread(target=client, args=(requests[i::clients],)) for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


@pytest.fixture
def hub(settings: Settings, clock: FakeClock) -> Iterator[tuple[str, Any]]:
    app = create_app(settings, clock)
    with serve(app) as base:
        yield base, app


def _admin(base: str, settings: Settings, method: str, path: str, body: Any = None) -> Any:
    status, found = _send(base, method, path, body, settings.admin_token)
    assert 200 <= status < 300, (path, status, found)
    return found


def _alert_integration(base: str, settings: Settings, kind: str) -> str:
    _admin(base, settings, "PUT", "/api/v1/oncall/services/payments", {"room": "ops"})
    made = _admin(
        base,
        settings,
        "POST",
        "/api/v1/oncall/integrations",
        {"name": kind, "service": "payments", "kind": kind},
    )
    return str(made["token"])


def _incidents(base: str, settings: Settings) -> list[dict[str, Any]]:
    found = _admin(base, settings, "GET", "/api/v1/incidents?limit=500")
    return list(found["incidents"])


def _room(base: str, settings: Settings, room: str) -> list[str]:
    found = _admin(base, settings, "GET", f"/api/v1/rooms/{room}/messages?limit=500")
    return [m["text"] for m in found["messages"]]


def _trigger(routing_key: str, dedup_key: str, *, runbook: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = {"summary": f"{dedup_key} fired", "source": "db", "severity": "error"}
    if runbook:
        payload["custom_details"] = {"runbook_url": "https://wiki.example/runbook"}
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": payload,
    }


def test_a_burst_of_pagerduty_events_is_each_recorded_once(hub, settings: Settings):
    base, app = hub
    key = _alert_integration(base, settings, "pagerduty")

    events = [_trigger(key, f"disk-{n}") for n in range(BURST)]
    statuses = _burst(base, [("/v2/enqueue", event) for event in events])
    assert statuses == Counter({202: BURST})
    keys = Counter(i["dedup_key"] for i in _incidents(base, settings))
    assert keys == Counter({f"disk-{n}": 1 for n in range(BURST)})
    assert app.state.hub.writer.batched > 0  # some were made together


def test_refused_events_in_a_burst_leave_their_neighbours_recorded(hub, settings: Settings):
    """A service that requires a runbook link refuses the events without one (400); made
    together with the others, each is rolled back alone."""
    base, app = hub
    key = _alert_integration(base, settings, "pagerduty")
    _admin(
        base,
        settings,
        "PUT",
        "/api/v1/oncall/services/payments",
        {"room": "ops", "require_runbook": True},
    )

    events = [_trigger(key, f"cpu-{n}", runbook=bool(n % 2)) for n in range(BURST)]
    statuses = _burst(base, [("/v2/enqueue", event) for event in events])
    assert statuses == Counter({202: BURST // 2, 400: BURST // 2})
    keys = sorted(i["dedup_key"] for i in _incidents(base, settings))
    assert keys == sorted(f"cpu-{n}" for n in range(1, BURST, 2))
    assert app.state.hub.writer.batched > 0


def test_a_burst_of_alertmanager_notifications_is_each_recorded_once(hub, settings: Settings):
    base, app = hub
    token = _alert_integration(base, settings, "alertmanager")

    def note(n: int) -> dict[str, Any]:
        alerts = [
            {
                "status": "firing",
                "labels": {"alertname": f"Disk{n}", "instance": f"h{i}"},
                "fingerprint": f"fp-{n}-{i}",
            }
            for i in range(2)
        ]
        return {"version": "4", "groupKey": f"g{n}", "status": "firing", "alerts": alerts}

    path = f"/api/v1/alerts/{token}/alertmanager"
    statuses = _burst(base, [(path, note(n)) for n in range(BURST)])
    assert statuses == Counter({200: BURST})
    keys = Counter(i["dedup_key"] for i in _incidents(base, settings))
    assert keys == Counter({f"am:fp-{n}-{i}": 1 for n in range(BURST) for i in range(2)})
    assert app.state.hub.writer.batched > 0


def _slack_hook(base: str, settings: Settings) -> str:
    made = _admin(
        base,
        settings,
        "POST",
        "/api/v1/integrations",
        {"name": "chat", "format": "slack", "room": "ci"},
    )
    return str(made["url"])


def test_a_burst_of_slack_style_posts_is_each_recorded_once(hub, settings: Settings):
    base, app = hub
    url = _slack_hook(base, settings)
    statuses = _burst(base, [(url, {"text": f"deploy {n} done"}) for n in range(BURST)])
    assert statuses == Counter({200: BURST})
    assert Counter(_room(base, settings, "ci")) == Counter(
        {f"deploy {n} done": 1 for n in range(BURST)}
    )
    assert app.state.hub.writer.batched > 0


# A message saying "poison" passes its own statement but fails the commit of its group:
# a deferred constraint on PostgreSQL, a deferred foreign key on SQLite.
_POISON = {
    "postgresql": [
        """CREATE FUNCTION refuse_poison_message() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF position('poison' in NEW.body) > 0 THEN RAISE EXCEPTION 'poison refused at commit'; END IF;
          RETURN NULL;
        END $$""",
        """CREATE CONSTRAINT TRIGGER refuse_poison_message AFTER INSERT ON messages
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_poison_message()""",
    ],
    "sqlite": [
        """CREATE TABLE poison_guard (
          room_id INTEGER REFERENCES rooms(id) DEFERRABLE INITIALLY DEFERRED)""",
        """CREATE TRIGGER refuse_poison_message AFTER INSERT ON messages
        WHEN instr(NEW.body, 'poison') > 0 BEGIN INSERT INTO poison_guard VALUES (-1); END""",
    ],
}


_DISARM = {
    "postgresql": [
        "DROP TRIGGER refuse_poison_message ON messages",
        "DROP FUNCTION refuse_poison_message()",
    ],
    "sqlite": ["DROP TRIGGER refuse_poison_message", "DROP TABLE poison_guard"],
}


@contextlib.contextmanager
def _poison_armed(db: str) -> Iterator[None]:
    """The poison armed for the test, then taken away (the PostgreSQL database is the
    session's: what the test adds there must not outlive it)."""
    engine = create_engine(db)
    with engine.begin() as conn:
        for statement in _POISON[conn.dialect.name]:
            conn.exec_driver_sql(statement)
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in _DISARM[conn.dialect.name]:
                conn.exec_driver_sql(statement)
        engine.dispose()


def _held(writer: Any) -> Callable[[], None]:
    """Keep the writer busy with a change that waits; return what lets it go."""
    go = threading.Event()

    def wait(_tx: Tx) -> None:
        go.wait(30)

    writer.submit(wait)
    return go.set


def _queued(writer: Any, handler: Any) -> int:
    """How many changes made by `handler` wait in the writer's queue."""
    return sum(job.handler == handler for job in list(writer._pending))


def test_a_failed_group_answers_every_delivery_in_it_with_the_error(hub, settings: Settings):
    base, app = hub
    url = _slack_hook(base, settings)
    with _poison_armed(settings.db):
        writer = app.state.hub.writer
        release = _held(writer)
        texts = [f"build {n} green" for n in range(BURST - 1)] + ["poison"]
        answers: list[Counter[int]] = []
        sender = threading.Thread(
            target=lambda: answers.append(_burst(base, [(url, {"text": t}) for t in texts], BURST))
        )
        sender.start()
        # All of them wait in the writer's queue, so they make one group together.
        wait_for(
            lambda: _queued(writer, app.state.integrations._together) == BURST,
            30,
            what="the burst queued behind the held writer",
        )
        release()
        sender.join()
        [statuses] = answers
        assert sum(statuses.values()) == BURST
        assert all(status >= 500 for status in statuses), statuses  # none told it was recorded
        assert _room(base, settings, "ci") == []  # and none was
        # The writer goes on: the next delivery is recorded.
        assert _send(base, "POST", url, {"text": "after"})[0] == 200
        assert _room(base, settings, "ci") == ["after"]
