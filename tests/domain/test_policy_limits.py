"""The limits a credential names, asked through Principal: written to kill the mutants
that survived scripts/mutation (a run id, a job or a room not passed on, a refusal's
reason), so a slip in any of these fails a test."""

from __future__ import annotations

import pytest

from thereyet.server.domain.access import Principal, Scope, run_start_refusal
from thereyet.server.domain.policy import Action, Credential, Entry, Reach, Resource, reach

RUN_TOKEN = Principal(name="run:r1", scope=Scope.RUN, token_id="t1")
JOB_LIMITED = Principal(name="ci", scope=Scope.INGEST, token_id="t2", jobs=frozenset({"export"}))
ROOM_LIMITED = Principal(
    name="ops-bot", scope=Scope.INGEST, token_id="t3", rooms=frozenset({"ops"})
)
ROOM_SHARE = Principal(
    name="share:s1", scope=Scope.READ, rooms=frozenset({"ops"}), credential=Credential.ROOM_SHARE
)
ADMIN = Principal(name="boss", scope=Scope.ADMIN, token_id="t4")


def test_a_run_token_writes_and_reads_its_own_run_only():
    assert RUN_TOKEN.may_write_run("export", ["ops"], run_id="r1")
    assert not RUN_TOKEN.may_write_run("export", ["ops"], run_id="r2")
    assert not RUN_TOKEN.may_write_run("export", ["ops"])
    assert RUN_TOKEN.may_read_run("export", ["ops"], run_id="r1")
    assert not RUN_TOKEN.may_read_run("export", ["ops"], run_id="r2")


def test_a_job_limited_token_reaches_that_jobs_runs_wherever_they_post():
    assert JOB_LIMITED.may_read_run("export", ["secret"])
    assert JOB_LIMITED.may_write_run("export", ["secret"])
    assert not JOB_LIMITED.may_read_run("import", ["ops"])
    assert not JOB_LIMITED.may_write_run("import", ["ops"])


def test_a_room_limited_token_or_share_reads_only_its_room():
    for who in (ROOM_LIMITED, ROOM_SHARE):
        assert who.may_read_room("ops")
        assert not who.may_read_room("secret")
        assert who.may_read_run("any-job", ["ops", "secret"])
        assert not who.may_read_run("any-job", ["secret"])


def test_an_entry_missing_from_the_policy_reaches_nothing():
    assert reach(Credential.ADMIN, Resource.USERS, Action.READ) is Reach.NONE
    assert reach(Credential.ANYONE, Resource.TOKENS, Action.MANAGE) is Reach.NONE
    assert reach(Credential.ADMIN, Resource.TOKENS, Action.MANAGE) is Reach.ALL


@pytest.mark.parametrize(
    ("who", "job", "job_rooms", "room", "refusal"),
    [
        (ROOM_LIMITED, "new-job", None, "ops", None),
        (ROOM_LIMITED, "new-job", None, "secret", ("room", "may not make job 'new-job'")),
        (ROOM_LIMITED, "new-job", None, None, ("job", "may not make job 'new-job'")),
        (ROOM_LIMITED, "backup", ["secret"], "ops", ("job", "may not start runs of job")),
        (ROOM_LIMITED, "backup", ["ops"], None, None),
        (ROOM_LIMITED, "backup", ["ops"], "ops", None),
        (JOB_LIMITED, "export", ["ops"], "lab", ("room", "only an admin may add room 'lab'")),
        (ADMIN, "export", ["ops"], "lab", None),
        (ADMIN, "new-job", None, None, None),
        (JOB_LIMITED, "export", None, None, None),
        (JOB_LIMITED, "other", None, None, ("job", "may not make job 'other'")),
    ],
)
def test_who_may_start_a_run_of_which_job_in_which_room(who, job, job_rooms, room, refusal):
    found = run_start_refusal(who, job, job_rooms, room)
    if refusal is None:
        assert found is None
    else:
        assert found is not None
        assert found[0] == refusal[0] and refusal[1] in found[1]
        assert who.kind.value in found[1] or found[0] == "room"


def test_a_caller_reaches_an_entry_when_the_policy_gives_it_any_reach_at_all():
    start_runs = Entry(Resource.JOBS, Action.WRITE)
    assert ADMIN.reaches(start_runs)
    assert ROOM_LIMITED.reaches(start_runs)  # limited is still a reach
    assert not ROOM_SHARE.reaches(start_runs)
    assert not RUN_TOKEN.reaches(Entry(Resource.TOKENS, Action.MANAGE))
