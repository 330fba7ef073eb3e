"""The monitor's pure rules, with hand-built state and fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from thereyet.server.domain.monitoring import (
    JobWatch,
    Limits,
    RunWatch,
    ScheduleState,
    Transition,
    job_change,
    run_change,
    transition_card,
)
from thereyet.server.domain.runs import RunStatus
from thereyet.server.domain.schedules import parse_schedule

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
HOURLY = parse_schedule("0 * * * *")


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def watch(state: ScheduleState = ScheduleState.OK, **limits: float) -> JobWatch:
    return JobWatch("backup", HOURLY, Limits(**limits), T0, state)


def test_a_job_within_its_grace_is_not_late():
    assert job_change(later(299), watch(grace=300)) is None


def test_a_job_not_started_by_due_plus_grace_is_late_then_missed_at_the_next_occurrence():
    late = job_change(later(300), watch(grace=300))
    assert late is not None
    assert late.transitions == (Transition.LATE,)
    assert (late.new_state, late.new_due_at, late.new_alert_at) == (
        ScheduleState.LATE,
        T0,
        later(3600),
    )
    assert job_change(later(3599), watch(ScheduleState.LATE, grace=300)) is None
    missed = job_change(later(3600), watch(ScheduleState.LATE, grace=300))
    assert missed is not None
    assert missed.transitions == (Transition.MISSED,)
    # The 04:00 occurrence is open now: the hub waits for it next.
    assert (missed.new_state, missed.new_due_at) == (ScheduleState.MISSED, later(3600))
    assert missed.new_alert_at == later(7200)


def test_a_start_deadline_shorter_than_the_period_says_missed_earlier():
    change = job_change(later(900), watch(ScheduleState.LATE, grace=60, start_deadline=900))
    assert change is not None and change.transitions == (Transition.MISSED,)
    assert change.new_due_at == later(3600)


def test_a_job_that_stays_down_is_said_missed_once():
    again = job_change(
        later(7200), JobWatch("backup", HOURLY, Limits(), later(3600), ScheduleState.MISSED)
    )
    assert again is not None
    assert again.transitions == ()
    assert again.new_due_at == later(7200)


def run(**values) -> RunWatch:
    base = {
        "run_id": "r1",
        "job": "export",
        "status": RunStatus.RUNNING,
        "created_at": T0,
        "started_at": T0,
        "heartbeat_at": T0,
        "limits": Limits(),
    }
    return RunWatch(**{**base, **values})


def test_no_progress_for_stall_after_is_stalled_and_progress_again_recovers():
    limits = Limits(stall_after=600)
    assert run_change(later(599), run(limits=limits, progress_at=later(0))) is None
    stalled = run_change(later(600), run(limits=limits, progress_at=later(0)))
    assert stalled is not None
    assert (stalled.transitions, stalled.flags) == (
        (Transition.STALLED,),
        {"stalled_at": later(600)},
    )
    assert (
        run_change(later(700), run(limits=limits, progress_at=later(0), stalled_at=later(600)))
        is None
    )
    back = run_change(later(710), run(limits=limits, progress_at=later(705), stalled_at=later(600)))
    assert back is not None
    assert (back.transitions, back.flags) == ((Transition.RECOVERED,), {"stalled_at": None})


def test_running_past_max_duration_is_overdue_once():
    limits = Limits(max_duration=3600)
    overdue = run_change(later(3600), run(limits=limits))
    assert overdue is not None and overdue.transitions == (Transition.OVERDUE,)
    assert run_change(later(4000), run(limits=limits, overdue_at=later(3600))) is None


def test_no_word_for_lost_after_is_lost():
    limits = Limits(lost_after=120)
    assert run_change(later(119), run(limits=limits, heartbeat_at=later(0))) is None
    lost = run_change(later(150), run(limits=limits, heartbeat_at=later(30)))
    assert lost is not None and lost.transitions == (Transition.LOST,)


def test_a_queued_scheduled_run_is_late_after_grace_and_missed_at_the_next_occurrence():
    queued = {"status": RunStatus.QUEUED, "started_at": None, "due_at": T0, "schedule": HOURLY}
    limits = Limits(grace=120)
    assert run_change(later(119), run(limits=limits, **queued)) is None
    late = run_change(later(120), run(limits=limits, **queued))
    assert late is not None and late.transitions == (Transition.LATE,)
    missed = run_change(later(3600), run(limits=limits, late_at=later(120), **queued))
    assert missed is not None and missed.transitions == (Transition.MISSED,)


def test_cards_say_what_happened_in_the_room():
    limits = Limits(max_duration=3600)
    assert transition_card("backup", Transition.LATE, now=later(300), due_at=T0) == (
        "**backup** is late: it was due at 03:00 UTC and has not started"
    )
    assert transition_card("backup", Transition.MISSED, now=later(86400 * 2), due_at=T0) == (
        "**backup** missed its run due at 2026-03-02 03:00 UTC"
    )
    assert transition_card("a_b", Transition.OVERDUE, now=later(1), limits=limits) == (
        "**a\\_b** is overdue: running longer than its limit of 1h"
    )
    assert transition_card("x", Transition.STALLED, now=later(600), since=T0) == (
        "**x** is stalled: no progress for 10m"
    )
