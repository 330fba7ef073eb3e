"""The bus on one node: listeners, and an older state that arrives after a newer one."""

from __future__ import annotations

from typing import Any

from thereyet.server.bus import Bus


def test_a_listener_hears_what_is_published_and_what_another_node_delivers():
    bus, heard = Bus(), []
    bus.on("forget:tokens", heard.append)
    bus.publish("forget:tokens", {"from": "here"})
    bus.deliver("forget:tokens", {"from": "elsewhere"})
    assert heard == [{"from": "here"}, {"from": "elsewhere"}]


def test_an_older_version_of_a_run_is_not_delivered_after_a_newer_one():
    bus, heard = Bus(), []
    bus.on("runs", heard.append)
    updates: list[dict[str, Any]] = [
        {"id": "r1", "version": 3, "done": 30},
        {"id": "r1", "version": 2, "done": 29},  # from a node whose NOTIFY came late
        {"id": "r2", "version": 1, "done": 1},  # another run has its own order
        {"id": "r1", "version": 3, "done": 30},  # the same state again is fine
        {"id": "r1", "version": 4, "done": 31},
    ]
    for update in updates:
        bus.deliver("runs", update)
    assert [(u["id"], u["done"]) for u in heard] == [
        ("r1", 30),
        ("r2", 1),
        ("r1", 30),
        ("r1", 31),
    ]


def test_messages_without_a_version_are_always_delivered():
    bus, heard = Bus(), []
    bus.on("room:ops", heard.append)
    for i in (2, 1):
        bus.deliver("room:ops", {"id": i, "text": "hi"})
    assert [m["id"] for m in heard] == [2, 1]


def test_on_one_node_nothing_leaves_and_only_subscribers_make_a_topic_heard():
    bus = Bus()
    assert not bus.bridged and not bus.is_heard("runs")
    sub = bus.subscribe("runs")
    assert bus.is_heard("runs")
    sub.close()
    sent: list[tuple[str, dict[str, Any]]] = []
    bus.outward = lambda topic, data: sent.append((topic, data))
    assert bus.is_heard("runs")  # another node may be watching
    bus.publish("runs", {"id": "r1"})
    assert sent == [("runs", {"id": "r1"})]


def test_a_view_shown_leaves_the_node_only_if_another_node_has_subscribers():
    bus, sent, elsewhere = Bus(), [], set()
    bus.outward = lambda topic, data: sent.append(topic)
    bus.elsewhere = elsewhere.__contains__
    bus.show("runs", {"id": "r1"})
    bus.publish("forget:tokens", {})  # listeners on other nodes want this regardless
    elsewhere.add("runs")
    bus.show("runs", {"id": "r1"})
    assert sent == ["forget:tokens", "runs"]
