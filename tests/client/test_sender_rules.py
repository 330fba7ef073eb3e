"""The sender's rules, driven step by step with a fake clock against a recording HTTP
server or an unreachable port (no hub): backoff, warnings, and the spool."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.servers import Recorder, free_port, recording_server
from thereyet.client.config import Config
from thereyet.client.runs import Run
from thereyet.client.sender import Backoff, Sender


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _dead_config(tmp_path):
    return Config(
        url=f"http://127.0.0.1:{free_port()}",
        token="ty_nobody",
        spool_dir=tmp_path / "spool",
        timeout=1.0,
    )


def test_an_unreachable_hub_is_retried_with_growing_capped_delays(tmp_path):
    clock = Clock()
    config = dataclasses.replace(_dead_config(tmp_path), progress_interval=1.0)
    sender = Sender(config, clock=clock, backoff=Backoff(base=0.5, cap=2.0, rand=lambda: 1.0))
    Run("nobody-home", sender=sender)
    tried = []
    for _ in range(80):
        before = sender.attempts
        sender.step(clock.now)
        if sender.attempts > before:
            tried.append(round(clock.now - 1000, 1))
        clock.now += 0.1
    assert tried == [0.0, 0.5, 1.5, 3.5, 5.5, 7.5]
    assert sender.pending
    assert sender.spool_rest() == 1


def test_a_real_outage_is_warned_about_at_most_once_a_minute(tmp_path, caplog):
    clock = [1000.0]
    config = Config(
        url=f"http://127.0.0.1:{free_port()}", token=ADMIN_TOKEN, spool_dir=tmp_path / "spool"
    )
    sender = Sender(config, clock=lambda: clock[0])
    Run("nobody-home", sender=sender)
    caplog.set_level(logging.WARNING, logger="thereyet")
    warned_at = []
    for _second in range(150):
        before = len(caplog.records)
        sender.retry_at = float("-inf")  # try every second, whatever the backoff says
        sender.step(clock[0])
        if len(caplog.records) > before:
            warned_at.append(clock[0] - 1000)
        clock[0] += 1
    assert warned_at == [0, 60, 120]
    assert "hub unreachable" in caplog.records[0].getMessage()
    assert "Connection refused" in (sender.last_error or "")
    sender.spool_rest()


WALL = 1_700_000_000.25  # 2023-11-14T22:13:20.250Z


def _sender(recorder: Recorder, tmp_path: Path, clock: Clock | None = None, **settings) -> Sender:
    config = Config(
        url=f"http://{recorder.url}", token="ty_secret", spool_dir=tmp_path / "spool", **settings
    )
    return Sender(
        config, clock=clock or Clock(), wall=lambda: WALL, backoff=Backoff(rand=lambda: 1)
    )


@pytest.fixture(autouse=True)
def _no_agent_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THEREYET_RUN_ID", raising=False)


def _paths(recorder: Recorder) -> list[str]:
    return [r["path"] for r in recorder.requests]


@pytest.mark.parametrize(
    ("failures", "rand", "delay"),
    [(0, 1, 0.5), (1, 1, 0.5), (1, 0, 0.25), (3, 1, 2.0), (3, 0.5, 1.5), (12, 1, 30.0)],
)
def test_the_backoff_doubles_from_half_a_second_jittered_and_capped(failures, rand, delay):
    assert Backoff(rand=lambda: rand).delay(failures) == pytest.approx(delay)


def test_retry_after_lengthens_the_backoff_but_never_past_the_cap():
    backoff = Backoff(rand=lambda: 1)
    assert backoff.delay(1, retry_after=5.0) == 5.0
    assert backoff.delay(3, retry_after=1.0) == 2.0
    assert backoff.delay(1, retry_after=3600.0) == 30.0
    assert Backoff(base=1, cap=4, rand=lambda: 1).delay(5) == 4.0


def test_a_run_is_created_then_its_events_files_and_finish_go_in_order(tmp_path):
    shot = tmp_path / "shot.png"
    shot.write_bytes(b"\x89PNG")
    with recording_server() as recorder:
        recorder.status = 201
        sender = _sender(recorder, tmp_path)
        run = Run("Nightly Export", sender=sender, total=10, unit="rows", room="Ops")
        run.log("started", stream="bogus")
        run.note("  ")  # blank notes are not said
        run.note("half way")
        run.attach(shot, name="screen.png")
        run.progress(5)
        run.finish()
        assert sender.step(1000.0)
        assert not sender.pending and sender.boxes == {}
    rid = run.id
    assert _paths(recorder) == [
        "/api/v1/runs",
        f"/api/v1/runs/{rid}/events",
        f"/api/v1/runs/{rid}/attachments?name=screen.png",
        f"/api/v1/runs/{rid}/finish",
    ]
    create, events, _upload, finish = (r["json"] for r in recorder.requests)
    assert {k: create[k] for k in ("job", "id", "status", "room", "total", "unit", "trigger")} == {
        "job": "nightly-export",
        "id": rid,
        "status": "running",
        "room": "ops",
        "total": 10,
        "unit": "rows",
        "trigger": "sdk",
    }
    assert create["started_at"] == "2023-11-14T22:13:20.250Z"
    assert [(e["id"], e["type"]) for e in events["events"]] == [
        ("l1", "log"),
        ("n2", "note"),
        ("p3", "progress"),
    ]
    assert events["events"][0]["stream"] == "log" and events["events"][0]["text"] == "started"
    assert events["events"][2] == {
        "id": "p3",
        "type": "progress",
        "ts": "2023-11-14T22:13:20.250Z",
        "done": 5,
        "total": 10,
        "unit": "rows",
    }
    assert recorder.requests[2]["raw"] == b"\x89PNG"
    assert recorder.requests[2]["headers"]["Content-Type"] == "image/png"
    assert finish == {"status": "succeeded", "id": "finish"}


def test_a_refused_event_batch_is_dropped_and_the_run_goes_on(tmp_path, caplog):
    with recording_server() as recorder:
        recorder.status, recorder.answers = 201, [201, 422]
        sender = _sender(recorder, tmp_path)
        run = Run("export", sender=sender)
        run.log("refused")
        sender.step(1000.0)
        run.log("accepted")
        sender.step(1001.0)
    sent = [[e["text"] for e in r["json"]["events"] if "text" in e] for r in recorder.requests[1:]]
    assert sent == [["refused"], ["accepted"]]
    assert run.id in sender.boxes and sender.refused == 1
    assert "hub answered 422" in caplog.text


def test_a_refused_finish_forgets_the_run_for_good(tmp_path):
    with recording_server() as recorder:
        recorder.status, recorder.answers = 201, [201, 201, 404]
        sender = _sender(recorder, tmp_path)
        run = Run("export", sender=sender)
        run.finish("failed", exit_code=3, error="x" * 30_000)
        sender.step(1000.0)
        sender.step(2000.0)
    assert [p.rsplit("/", 1)[-1] for p in _paths(recorder)] == ["runs", "events", "finish"]
    finish = recorder.requests[2]["json"]
    assert (finish["status"], finish["exit_code"], len(finish["error"])) == ("failed", 3, 20_000)
    assert sender.boxes == {} and not sender.pending and sender.refused == 1


def test_a_message_to_a_room_not_made_yet_makes_the_room_and_is_posted_again(tmp_path, caplog):
    with recording_server() as recorder:
        recorder.status, recorder.answers = 201, [404]
        sender = _sender(recorder, tmp_path)
        sender.post_message("ops", "backup done", "m1")
        sender.step(1000.0)
    assert _paths(recorder) == [
        "/api/v1/rooms/ops/messages",
        "/api/v1/rooms",
        "/api/v1/rooms/ops/messages",
    ]
    assert [r["json"] for r in recorder.requests] == [
        {"text": "backup done", "id": "m1"},
        {"name": "ops"},
        {"text": "backup done", "id": "m1"},
    ]
    assert sender.refused == 0 and not sender.pending and "dropping" not in caplog.text


def test_a_file_for_a_room_not_made_yet_makes_the_room_and_is_sent_again(tmp_path, caplog):
    report = tmp_path / "report.txt"
    report.write_text("all good")
    item = {"path": str(report), "name": "report.txt", "content_type": "text/plain", "id": "f1"}
    with recording_server() as recorder:
        recorder.status, recorder.answers = 201, [404]
        sender = _sender(recorder, tmp_path)
        sender.post_message("ops", "the report", "m1", item)
        sender.post_message("ops", "", "m2", {**item, "path": str(tmp_path / "gone.txt")})
        sender.step(1000.0)
    upload = "/api/v1/rooms/ops/attachments?name=report.txt&text=the+report&id=m1"
    assert _paths(recorder) == [upload, "/api/v1/rooms", upload]
    assert recorder.requests[2]["raw"] == b"all good"
    assert recorder.requests[2]["headers"]["Content-Type"] == "text/plain"
    assert sender.refused == 1 and not sender.pending  # the missing file is given up
    gone = tmp_path / "gone.txt"
    assert f"thereyet: cannot attach {gone}: [Errno 2] No such file" in caplog.text


def test_messages_are_bounded_and_clipped(tmp_path):
    with recording_server() as recorder:
        sender = _sender(recorder, tmp_path)
        for i in range(1005):
            sender.post_message("ops", "y" * 30_000 if i == 0 else "x", f"m{i}")
    assert len(sender.messages) == 1000
    assert len(sender.messages[0]["text"]) == 20_000 and sender.messages[-1]["id"] == "m999"


def test_progress_goes_once_per_interval_with_the_latest_value_and_not_again_unchanged(tmp_path):
    clock = Clock()
    with recording_server() as recorder:
        recorder.status = 201
        sender = _sender(recorder, tmp_path, clock, progress_interval=1.0)
        run = Run("export", sender=sender, total=100)
        sender.step(clock.now)  # the creation, with the first figures
        for done in (1, 2, 3):
            run.progress(done)
        sender.step(clock.now + 0.5)
        sender.step(clock.now + 1.0)
        sender.step(clock.now + 2.0)  # nothing changed: nothing sent
    progress = [
        e["done"]
        for r in recorder.requests
        if r["path"].endswith("/events")
        for e in r["json"]["events"]
        if e["type"] == "progress"
    ]
    assert progress == [0, 3]
    assert len(recorder.requests) == 3


def test_a_quiet_run_says_it_is_alive_every_heartbeat_interval(tmp_path):
    clock = Clock()
    with recording_server() as recorder:
        recorder.status = 201
        sender = _sender(recorder, tmp_path, clock, heartbeat_interval=30.0)
        run = Run("quiet", sender=sender)
        sender.step(1000.0)
        before = len(recorder.requests)
        sender.step(1029.0)
        assert len(recorder.requests) == before
        sender.step(1030.0)
    heartbeat = recorder.requests[-1]["json"]["events"]
    assert [e["type"] for e in heartbeat] == ["heartbeat"]
    assert recorder.requests[-1]["path"] == f"/api/v1/runs/{run.id}/events"


def test_a_success_after_failures_starts_the_backoff_again(tmp_path):
    with recording_server() as recorder:
        recorder.status, recorder.answers = 201, [503, 503]
        sender = _sender(recorder, tmp_path)
        sender.post_message("ops", "a", "m1")
        sender.step(100.0)
        sender.step(100.5)
        assert sender.failures == 2 and sender.last_error == "hub answered 503: Service Unavailable"
        sender.step(101.5)
        assert sender.failures == 0 and not sender.pending
        recorder.answers = [503]
        sender.post_message("ops", "b", "m2")
        sender.step(102.0)
        assert sender.retry_at == pytest.approx(102.5)  # one failure: half a second


def test_flush_without_the_thread_delivers_within_its_timeout(tmp_path):
    with recording_server() as recorder:
        recorder.status = 201
        sender = Sender(Config(url=f"http://{recorder.url}", token="ty_x", spool_dir=tmp_path))
        sender.post_message("ops", "a", "m1")
        assert sender.flush(5.0)
        assert not sender.force and [r["json"]["id"] for r in recorder.requests] == ["m1"]


# -- the spool: what the hub did not get survives the process ------------------------------


def test_reports_the_hub_did_not_acknowledge_are_spooled_and_sent_by_the_next_sender_with_their_ids(
    tmp_path,
):
    with recording_server() as recorder:
        recorder.status, recorder.answers = 503, [201]  # the run is made, its events are not
        first = _sender(recorder, tmp_path)
        run = Run("export", sender=first)
        run.log("row 1")
        run.log("row 2")
        first.step(1000.0)
        run.finish()
        assert first.close(timeout=0) is False
        spooled = list((tmp_path / "spool").glob("*.json"))
        assert [p.name for p in spooled] == [f"{run.id}.json"]
        assert (tmp_path / "spool").stat().st_mode & 0o777 == 0o700
        assert "ty_secret" not in spooled[0].read_text()

        recorder.status, recorder.requests[:] = 201, []
        second = _sender(recorder, tmp_path)
        assert second.load_spool() == 1
        second.boxes[run.id].add("log", text="row 3")  # a new event: a new id
        second.step(2000.0)
        assert not second.pending
    assert _paths(recorder) == [f"/api/v1/runs/{run.id}/events", f"/api/v1/runs/{run.id}/finish"]
    ids = [e["id"] for e in recorder.requests[0]["json"]["events"]]
    assert ids[:2] == ["l1", "l2"]  # the hub records each once, whoever sends it
    assert len(set(ids)) == len(ids)
    assert list((tmp_path / "spool").iterdir()) == []


def test_a_spooled_run_keeps_its_creation_files_and_finish(tmp_path):
    shot = tmp_path / "shot.png"
    shot.write_bytes(b"png")
    with recording_server() as recorder:
        recorder.status = 503
        first = _sender(recorder, tmp_path)
        run = Run("export", sender=first)
        run.attach(shot)
        run.finish("failed", exit_code=2)
        first.step(1000.0)
        assert first.spool_rest() == 1
        assert first.spool_rest() == 1  # written again, not twice
        assert len(list((tmp_path / "spool").glob("*.json"))) == 1

        recorder.status, recorder.requests[:] = 201, []
        second = _sender(recorder, tmp_path)
        assert second.load_spool() == 1
        second.step(2000.0)
    assert [p.split("?")[0].rsplit("/", 1)[-1] for p in _paths(recorder)] == [
        "runs",
        "events",
        "attachments",
        "finish",
    ]
    assert recorder.requests[0]["json"]["id"] == run.id
    assert recorder.requests[3]["json"] == {"status": "failed", "id": "finish", "exit_code": 2}
    assert list((tmp_path / "spool").iterdir()) == []


def test_spooled_messages_are_sent_by_the_next_sender_and_their_file_removed(tmp_path):
    with recording_server() as recorder:
        recorder.status = 503
        first = _sender(recorder, tmp_path)
        first.post_message("ops", "one", "m1")
        first.post_message("ops", "two", "m2")
        assert first.close(timeout=0) is False
        [spooled] = (tmp_path / "spool").glob("m-*.json")

        recorder.status, recorder.requests[:] = 201, []
        second = _sender(recorder, tmp_path)
        assert second.load_spool() == 1
        assert spooled.exists() is False  # claimed by this process
        second.step(2000.0)
    assert [r["json"] for r in recorder.requests] == [
        {"text": "one", "id": "m1"},
        {"text": "two", "id": "m2"},
    ]
    assert list((tmp_path / "spool").iterdir()) == []


def test_nothing_left_means_nothing_spooled(tmp_path):
    with recording_server() as recorder:
        recorder.status = 201
        sender = _sender(recorder, tmp_path)
        run = Run("export", sender=sender)
        run.finish()
        assert sender.close(timeout=5) is True
    assert sender.spool_rest() == 0
    assert not (tmp_path / "spool").exists()


def test_a_spool_that_cannot_be_written_is_warned_about_not_raised(tmp_path, caplog):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    config = Config(url="http://127.0.0.1:1", token="ty_x", spool_dir=blocked / "spool")
    sender = Sender(config)
    sender.post_message("ops", "a", "m1")
    assert sender.spool_rest() == 0
    assert "cannot spool to" in caplog.text
