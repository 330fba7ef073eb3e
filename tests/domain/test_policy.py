"""The access policy as data, and the rules that read it (pure)."""

from __future__ import annotations

import pytest

from thereyet.server.domain.access import Principal, Scope, run_start_refusal
from thereyet.server.domain.policy import (
    LIMITS,
    POLICY,
    Action,
    Credential,
    Reach,
    Resource,
    policy_table,
    reach,
)

ADMIN = Principal(name="root", scope=Scope.ADMIN)
OPS = Principal(name="ci", scope=Scope.INGEST, token_id="t1", rooms=frozenset({"ops"}))
ANY_INGEST = Principal(name="ci", scope=Scope.INGEST, token_id="t2")
RUN = Principal(name="run:r1", scope=Scope.RUN, token_id="r")
ROOM_SHARE = Principal(
    name="share:s1", scope=Scope.READ, rooms=frozenset({"ops"}), credential=Credential.ROOM_SHARE
)


def test_every_resource_has_an_entry_and_every_limited_kind_says_what_it_names():
    assert {entry.resource for entry in POLICY} == set(Resource)
    limited = {k for grants in POLICY.values() for k, r in grants.items() if r is Reach.LIMITED}
    assert limited <= set(LIMITS)


def test_what_is_not_listed_is_refused():
    assert reach(Credential.ROOM_SHARE, Resource.INCIDENTS, Action.READ) is Reach.NONE
    assert reach(Credential.ANYONE, Resource.RUNS, Action.READ) is Reach.NONE
    assert reach(Credential.VIEWER, Resource.PING_URLS, Action.READ) is Reach.NONE


def test_a_ping_url_reaches_only_those_who_may_write_the_job():
    readers = {c for c in Credential if reach(c, Resource.PING_URLS, Action.READ) is not Reach.NONE}
    assert readers == {Credential.ADMIN, Credential.OPERATOR, Credential.INGEST_TOKEN}


def test_limited_means_inside_what_the_credential_names():
    assert OPS.may(Resource.INCIDENTS, Action.WRITE, rooms=["ops"])
    assert not OPS.may(Resource.INCIDENTS, Action.WRITE, rooms=["secret"])
    assert ANY_INGEST.may(Resource.INCIDENTS, Action.WRITE, rooms=["secret"])
    assert RUN.may(Resource.RUNS, Action.WRITE, run_id="r1")
    assert not RUN.may(Resource.RUNS, Action.WRITE, run_id="r2")
    assert ROOM_SHARE.may(Resource.ROOMS, Action.READ, rooms=["ops"])
    assert not ROOM_SHARE.may(Resource.ROOMS, Action.WRITE, rooms=["ops"])


def test_principals_are_told_apart_by_id_not_by_name():
    user = Principal(name="ana", scope=Scope.INGEST, credential=Credential.OPERATOR, user_id=7)
    token = Principal(name="ana", scope=Scope.INGEST, token_id="abc")
    assert (user.id, token.id) == ("user:7", "token:abc")
    assert user.is_user and not token.is_user


@pytest.mark.parametrize(
    ("who", "job_rooms", "room", "refused"),
    [
        (OPS, ["secret"], "ops", ("job", "may not start runs of job")),  # finding 1
        (OPS, ["ops"], None, None),
        (OPS, ["ops"], "data", ("room", "only an admin may add room")),
        (OPS, None, "ops", None),  # a new job in its room
        (OPS, None, "billing", ("room", "may not make job")),
        (OPS, None, None, ("job", "may not make job")),
        (ANY_INGEST, ["ops"], "data", ("room", "only an admin may add room")),
        (ANY_INGEST, None, "data", None),
        (ADMIN, ["ops"], "data", None),
        (RUN, ["ops"], None, ("job", "may not start runs")),
    ],
)
def test_who_may_start_a_run_of_a_job(who, job_rooms, room, refused):
    found = run_start_refusal(who, "backup", job_rooms, room)
    if refused is None:
        assert found is None
    else:
        assert found is not None and found[0] == refused[0] and refused[1] in found[1]


def test_the_table_has_a_row_per_entry_and_a_column_per_kind():
    lines = policy_table().splitlines()
    assert lines[0].count("|") == len(Credential) + 2
    assert sum(line.startswith("| ") for line in lines) == len(POLICY) + 2
