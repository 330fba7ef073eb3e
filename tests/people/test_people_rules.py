"""Roles, name and password rules, and the login back-off (pure, fixed times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from thereyet.server.domain.access import Principal, Scope
from thereyet.server.domain.people import (
    PER_CLIENT,
    PER_USERNAME,
    BackoffLimits,
    Failures,
    Role,
    client_key,
    login_wait,
    password_problem,
    principal_for,
    user_key,
    username_problem,
)
from thereyet.server.domain.policy import Credential

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "role,scope,kind",
    [
        ("viewer", Scope.READ, Credential.VIEWER),
        ("operator", Scope.INGEST, Credential.OPERATOR),
        ("admin", Scope.ADMIN, Credential.ADMIN),
    ],
)
def test_each_role_acts_as_a_principal_of_its_scope(role, scope, kind):
    principal = principal_for("ada", Role(role), user_id=3)
    assert principal == Principal(name="ada", scope=scope, credential=kind, user_id=3)
    assert principal.reads_everything and principal.id == "user:3"


def test_an_operator_reports_and_posts_anywhere_but_a_viewer_only_reads():
    operator, viewer = principal_for("op", Role.OPERATOR), principal_for("v", Role.VIEWER)
    assert operator.may_post_in("ops") and operator.may_write_run("export", [])
    assert not viewer.may_post_in("ops") and viewer.may_read_room("ops")


@pytest.mark.parametrize("name", ["ada", "ada.lovelace", "ops-bot_2", "ada@example.org"])
def test_usernames_that_are_accepted(name):
    assert username_problem(name) is None


@pytest.mark.parametrize("name", ["", "Ada", " ada", "-ada", "a" * 65, "ada lovelace", "ada/x"])
def test_usernames_that_are_refused_say_the_rule(name):
    assert "username must be" in (username_problem(name) or "")


def test_a_password_shorter_than_ten_characters_is_refused_with_the_reason():
    problem = password_problem("123456789")
    assert problem is not None and "at least 10" in problem and "length" in problem
    assert password_problem("correct horse") is None


def test_a_password_that_is_blank_too_long_or_the_username_is_refused():
    assert password_problem(" " * 12) is not None
    assert password_problem("x" * 1025) is not None
    assert password_problem("Ada.Lovelace", "ada.lovelace") is not None


def test_five_failures_for_a_username_are_free_then_each_waits_twice_as_long():
    limits = BackoffLimits(free=5)
    assert login_wait(Failures(4, at(0)), limits, at(0)) == 0.0
    assert login_wait(Failures(5, at(0)), limits, at(0)) == 1.0
    assert login_wait(Failures(6, at(0)), limits, at(0)) == 2.0
    assert login_wait(Failures(9, at(0)), limits, at(10)) == 6.0  # 16 s after the last
    assert login_wait(Failures(9, at(0)), limits, at(16)) == 0.0


def test_the_wait_never_passes_the_longest_and_old_failures_are_forgotten():
    limits = BackoffLimits(free=5, longest=900.0, forget_after=timedelta(hours=1))
    assert login_wait(Failures(500, at(0)), limits, at(0)) == 900.0
    assert login_wait(Failures(500, at(0)), limits, at(3600)) == 0.0


def test_an_address_gets_more_free_tries_and_a_short_longest_wait_than_a_username():
    """Behind one NAT, a guesser slows its neighbours for a minute at most: no lock-out."""
    assert PER_CLIENT.free > PER_USERNAME.free
    assert login_wait(Failures(10_000, at(0)), PER_CLIENT, at(0)) == 60.0
    assert login_wait(Failures(19, at(0)), PER_CLIENT, at(0)) == 0.0


def test_keys_are_case_blind_for_usernames_and_separate_per_kind():
    assert user_key(" Ada ") == user_key("ada") != client_key("ada")
