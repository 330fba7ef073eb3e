"""How a batch of reports changes a run (pure: no store, no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from thereyet.server.domain.events import Heartbeat, Log, Note, Progress, Stat, apply_events
from thereyet.server.domain.runs import (
    LOG_TAIL_LINES,
    Run,
    RunStatus,
    TransitionError,
    append_log,
    can_move,
    check_move,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def new_run(status: RunStatus = RunStatus.RUNNING) -> Run:
    started = T0 if status is RunStatus.RUNNING else None
    return Run(id="r1", job="export", status=status, created_at=T0, started_at=started)


def test_finished_runs_cannot_move_and_lost_runs_can_come_back():
    for finished in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED):
        for target in RunStatus:
            assert not can_move(finished, target)
    assert can_move(RunStatus.LOST, RunStatus.RUNNING)
    assert can_move(RunStatus.RUNNING, RunStatus.LOST)
    assert not can_move(RunStatus.QUEUED, RunStatus.LOST)
    try:
        check_move(RunStatus.SUCCEEDED, RunStatus.FAILED)
    except TransitionError as exc:
        assert str(exc) == "run is already succeeded; it cannot become failed"
    else:
        raise AssertionError("finishing a finished run must be refused")


def test_a_queued_run_starts_at_its_first_event():
    run = new_run(RunStatus.QUEUED)
    applied = apply_events(run, [Heartbeat("h", at(3))], now=at(4))
    assert applied.started and not applied.resumed
    assert (run.status, run.started_at, run.heartbeat_at) == (RunStatus.RUNNING, at(3), at(4))


def test_a_lost_run_that_speaks_again_is_running():
    run = new_run(RunStatus.LOST)
    applied = apply_events(run, [Log("l", at(9), "still here")], now=at(10))
    assert applied.resumed and run.status is RunStatus.RUNNING


def test_events_apply_in_time_order_whatever_order_they_arrive_in():
    run = new_run()
    apply_events(
        run,
        [
            Progress("b", at(20), 200, 1000, "rows"),
            Progress("a", at(10), 100, 1000, "rows"),
            Log("l2", at(15), "second"),
            Log("l1", at(5), "first"),
        ],
        now=at(30),
    )
    assert run.done == 200 and run.total == 1000 and run.unit == "rows"
    assert run.progress_at == at(20)
    assert run.rate is not None and abs(run.rate - 10.0) < 1e-9
    assert run.log_tail == ["first", "second"]


def test_an_older_progress_sample_than_the_last_changes_nothing():
    run = new_run()
    apply_events(run, [Progress("a", at(10), 500)], now=at(10))
    apply_events(run, [Progress("b", at(5), 100)], now=at(11))
    assert (run.done, run.progress_at) == (500, at(10))


def test_a_progress_time_in_the_future_is_taken_as_now():
    run = new_run()
    apply_events(run, [Progress("a", at(3600), 5)], now=at(1))
    assert run.progress_at == at(1)


def test_stats_keep_the_latest_value_and_notes_are_handed_back():
    run = new_run()
    applied = apply_events(
        run,
        [
            Stat("s1", at(1), "errors", 1),
            Stat("s2", at(2), "errors", 4),
            Note("n", at(3), "switching to batch 2"),
        ],
        now=at(3),
    )
    assert run.stats == {"errors": 4}
    assert [n.text for n in applied.notes] == ["switching to batch 2"]


def test_a_finished_run_keeps_its_status_but_takes_late_logs():
    run = new_run(RunStatus.SUCCEEDED)
    applied = apply_events(run, [Log("late", at(1), "flushed at exit")], now=at(2))
    assert run.status is RunStatus.SUCCEEDED and not applied.started
    assert run.log_tail == ["flushed at exit"]


def test_the_log_tail_is_bounded_in_lines_and_characters():
    tail = append_log([], [f"line {i}" for i in range(LOG_TAIL_LINES + 50)])
    assert len(tail) == LOG_TAIL_LINES and tail[-1] == f"line {LOG_TAIL_LINES + 49}"
    huge = append_log(["keep?"], ["x" * 40_000, "y" * 40_000])
    assert huge == ["y" * 40_000]
