"""The sender, driven step by step with a fake clock against a real hub."""

from __future__ import annotations

import dataclasses

from thereyet.client.runs import Run
from thereyet.client.sender import Sender


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _progress(live_hub, run_id):
    return [e for e in live_hub.events(run_id) if e["type"] == "progress"]


def test_progress_is_coalesced_to_the_latest_value_once_per_interval(live_hub, sdk_config):
    clock = Clock()
    config = dataclasses.replace(sdk_config, progress_interval=1.0)
    sender = Sender(config, clock=clock)
    run = Run("coalesced", sender=sender)
    for done in range(1, 501):
        run.progress(done, 1000)
    sender.step(clock.now)
    assert [e["done"] for e in _progress(live_hub, run.id)] == [500]

    for done in range(501, 900):
        run.progress(done, 1000)
    clock.now += 0.5
    sender.step(clock.now)
    assert len(_progress(live_hub, run.id)) == 1

    clock.now += 0.5
    sender.step(clock.now)
    assert [e["done"] for e in _progress(live_hub, run.id)] == [500, 899]
    sender.close(1)


def test_unchanged_progress_is_not_sent_again_but_a_quiet_run_heartbeats(live_hub, sdk_config):
    clock = Clock()
    config = dataclasses.replace(sdk_config, progress_interval=1.0, heartbeat_interval=30.0)
    sender = Sender(config, clock=clock)
    run = Run("quiet", sender=sender)
    run.progress(5)
    sender.step(clock.now)
    calls = sender.attempts
    clock.now += 10
    sender.step(clock.now)
    assert sender.attempts == calls  # nothing new, not yet time for a heartbeat
    clock.now += 20
    sender.step(clock.now)
    assert sender.attempts == calls + 1  # the heartbeat
    assert len(_progress(live_hub, run.id)) == 1
    sender.close(1)


def test_memory_is_bounded_while_the_hub_is_away_and_drops_are_reported(live_hub, sdk_config):
    clock = Clock()
    config = dataclasses.replace(sdk_config, max_pending=10)
    sender = Sender(config, clock=clock)
    run = Run("chatty", sender=sender)
    for i in range(25):
        run.log(f"line {i}")
    assert len(sender.boxes[run.id].events) == 10
    run.finish()
    sender.step(clock.now)

    logs = [e["text"] for e in live_hub.events(run.id) if e["type"] == "log"]
    assert logs[:10] == [f"line {i}" for i in range(15, 25)]
    assert "15 events were dropped" in logs[10]
    assert live_hub.run(run.id)["status"] == "succeeded"
    sender.close(1)


def test_a_track_loop_left_early_is_finished_after_the_grace_period(live_hub, sdk_config):
    clock = Clock()
    sender = Sender(dataclasses.replace(sdk_config, early_end_grace=5.0), clock=clock)
    run = Run("left-early", sender=sender)
    for i in run._track(range(100), None, finish=True):
        if i == 41:
            break
    sender.step(clock.now)
    assert live_hub.run(run.id)["status"] == "running"
    clock.now += 5
    sender.step(clock.now)
    view = live_hub.run(run.id)
    assert view["status"] == "succeeded"
    assert view["progress"]["done"] == 42
    sender.close(1)


def test_a_run_reported_into_again_keeps_what_an_earlier_process_spooled(live_hub, sdk_config):
    """A command reporting into a run another process began (an agent's run, say) takes
    the spool over at start: what the earlier process could not deliver is sent first,
    not dropped with the box its own reports replace."""
    from thereyet.client import spool

    clock = Clock()
    first = Sender(sdk_config, clock=clock)
    run = Run("resumed", sender=first)
    first.step(clock.now)  # the hub has the run
    earlier = first.boxes[run.id]
    earlier.add("log", text="said while the hub was away", stream="log")
    spool.write(sdk_config.spool_dir, sdk_config.url, run.id, earlier.to_spool())

    second = Sender(sdk_config, clock=clock)
    assert second.load_spool() == 1
    again = Run("resumed", id=run.id, existing=True, sender=second)
    again.log("said by the next process")
    second.step(clock.now)
    logs = [e["text"] for e in live_hub.events(run.id) if e["type"] == "log"]
    assert logs == ["said while the hub was away", "said by the next process"]
    again.finish()
    second.step(clock.now)
    assert live_hub.api.get(f"/api/v1/runs/{run.id}").json()["status"] == "succeeded"
    assert list(sdk_config.spool_dir.iterdir()) == []  # all delivered: the claim is gone
    second.close(1)
    first.close(1)
