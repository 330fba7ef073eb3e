"""Nodes tell each other which topics they subscribe to, through real PostgreSQL
LISTEN/NOTIFY, so that a node builds and sends a live view only where someone shows
it. Two bridges in one process stand for two nodes; time is a fake clock."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from tests.server.test_bus_bridge import Heard, eventually
from thereyet.server.bus import HEARD_ELSEWHERE, Bus
from thereyet.server.bus_bridge import PostgresBridge
from thereyet.server.bus_interest import EXPIRY_SECONDS, WARM_SECONDS, Interest
from thereyet.server.clock import FakeClock
from thereyet.server.web.live import Live


def _node(pg_database: str, clock: FakeClock) -> PostgresBridge:
    bridge = PostgresBridge(Bus(), pg_database, clock=lambda: clock.now().timestamp())
    bridge.start()
    return bridge


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def nodes(pg_database: str, clock: FakeClock) -> Iterator[tuple[PostgresBridge, PostgresBridge]]:
    a, b = _node(pg_database, clock), _node(pg_database, clock)
    for sender, receiver in ((a, b), (b, a)):  # each has heard the other ask (sent before)
        ready = Heard(receiver.bus, "test:ready")
        sender.bus.publish("test:ready", {})
        ready.wait(lambda items: len(items) == 1)
    clock.advance(WARM_SECONDS)  # both have asked and been told
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest.mark.postgres
def test_a_node_sends_a_topic_only_while_another_node_subscribes_to_it(nodes):
    a, b = nodes
    assert not a.bus.is_heard("runs")
    dashboard = b.bus.subscribe("runs")
    eventually(lambda: a.bus.is_heard("runs"))
    assert not a.bus.is_heard("run:r1")  # nor anything else
    dashboard.close()
    eventually(lambda: not a.bus.is_heard("runs"))


@pytest.mark.postgres
def test_a_node_that_starts_later_learns_what_the_others_subscribe_to(nodes, pg_database, clock):
    _a, b = nodes
    dashboard = b.bus.subscribe("runs")
    late = _node(pg_database, clock)
    try:
        assert late.bus.is_heard("run:r1")  # until told, everything counts as heard
        clock.advance(WARM_SECONDS)
        eventually(lambda: late.bus.is_heard("runs"))
        assert not late.bus.is_heard("run:r1")
    finally:
        late.stop()
        dashboard.close()


@pytest.mark.postgres
def test_the_subscribing_node_is_told_once_each_other_node_sends_the_topic(nodes):
    a, b = nodes
    told = Heard(b.bus, HEARD_ELSEWHERE)
    page = b.bus.subscribe("run:r1")
    try:
        told.wait(lambda items: items == [{"topic": "run:r1"}])
        assert a.bus.is_heard("run:r1")  # it was sending before it said so
    finally:
        page.close()


def test_a_node_not_heard_from_for_the_expiry_has_no_subscribers():
    clock = FakeClock()
    interest = Interest(lambda: clock.now().timestamp())
    interest.want("b", ["runs", "run:r1"])
    clock.advance(EXPIRY_SECONDS - 1)
    assert interest.heard("runs")
    interest.want("c", ["run:r2"])
    clock.advance(1)
    assert not interest.heard("runs") and interest.heard("run:r2")


def test_a_whole_list_replaces_what_a_node_said_before_and_gone_forgets_it():
    clock = FakeClock()
    interest = Interest(lambda: clock.now().timestamp())
    interest.want("b", ["runs", "run:r1"])
    interest.want("b", ["run:r2"], whole=True)
    assert not interest.heard("runs") and interest.heard("run:r2")
    interest.unwant("b", ["run:r2"])
    assert not interest.heard("run:r2")
    interest.want("b", ["runs"])
    interest.gone("b")
    assert not interest.heard("runs")


def test_while_warm_every_topic_counts_as_heard():
    clock = FakeClock()
    interest = Interest(lambda: clock.now().timestamp())
    interest.warm()
    assert interest.heard("run:anything")
    clock.advance(WARM_SECONDS)
    assert not interest.heard("run:anything")


@pytest.mark.postgres
def test_a_change_committed_before_the_other_node_heard_of_the_viewer_reaches_it(nodes):
    """The gap: B's viewer takes its snapshot; A commits a change and, not yet told
    that B subscribes, sends nothing. Once A says it sends, B sends the snapshot again."""
    a, b = nodes
    state = {"done": 0}  # what the database holds, as both nodes read it
    held, release = threading.Event(), threading.Event()

    def hold(_data: dict[str, int]) -> None:  # A's listener stops here, for a while
        held.set()
        release.wait(10)

    a.bus.on("test:hold", hold)

    async def first() -> list[bytes]:
        return [f"snapshot {state['done']}\n".encode()]

    async def watch() -> list[bytes]:
        b.bus.bind(asyncio.get_running_loop())
        live = Live(b.bus)
        stream = live.stream("runs", event="runs", first=first)
        seen = [await anext(stream), await anext(stream)]  # retry, then the snapshot
        state["done"] = 1  # committed on A
        if a.bus.is_heard("runs"):  # what a report's publisher asks before building a view
            a.bus.publish("runs", {"id": "r1", "done": 1})
        release.set()
        seen.append(await asyncio.wait_for(anext(stream), 10))
        await stream.aclose()
        live.close()
        return seen

    b.bus.publish("test:hold", {})
    assert held.wait(5)  # A hears nothing more until released: not B's "want" either
    seen = asyncio.run(watch())
    assert seen[1:] == [b"snapshot 0\n", b"snapshot 1\n"]


@pytest.mark.postgres
def test_a_live_view_shown_only_where_it_has_subscribers_crosses_only_to_those_nodes(nodes):
    a, b = nodes
    on_b, marker = Heard(b.bus, "runs"), Heard(b.bus, "forget:tokens")
    mine = a.bus.subscribe("runs")  # a dashboard on A only
    try:
        a.bus.show("runs", {"id": "r1", "done": 1})
        a.bus.publish("forget:tokens", {})  # sent after it, so it arrives after it
        marker.wait(lambda items: len(items) == 1)
        assert on_b.items == []  # B's listeners are not told what only subscribers want
        theirs = b.bus.subscribe("runs")
        eventually(lambda: a.interest.heard("runs"))
        a.bus.show("runs", {"id": "r1", "done": 2})
        on_b.wait(lambda items: items == [{"id": "r1", "done": 2}])
        theirs.close()
    finally:
        mine.close()


@pytest.mark.postgres
def test_a_node_that_starts_or_listens_again_has_the_viewers_take_a_fresh_snapshot(
    nodes, pg_database, clock
):
    """What a node sent while it did not know of a viewer, or what a node missed while
    it did not listen, is read again: each side answers, and the viewers' node is told."""
    _a, b = nodes
    told = Heard(b.bus, HEARD_ELSEWHERE)
    dashboard = b.bus.subscribe("runs")
    told.wait(lambda items: len(items) == 1)  # from A
    late = _node(pg_database, clock)
    try:
        told.wait(lambda items: len(items) == 2)  # from the node that started
        pid = b.listen_pid
        engine = create_engine(pg_database)
        with engine.connect() as conn:  # B's listener loses its session
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        engine.dispose()
        told.wait(lambda items: len(items) == 4)  # from A and from the other node
        assert {item["topic"] for item in told.items} == {"runs"}
    finally:
        late.stop()
        dashboard.close()
