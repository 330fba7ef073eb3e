"""Web users, passwords and sessions on a real store, with a fake clock."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from thereyet.server.domain.access import Scope
from thereyet.server.domain.people import Role
from thereyet.server.services.errors import (
    Conflict,
    Invalid,
    LoginFailed,
    NotFound,
    TooManyAttempts,
)
from thereyet.server.services.people import SESSION_LIFETIME, PeopleService
from thereyet.server.store.tables import users, web_sessions

PASSWORD = "correct horse battery"


@pytest.fixture
def people(core_hub, hasher) -> PeopleService:
    return PeopleService(core_hub, hasher)


def stored(core_hub, table):
    with core_hub.engines.read.connect() as conn:
        return list(conn.execute(select(table)))


async def test_a_new_user_is_stored_with_an_argon2id_hash_never_the_password(core_hub, people):
    user = await people.create_user("Ada", PASSWORD, "operator")
    assert (user.username, user.role) == ("ada", Role.OPERATOR)
    assert user.principal.scope is Scope.INGEST and user.principal.name == "ada"
    [row] = stored(core_hub, users)
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert people.users()[0] == {
        "id": user.id,
        "username": "ada",
        "role": "operator",
        "created_at": "2026-03-02T09:00:00Z",
        "disabled_at": None,
    }


async def test_bad_usernames_roles_and_passwords_are_refused_naming_the_field(people):
    for args, field in [
        (("no spaces", PASSWORD, "viewer"), "username"),
        (("ada", PASSWORD, "boss"), "role"),
        (("ada", "short", "viewer"), "password"),
    ]:
        with pytest.raises(Invalid) as caught:
            await people.create_user(*args)
        assert caught.value.field == field
    assert people.users() == []


async def test_a_taken_username_is_a_conflict(people):
    await people.create_user("ada", PASSWORD, "viewer")
    with pytest.raises(Conflict) as caught:
        await people.create_user("ADA", "another password", "admin")
    assert caught.value.field == "username"


async def test_login_opens_a_session_whose_cookie_only_the_hash_of_is_stored(core_hub, people):
    await people.create_user("ada", PASSWORD, "admin")
    cookie, session = await people.login("ada", PASSWORD, client="10.0.0.1")
    assert session.user.username == "ada" and session.user.principal.is_admin
    assert session.expires_at == core_hub.clock.now() + SESSION_LIFETIME
    [row] = stored(core_hub, web_sessions)
    assert row.id != cookie and cookie not in row.id and len(row.id) == 64
    found = people.session(cookie)
    assert found is not None and found.user == session.user
    assert found.csrf_ok(session.csrf) and not found.csrf_ok("forged") and not found.csrf_ok(None)
    assert people.session("not-a-cookie") is None and people.session("") is None


async def test_a_wrong_password_and_an_unknown_user_fail_alike_and_both_cost_an_argon2_check(
    people, hasher
):
    await people.create_user("ada", PASSWORD, "viewer")
    with pytest.raises(LoginFailed) as wrong:
        await people.login("ada", "not the password", client="c")
    with pytest.raises(LoginFailed) as unknown:
        await people.login("nobody", PASSWORD, client="c")
    assert wrong.value.message == unknown.value.message
    assert wrong.value.status == unknown.value.status == 401
    assert hasher.verified == 2


async def test_after_five_failures_a_username_backs_off_with_429_doubling_each_time(people, clock):
    await people.create_user("ada", PASSWORD, "viewer")
    for _ in range(5):
        with pytest.raises(LoginFailed):
            await people.login("ada", "guess guess guess", client="10.0.0.1")
    waits = []
    for _ in range(3):
        with pytest.raises(TooManyAttempts) as waiting:
            await people.login("ada", PASSWORD, client="10.0.0.2")
        assert waiting.value.status == 429
        waits.append(waiting.value.retry_after)
        clock.advance(waiting.value.retry_after)
        with pytest.raises(LoginFailed):
            await people.login("ada", "guess guess guess", client="10.0.0.1")
    assert waits == [1, 2, 4]
    with pytest.raises(TooManyAttempts) as waiting:
        await people.login("ada", PASSWORD, client="10.0.0.2")
    clock.advance(waiting.value.retry_after)
    cookie, _ = await people.login("ada", PASSWORD, client="10.0.0.2")
    assert people.session(cookie) is not None


async def test_a_session_ends_after_its_lifetime(people, clock):
    await people.create_user("ada", PASSWORD, "viewer")
    cookie, _ = await people.login("ada", PASSWORD, client="c")
    clock.advance(SESSION_LIFETIME.total_seconds() - 1)
    assert people.session(cookie) is not None
    clock.advance(1)
    assert people.session(cookie) is None


async def test_logout_ends_the_session(people):
    await people.create_user("ada", PASSWORD, "viewer")
    cookie, _ = await people.login("ada", PASSWORD, client="c")
    assert people.session(cookie) is not None
    await people.logout(cookie)
    assert people.session(cookie) is None


async def test_a_disabled_user_loses_their_sessions_and_cannot_log_in(people):
    await people.create_user("ada", PASSWORD, "viewer")
    cookie, _ = await people.login("ada", PASSWORD, client="c")
    await people.disable("ada")
    assert people.session(cookie) is None
    with pytest.raises(LoginFailed):
        await people.login("ada", PASSWORD, client="c")
    assert people.users()[0]["disabled_at"] == "2026-03-02T09:00:00Z"
    with pytest.raises(NotFound):
        await people.disable("nobody")


async def test_a_new_password_replaces_the_old_one_and_ends_sessions(people):
    await people.create_user("ada", PASSWORD, "viewer")
    cookie, _ = await people.login("ada", PASSWORD, client="c")
    await people.set_password("ada", "a brand new secret")
    assert people.session(cookie) is None
    with pytest.raises(LoginFailed):
        await people.login("ada", PASSWORD, client="c")
    await people.login("ada", "a brand new secret", client="c")
    with pytest.raises(Invalid):
        await people.set_password("ada", "short")
    with pytest.raises(NotFound):
        await people.set_password("nobody", "long enough password")


async def test_a_hash_made_with_weaker_parameters_is_upgraded_at_login(core_hub, hasher):
    weak = PeopleService(core_hub, hasher)
    await weak.create_user("ada", PASSWORD, "viewer")
    from argon2 import PasswordHasher

    stronger = PeopleService(core_hub, PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    await stronger.login("ada", PASSWORD, client="c")
    [row] = stored(core_hub, users)
    assert "m=2048,t=2" in row.password_hash
