"""The pure rules of agents: targets as declared, who takes which run, when to retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from thereyet.server.domain.access import Principal, Scope, agent_name_refusal
from thereyet.server.domain.agents import (
    AgentLoad,
    TargetError,
    Waiting,
    assign,
    group_rollup,
    parse_target,
    poll_wait,
    retry_due,
    why_waiting,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def waiting(run_id: str, job: str = "job", bound: str | None = None, **target: object) -> Waiting:
    return Waiting(run_id, job, parse_target({"command": ["true"], **target}), bound)


def agent(name: str, tags: str = "", slots: int = 1, busy: int = 0, **ran: datetime) -> AgentLoad:
    return AgentLoad(name, frozenset(t for t in tags.split(",") if t), slots, busy, ran)


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        ({"command": []}, "target.command", "must name the program to run"),
        ({"command": "ls"}, "target.command", "must be a list of strings"),
        ({"command": ["a", "b"], "shell": True}, "target.command", "with shell = true"),
        ({"command": ["ls"], "cwd": "tmp"}, "target.cwd", "must be an absolute path"),
        ({"command": ["ls"], "policy": "most"}, "target.policy", "must be 'one', 'spread'"),
        ({"command": ["ls"], "tags": ["Big Tag"]}, "target.tags", "is not a tag"),
        ({"command": ["ls"], "env": {"THEREYET_TOKEN": "x"}}, "target.env", "not a variable"),
        ({"command": ["ls"], "retries": 21}, "target.retries", "from 0 to 20"),
        ({"command": ["ls"], "time_limit": 0}, "target.time_limit", "from 1 to"),
        ({"command": ["ls\x00"]}, "target.command", "no NUL"),
    ],
)
def test_a_bad_target_is_refused_naming_its_field(raw, field, reason):
    with pytest.raises(TargetError) as caught:
        parse_target(raw)
    assert caught.value.field == field and reason in str(caught.value)


def test_a_run_goes_only_to_an_agent_with_every_tag():
    agents = [agent("a1", "linux"), agent("a2", "linux,db"), agent("a3", "db")]
    assert [
        (w.run_id, a) for w, a in assign([waiting("r1", tags=["linux", "db"])], agents, {}, NOW)
    ] == [("r1", "a2")]


def test_a_run_by_name_goes_to_that_agent_only():
    agents = [agent("a1"), agent("db-2")]
    assert [a for _, a in assign([waiting("r1", agent="db-2")], agents, {}, NOW)] == ["db-2"]


def test_one_picks_the_least_loaded_agent_then_the_one_idle_longest():
    earlier = NOW - timedelta(minutes=5)
    agents = [
        agent("a1", slots=4, busy=2),
        agent("a2", slots=4, busy=1, job=NOW),
        agent("a3", slots=4, busy=1, job=earlier),
    ]
    assert [a for _, a in assign([waiting("r1")], agents, {}, NOW)] == ["a3"]


def test_spread_picks_the_agent_that_ran_the_job_longest_ago_whatever_its_load():
    agents = [agent("a1", slots=4, busy=0, job=NOW), agent("a2", slots=4, busy=3)]
    assert [a for _, a in assign([waiting("r1", policy="spread")], agents, {}, NOW)] == ["a2"]


def test_no_agent_is_given_more_runs_than_its_slots_and_the_rest_wait():
    agents = [agent("a1", slots=2)]
    queue = [waiting("r1"), waiting("r2"), waiting("r3")]
    assert [w.run_id for w, _ in assign(queue, agents, {}, NOW)] == ["r1", "r2"]
    assert why_waiting(queue[2], agents, 0) == "every matching agent is busy"


def test_a_job_at_its_concurrency_limit_waits_while_others_go():
    agents = [agent("a1", slots=5)]
    queue = [waiting("r1", "export", concurrency=1), waiting("r2", "other")]
    assert [w.run_id for w, _ in assign(queue, agents, {"export": 1}, NOW)] == ["r2"]
    assert why_waiting(queue[0], agents, 1) == "the job runs at most 1 at once"


def test_a_run_made_for_one_agent_waits_for_that_agent():
    agents = [agent("a1", "web"), agent("a2", "web", busy=1)]
    assert assign([waiting("r1", bound="a2", tags=["web"])], agents, {}, NOW) == []
    assert why_waiting(waiting("r1", bound="a2"), agents, 0) == "waiting for agent a2"


def test_a_run_no_agent_matches_says_which_tags_it_wants():
    assert why_waiting(waiting("r1", tags=["gpu", "linux"]), [agent("a1")], 0) == (
        "no agent matches tags gpu, linux"
    )


def test_a_lost_run_is_retried_after_the_delay_until_the_retries_are_used():
    target = parse_target({"command": ["true"], "retries": 2, "retry_delay": 30})
    assert retry_due(target, 1, NOW) == NOW + timedelta(seconds=30)
    assert retry_due(target, 2, NOW) == NOW + timedelta(seconds=30)
    assert retry_due(target, 3, NOW) is None


def test_a_poll_waits_at_most_a_third_of_the_time_an_agent_is_lost_after():
    assert poll_wait(60, 30) == 8  # and never more than 8 s
    assert poll_wait(60, 15) == 5
    assert poll_wait(2, 30) == 2
    assert poll_wait(-1, 30) == 0


def test_a_run_on_every_agent_rolls_up_into_one_line_naming_those_that_did_not_succeed():
    outcomes = [("web-1", "succeeded"), ("web-3", "failed"), ("web-2", "succeeded")]
    assert (
        group_rollup("deploy", outcomes) == "**deploy** on 3 agents: 2 succeeded, 1 failed (web-3)"
    )


def test_an_agent_name_belongs_to_the_credential_that_registered_it_while_free():
    fleet = Principal("fleet", Scope.AGENT, token_id="f1")
    host = Principal("db-2 only", Scope.AGENT, token_id="h1", agent="db-2")

    def kind(who, name, holder, registering=True):
        refused = agent_name_refusal(who, name, holder, registering=registering)
        return None if refused is None else (refused.kind, refused.field)

    assert kind(fleet, "web-1", None) is None  # free: it takes it
    assert kind(fleet, "web-1", None, registering=False) == ("unregistered", "name")
    assert kind(fleet, "web-1", "token:f1", registering=False) is None
    assert kind(fleet, "web-1", "token:h1") == ("taken", "name")
    assert kind(host, "db-2", None) is None
    assert kind(host, "db-3", None) == ("forbidden", "name")
    assert kind(host, "db-3", "token:h1") == ("forbidden", "name")
    assert kind(host, "db-2", "token:f1") == ("taken", "name")
