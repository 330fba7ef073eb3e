"""Escalation timing, repeat and stop, with fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from thereyet.server.domain.incidents import (
    EscalationError,
    IncidentStatus,
    Policy,
    Step,
    Target,
    calc,
    link_is_valid,
    link_signature,
    transition,
)

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
PRIMARY = Step((Target("rotation", "ops"),), 10)
MANAGER = Step((Target("person", "boss"),), 20)


def policy(repeat: int = 0) -> Policy:
    return Policy("default", (PRIMARY, MANAGER), repeat)


def test_the_first_step_is_paged_at_the_trigger():
    step = calc(policy(), IncidentStatus.TRIGGERED, T0, -1, T0)
    assert step.page == (0,)
    assert step.next_at == T0 + timedelta(minutes=10)


def test_the_second_step_waits_for_the_first_steps_delay():
    assert calc(policy(), IncidentStatus.TRIGGERED, T0, 0, T0 + timedelta(minutes=9)).page == ()
    step = calc(policy(), IncidentStatus.TRIGGERED, T0, 0, T0 + timedelta(minutes=10))
    assert step.page == (1,)
    assert step.next_at is None  # no repeat: the last step was paged


def test_repeat_starts_over_after_the_last_steps_delay():
    step = calc(policy(repeat=1), IncidentStatus.TRIGGERED, T0, 1, T0 + timedelta(minutes=30))
    assert step.page == (2,)  # step 0 of round 1
    assert step.next_at == T0 + timedelta(minutes=40)
    last = calc(policy(repeat=1), IncidentStatus.TRIGGERED, T0, 2, T0 + timedelta(minutes=40))
    assert last.page == (3,) and last.next_at is None


def test_a_late_look_pages_every_step_it_missed_once():
    step = calc(policy(repeat=1), IncidentStatus.TRIGGERED, T0, 0, T0 + timedelta(hours=5))
    assert step.page == (1, 2, 3)


@pytest.mark.parametrize("status", [IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED])
def test_acknowledged_or_resolved_incidents_do_not_escalate(status):
    step = calc(policy(), status, T0, 0, T0 + timedelta(hours=1))
    assert step.page == () and step.next_at is None


def test_status_transitions():
    assert transition(IncidentStatus.TRIGGERED, "acknowledge") is IncidentStatus.ACKNOWLEDGED
    assert transition(IncidentStatus.ACKNOWLEDGED, "acknowledge") is None
    assert transition(IncidentStatus.ACKNOWLEDGED, "resolve") is IncidentStatus.RESOLVED
    assert transition(IncidentStatus.RESOLVED, "resolve") is None


def test_a_policy_without_targets_names_the_step():
    with pytest.raises(EscalationError) as caught:
        Policy("p", (Step((), 5),)).check()
    assert caught.value.field == "steps.0.targets"


def test_signed_links_expire_and_cannot_be_forged():
    secret = b"k" * 32
    expires = int((T0 + timedelta(hours=1)).timestamp())
    sig = link_signature(secret, 7, "acknowledge", "ana", expires)
    assert link_is_valid(secret, 7, "acknowledge", "ana", expires, sig, T0)
    assert not link_is_valid(secret, 7, "resolve", "ana", expires, sig, T0)
    assert not link_is_valid(secret, 8, "acknowledge", "ana", expires, sig, T0)
    assert not link_is_valid(b"x" * 32, 7, "acknowledge", "ana", expires, sig, T0)
    assert not link_is_valid(secret, 7, "acknowledge", "ana", expires, sig, T0 + timedelta(hours=2))
