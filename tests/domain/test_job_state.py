"""The one word the jobs page shows for a job's state."""

from __future__ import annotations

import pytest

from thereyet.server.domain.job_state import JobState, job_state


@pytest.mark.parametrize(
    ("latest", "schedule", "expected"),
    [
        (None, None, JobState.NEW),
        ("succeeded", None, JobState.OK),
        ("cancelled", "ok", JobState.OK),
        ("failed", None, JobState.FAILED),
        ("lost", "ok", JobState.LOST),
        ("running", "late", JobState.RUNNING),  # started: the schedule is being met
        ("queued", None, JobState.RUNNING),
        ("succeeded", "late", JobState.LATE),  # a routine that did not start comes first
        ("failed", "missed", JobState.MISSED),
        (None, "missed", JobState.MISSED),
    ],
)
def test_a_jobs_state_reads_its_latest_run_then_its_schedule(latest, schedule, expected):
    assert job_state(latest, schedule) is expected


def test_only_failed_lost_late_and_missed_jobs_need_attention():
    assert {s for s in JobState if s.attention} == {
        JobState.FAILED,
        JobState.LOST,
        JobState.LATE,
        JobState.MISSED,
    }
