"""Token scopes and limits (pure)."""

from __future__ import annotations

from thereyet.server.domain.access import Principal, Scope


def ingest(**limits: frozenset[str]) -> Principal:
    return Principal(name="t", scope=Scope.INGEST, **limits)


def test_admin_may_do_anything_and_read_may_only_read():
    admin = Principal(name="a", scope=Scope.ADMIN)
    reader = Principal(name="r", scope=Scope.READ)
    assert admin.may_write_run("x", []) and admin.may_post_in("ops")
    assert not reader.may_write_run("x", []) and not reader.may_post_in("ops")
    assert reader.may_read_run("x", []) and reader.may_read_room("ops")


def test_an_unlimited_ingest_token_reports_and_reads_everything():
    token = ingest()
    assert token.may_write_run("x", ["any"]) and token.may_read_room("ops")


def test_a_room_limited_token_is_confined_to_its_rooms():
    token = ingest(rooms=frozenset({"migration"}))
    assert token.may_write_run("export", ["migration", "other"])
    assert not token.may_write_run("export", ["other"])
    assert not token.may_read_run("export", [])
    assert token.may_post_in("migration") and not token.may_post_in("ops")


def test_a_job_limited_token_reports_its_job_in_any_room_but_posts_nowhere_else():
    token = ingest(jobs=frozenset({"export"}))
    assert token.may_write_run("export", ["anywhere"])
    assert not token.may_write_run("backup", [])
    assert not token.may_post_in("ops")
