"""Roles, name and password rules, and the login throttle (pure, fixed times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from thereyet.server.domain.access import Principal, Scope
from thereyet.server.domain.people import (
    LoginThrottle,
    Role,
    ThrottleLimits,
    password_problem,
    principal_for,
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


def test_five_failures_for_a_username_lock_it_until_the_first_leaves_the_window():
    throttle = LoginThrottle()
    for i in range(5):
        assert throttle.attempt("ada", f"10.0.0.{i}", at(i * 60)) is None
    wait = throttle.attempt("ada", "10.0.0.9", at(300))
    assert wait == 15 * 60 - 300  # the failure at 0 s leaves the window at 900 s
    assert throttle.attempt("bob", "10.0.0.9", at(300)) is None  # others are not locked
    assert throttle.attempt("ADA", "10.0.0.9", at(899)) == 1
    assert throttle.attempt("ada", "10.0.0.9", at(900)) is None


def test_refused_attempts_do_not_extend_the_lockout():
    throttle = LoginThrottle()
    for i in range(5):
        throttle.attempt("ada", "c", at(i))
    for second in range(10, 900, 10):
        assert throttle.attempt("ada", "c", at(second)) is not None
    assert throttle.attempt("ada", "c", at(900)) is None


def test_twenty_failures_from_one_client_lock_that_client_for_every_username():
    throttle = LoginThrottle()
    for i in range(20):
        assert throttle.attempt(f"user{i}", "10.1.1.1", at(i)) is None
    assert throttle.attempt("someone-else", "10.1.1.1", at(30)) == 15 * 60 - 30
    assert throttle.attempt("someone-else", "10.2.2.2", at(30)) is None


def test_a_success_clears_the_usernames_failures_but_not_the_clients_older_ones():
    throttle = LoginThrottle(ThrottleLimits(per_username=3, per_client=4))
    for i in range(3):
        throttle.attempt("ada", "c", at(i))
    assert throttle.attempt("ada", "c", at(3)) is not None
    throttle = LoginThrottle(ThrottleLimits(per_username=3, per_client=4))
    throttle.attempt("ada", "c", at(0))
    throttle.attempt("ada", "c", at(1))
    throttle.attempt("mine", "c", at(2))
    throttle.succeeded("mine", "c", at(2))  # the right password: that attempt is forgiven
    throttle.attempt("ada", "c", at(3))
    assert throttle.attempt("ada", "c", at(4)) is not None  # ada: 3 failures
    assert throttle.attempt("other", "c", at(4)) is None  # client: 3 failures, limit 4
    assert throttle.attempt("other2", "c", at(5)) is not None  # client: now 4


def test_the_throttle_forgets_the_oldest_keys_past_its_memory_bound():
    throttle = LoginThrottle(ThrottleLimits(per_username=1, max_keys=4))
    for i in range(10):
        throttle.attempt(f"user{i}", "c", at(0))
    assert throttle.attempt("user0", "d", at(1)) is None  # forgotten
    assert throttle.attempt("user9", "d", at(1)) is not None  # remembered
