"""Runs and their estimators in the hub's domain: fed, copied, scored, summed up."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from thereyet.eta import Estimator
from thereyet.server.domain.eta import eta_accuracy, run_estimate, score_run
from thereyet.server.domain.events import Progress, apply_events
from thereyet.server.domain.runs import Run, RunStatus

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def running(total: float = 1000.0, history: tuple[float, ...] = ()) -> Run:
    run = Run(id="r1", job="export", status=RunStatus.RUNNING, created_at=T0, started_at=T0)
    run.total, run.eta = total, Estimator(total, history)
    return run


def report(run: Run, seconds: float, done: float, *, stamped: float | None = None) -> None:
    ts = at(seconds if stamped is None else stamped)
    apply_events(run, [Progress(id=f"p{seconds}", ts=ts, done=done)], at(seconds))


def test_progress_feeds_a_new_estimator_and_leaves_the_kept_one_alone() -> None:
    kept = running()
    for second in range(0, 40, 2):
        report(kept, second, second * 5.0)
    copy = dataclasses.replace(kept)
    report(copy, 50.0, 250.0)
    assert copy.eta is not kept.eta
    assert kept.eta is not None and kept.eta.last == (38.0, 190.0)
    estimate = run_estimate(copy, at(50), [])
    assert estimate.seconds == pytest.approx(150.0, rel=0.02)


def test_reports_stamped_before_the_start_still_give_a_rate() -> None:
    run = running()
    for second in range(0, 40, 2):  # the client's clock is 10 s behind the hub's
        report(run, second, second * 5.0, stamped=second - 10.0)
    estimate = run_estimate(run, at(38), [])
    assert estimate.basis == "rate"
    # 810 units left at 5 a second, less the 10 s the hub has seen since the last
    # report's stamp (within the grace, so counted as work going on).
    assert estimate.seconds == pytest.approx(152.0, rel=0.02)


def test_a_run_without_an_estimator_gets_one_from_its_figures_and_the_history() -> None:
    run = running()
    run.eta = None
    assert run_estimate(run, at(100), [600.0, 600.0, 600.0]).seconds == pytest.approx(500.0)
    run.done, run.progress_at = 100.0, at(90)
    assert run_estimate(run, at(100), []).basis == "none"


def test_an_estimator_made_without_history_takes_the_jobs_history_of_now() -> None:
    run = running()
    assert run_estimate(run, at(120), [600.0, 610.0]).seconds == pytest.approx(485.0)


def test_a_succeeded_run_is_scored_and_the_jobs_accuracy_sums_its_runs_up() -> None:
    runs = []
    for seconds in (200.0, 220.0):
        run = running(history=(200.0, 210.0))
        step = seconds / 40
        for i in range(41):
            report(run, i * step, i * 25.0)
        run.finished_at = at(seconds)
        score_run(run)
        runs.append(run)
    unfinished = running()
    report(unfinished, 0.0, 0.0)
    report(unfinished, 100.0, 600.0)
    accuracy = eta_accuracy([r.eta for r in [*runs, unfinished] if r.eta is not None])
    assert accuracy.runs == 2
    assert set(accuracy.by_checkpoint) == {0.25, 0.5, 0.75}
    assert accuracy.error is not None and accuracy.error < 0.1
    assert accuracy.held is not None and accuracy.held >= 0.5


def test_a_job_without_scored_runs_has_no_accuracy() -> None:
    accuracy = eta_accuracy([Estimator(10.0)])
    assert (accuracy.runs, accuracy.error, accuracy.by_checkpoint, accuracy.held) == (
        0,
        None,
        {},
        None,
    )
