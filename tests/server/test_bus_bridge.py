"""The bus bridged through real PostgreSQL LISTEN/NOTIFY: two bridges in one process
stand for two nodes (each with its own connections and origin, as two processes)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from thereyet.server.bus import RESUMED, Bus
from thereyet.server.bus_bridge import MAX_PAYLOAD, BridgeCounts, PostgresBridge, pack

pytestmark = pytest.mark.postgres


class Heard:
    """What a bus listener was given, with a way to wait for it."""

    def __init__(self, bus: Bus, topic: str) -> None:
        self.items: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        bus.on(topic, self._add)

    def _add(self, data: dict[str, Any]) -> None:
        with self._changed:
            self.items.append(data)
            self._changed.notify_all()

    def wait(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 5) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: done(self.items), timeout), self.items[-3:]


def eventually(check: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def nodes(pg_database: str) -> Iterator[tuple[PostgresBridge, PostgresBridge]]:
    a, b = PostgresBridge(Bus(), pg_database), PostgresBridge(Bus(), pg_database)
    a.start()
    b.start()
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


def test_a_message_published_on_one_node_is_delivered_once_on_each(nodes):
    a, b = nodes
    on_a, on_b = Heard(a.bus, "forget:tokens"), Heard(b.bus, "forget:tokens")
    a.bus.publish("forget:tokens", {"why": "revoked"})
    on_b.wait(lambda items: items == [{"why": "revoked"}])
    # A's own payloads came back to it too (with the topics it subscribes to); once
    # each has been skipped, A has still delivered the message only once (when it was
    # published).
    eventually(lambda: a.counts.payloads > 0 and a.counts.own == a.counts.payloads)
    assert on_a.items == [{"why": "revoked"}]


def test_a_run_that_changes_many_times_crosses_as_its_latest_state(nodes):
    a, b = nodes
    on_b = Heard(b.bus, "runs")
    for done in range(1, 301):
        a.bus.publish("runs", {"id": "r1", "done": done})
    on_b.wait(lambda items: bool(items) and items[-1]["done"] == 300)
    seen = [item["done"] for item in on_b.items]
    assert seen == sorted(seen)  # never an older state after a newer one
    eventually(lambda: 0 < a.counts.sent <= 300)


def test_many_messages_cross_in_payloads_under_the_notify_limit(nodes):
    a, b = nodes
    on_b = Heard(b.bus, "room:ops")
    for i in range(60):  # 60 x 1 kB: several payloads, none refused by PostgreSQL
        a.bus.publish("room:ops", {"id": i, "text": "x" * 1000})
    on_b.wait(lambda items: len(items) == 60)
    assert [item["id"] for item in on_b.items] == list(range(60))
    eventually(lambda: a.counts.payloads >= 8)  # counted once their transaction committed


def test_pack_keeps_every_payload_under_the_limit_and_in_order():
    bus, counts = Bus(), BridgeCounts()
    messages = [("room:ops", {"id": i, "text": "é" * (i * 37 % 1200)}) for i in range(200)]
    payloads = pack("origin", messages, bus, counts)
    assert all(len(p.encode()) <= MAX_PAYLOAD for p in payloads)
    crossed = [item[1]["id"] for p in payloads for item in json.loads(p)["m"]]
    assert crossed == list(range(200)) and counts.dropped == 0


def test_a_message_too_large_crosses_as_its_id_and_is_read_again_where_someone_watches(nodes):
    a, b = nodes
    loaded: list[str] = []

    def load(topic: str, ident: str) -> dict[str, Any]:
        loaded.append(ident)
        return {"id": ident, "log_tail": "read again on B"}

    b.bus.by_reference("run:", load, always=False)
    a.bus.by_reference("run:", load, always=False)
    on_b = Heard(b.bus, "run:big")
    watcher = b.bus.subscribe("run:big")  # someone on B has the run's page open
    try:
        a.bus.publish("run:big", {"id": "big", "log_tail": "x" * 20_000})
        on_b.wait(lambda items: items == [{"id": "big", "log_tail": "read again on B"}])
        assert loaded == ["big"]
    finally:
        watcher.close()


def test_a_message_too_large_with_no_way_to_read_it_again_is_dropped_and_counted(nodes):
    a, b = nodes
    on_b = Heard(b.bus, "room:ops")
    a.bus.publish("room:ops", {"id": 1, "text": "x" * 20_000})
    a.bus.publish("room:ops", {"id": 2, "text": "small"})
    on_b.wait(lambda items: [i["id"] for i in items] == [2])
    assert a.counts.dropped == 1


def test_the_listener_listens_again_by_itself_when_its_connection_is_killed(nodes, pg_database):
    a, b = nodes
    resumed, on_b = Heard(b.bus, RESUMED), Heard(b.bus, "forget:shares")
    pid = b.listen_pid
    assert pid is not None
    engine = create_engine(pg_database)
    with engine.connect() as conn:  # what a restart or a failover does to the session
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    engine.dispose()
    resumed.wait(lambda items: len(items) == 1)  # caches are told to forget
    assert b.listen_pid not in (None, pid) and b.counts.reconnects == 1
    a.bus.publish("forget:shares", {})
    on_b.wait(lambda items: len(items) == 1)


def test_the_sender_sends_again_after_its_connection_is_killed(nodes, pg_database):
    a, b = nodes
    on_b = Heard(b.bus, "forget:tokens")
    a.bus.publish("forget:tokens", {"n": 1})
    on_b.wait(lambda items: len(items) == 1)
    engine = create_engine(pg_database)
    with engine.connect() as conn:  # every session of A's sender
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND query LIKE 'SELECT pg_notify%'"
            )
        )
    engine.dispose()
    a.bus.publish("forget:tokens", {"n": 2})
    on_b.wait(lambda items: items[-1:] == [{"n": 2}])


def test_quotes_backslashes_braces_and_accents_cross_unchanged(nodes):
    a, b = nodes
    on_b = Heard(b.bus, "room:ops")
    text = 'a "quoted" \\ back\\slash, {brace} [list] é \u2603 \n new line \t tab NULL-ish \\0'
    a.bus.publish("room:ops", {"id": 1, "text": text})
    on_b.wait(lambda items: items == [{"id": 1, "text": text}])
