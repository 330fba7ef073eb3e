"""The rules by which a claim ends with its holder, with the fake clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from thereyet.server import faults
from thereyet.server.clock import FakeClock
from thereyet.server.domain import leases


def test_a_node_name_is_unique_per_process_and_per_start():
    clock = FakeClock()
    first = leases.node_name("web-1", 4242, clock.now())
    assert first.startswith("web-1-4242-")
    assert leases.node_name("web-1", 4243, clock.now()) != first
    assert leases.node_name("web-1", 4242, clock.advance(0.001)) != first


def test_a_lease_is_short_and_a_node_is_dead_after_its_heartbeat_lapsed():
    clock = FakeClock()
    beat = clock.now()
    assert (leases.lease_until(beat) - beat).total_seconds() == leases.LEASE_SECONDS <= 60
    clock.advance(leases.LAPSE_SECONDS)
    assert not leases.is_lapsed(beat, clock.now())
    clock.advance(0.001)
    assert leases.is_lapsed(beat, clock.now())


def test_a_heartbeat_is_due_every_few_seconds_and_at_once_when_the_clock_steps_back():
    clock = FakeClock()
    last = clock.now()
    assert leases.beat_due(None, last)
    clock.advance(leases.HEARTBEAT_SECONDS - 0.1)
    assert not leases.beat_due(last, clock.now())
    clock.advance(0.1)
    assert leases.beat_due(last, clock.now())
    assert leases.beat_due(last, datetime(2026, 1, 1, tzinfo=UTC))
    # Several heartbeats fit in a lapse, so one slow beat does not make a node dead.
    assert leases.LAPSE_SECONDS >= 3 * leases.HEARTBEAT_SECONDS


def test_fault_points_are_armed_by_name_and_visit_and_a_typo_is_refused():
    assert faults.parse("") == {}
    assert faults.parse("dispatcher.after_claim, escalator.after_claim@2") == {
        "dispatcher.after_claim": 1,
        "escalator.after_claim": 2,
    }
    with pytest.raises(ValueError, match=r"dispatcher\.after_clam"):
        faults.parse("dispatcher.after_clam")


def test_pause_points_are_armed_by_name_subject_and_visit_and_a_typo_is_refused():
    assert faults.parse_pauses("") == {}
    assert faults.parse_pauses("agents.before_claim=nightly@2") == {
        "agents.before_claim": ("nightly", 2)
    }
    assert faults.parse_pauses("agents.before_claim") == {"agents.before_claim": (None, 1)}
    with pytest.raises(ValueError, match=r"agents\.before_clam"):
        faults.parse_pauses("agents.before_clam")
