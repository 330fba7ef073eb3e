"""track(), run() and @job against a real hub: what the hub ends up with."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import thereyet
from thereyet.client import state


def _only_run(live_hub, job):
    runs = live_hub.runs(job=job)
    assert len(runs) == 1, runs
    return live_hub.run(runs[0]["id"])


def test_a_run_reported_by_track_ends_with_exactly_the_right_counts(live_hub, sdk):
    seen = sum(1 for _ in thereyet.track(range(1234), job="count-me", unit="rows"))
    assert thereyet.flush(10)

    run = _only_run(live_hub, "count-me")
    assert seen == 1234
    assert run["status"] == "succeeded"
    assert run["progress"]["done"] == 1234
    assert run["progress"]["total"] == 1234
    assert run["progress"]["unit"] == "rows"
    assert run["progress"]["percent"] == 100


def test_track_of_a_generator_reports_the_count_as_total_at_the_end(live_hub, sdk):
    items = (i for i in range(77))
    assert list(thereyet.track(items, job="no-len")) == list(range(77))
    assert thereyet.flush(10)

    run = _only_run(live_hub, "no-len")
    assert (run["progress"]["done"], run["progress"]["total"]) == (77, 77)


def test_track_inside_a_run_adds_to_that_runs_progress(live_hub, sdk):
    with thereyet.run("two-loops", total=30) as run:
        for _ in thereyet.track(range(10)):
            pass
        for _ in thereyet.track(range(20)):
            pass
    assert thereyet.flush(10)

    view = live_hub.run(run.id)
    assert view["status"] == "succeeded"
    assert (view["progress"]["done"], view["progress"]["total"]) == (30, 30)


def test_an_exception_in_a_run_fails_it_with_a_short_summary_and_is_raised(live_hub, sdk):
    with pytest.raises(ValueError, match="bad row 7"), thereyet.run("breaks") as run:
        run.advance(6)
        raise ValueError("bad row 7")
    assert thereyet.flush(10)

    view = live_hub.run(run.id)
    assert view["status"] == "failed"
    assert view["error"].startswith("ValueError: bad row 7")
    assert "test_track.py" in view["error"]
    assert view["progress"]["done"] == 6


@pytest.mark.parametrize(("code", "status"), [(3, "failed"), (0, "succeeded")])
def test_system_exit_in_a_run_ends_it_with_that_exit_code(live_hub, sdk, code, status):
    with pytest.raises(SystemExit), thereyet.run("exits") as run:
        raise SystemExit(code)
    assert thereyet.flush(10)

    view = live_hub.run(run.id)
    assert (view["status"], view["exit_code"]) == (status, code)


def test_keyboard_interrupt_in_a_run_cancels_it(live_hub, sdk):
    with pytest.raises(KeyboardInterrupt), thereyet.run("interrupted") as run:
        raise KeyboardInterrupt
    assert thereyet.flush(10)
    assert live_hub.run(run.id)["status"] == "cancelled"


def test_a_run_reports_progress_stats_logs_notes_and_files(live_hub, sdk, tmp_path: Path):
    shot = tmp_path / "screen.png"
    shot.write_bytes(b"\x89PNG fake image")
    with thereyet.run("customer-export", room="migration") as run:
        run.progress(40, 100, unit="rows")
        run.stat("rows_per_s", 1250.5, unit="rows/s")
        run.stat("batch", "two")
        run.log("exported 40 rows")
        run.note("switching to batch 2")
        run.attach(shot)
        run.advance(60)
    assert thereyet.flush(10)

    view = live_hub.run(run.id)
    assert view["status"] == "succeeded"
    assert view["rooms"] == ["migration"]
    assert view["progress"]["done"] == 100
    assert view["stats"] == {"rows_per_s": 1250.5, "batch": "two"}
    assert "exported 40 rows" in view["log_tail"]
    assert [a["name"] for a in view["attachments"]] == ["screen.png"]
    texts = [m["text"] for m in live_hub.messages("migration")]
    assert "switching to batch 2" in texts


def test_the_job_decorator_reports_each_call_as_a_run(live_hub, sdk):
    @thereyet.job("nightly-sum")
    def add(a: int, b: int) -> int:
        thereyet.current_run().advance(a + b)
        return a + b

    @thereyet.job
    def explode() -> None:
        raise RuntimeError("no")

    assert add(2, 3) == 5
    with pytest.raises(RuntimeError):
        explode()
    assert thereyet.flush(10)

    assert _only_run(live_hub, "nightly-sum")["progress"]["done"] == 5
    assert _only_run(live_hub, "explode")["status"] == "failed"


def test_the_room_handler_posts_records_at_or_above_its_level(live_hub, sdk):
    logger = logging.getLogger("tests.sdk.handler")
    logger.propagate = False
    handler = thereyet.RoomHandler("alerts", level=logging.WARNING)
    logger.addHandler(handler)
    try:
        logger.info("quiet")
        logger.error("disk full on db-1")
    finally:
        logger.removeHandler(handler)
    assert thereyet.flush(10)

    texts = [m["text"] for m in live_hub.messages("alerts")]
    assert texts == ["ERROR tests.sdk.handler: disk full on db-1"]


def test_not_configured_the_sdk_does_nothing_after_one_warning(monkeypatch, caplog):
    monkeypatch.setenv("THEREYET_CONFIG", "/nonexistent/thereyet.toml")
    for name in ("THEREYET_URL", "THEREYET_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    state.reset()
    with caplog.at_level(logging.WARNING, logger="thereyet"):
        assert list(thereyet.track(range(5), job="offline")) == [0, 1, 2, 3, 4]
        with thereyet.run("offline") as run:
            run.progress(1, 2)
            run.note("nobody hears this")
        thereyet.say("ops", "hello")
        assert thereyet.flush(1)
    warnings = [r for r in caplog.records if r.name == "thereyet"]
    assert len(warnings) == 1
    assert "not configured" in warnings[0].getMessage()
    state.reset()


def test_configure_refuses_an_unknown_setting_in_the_callers_code():
    with pytest.raises(TypeError, match="urll"):
        thereyet.configure(urll="http://x")
