"""Agents: processes on servers that run a job's declared command for the hub.

A job whose target is `agent` names the command (an argument list; a shell only
when the job says `shell = true`), where it may run (an agent by name, or every
tag of a list) and how: `one` matching agent (the least loaded), `spread`
(the matching agent that ran this job least recently) or `all` (one run on each
matching agent). Concurrency, retries and a time limit complete it.

Everything here is pure: the service loads agents and queued work, asks these
rules which agent takes which run, and writes the answer with conditional
UPDATEs (so two hub nodes never hand one run to two agents).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

POLICIES = ("one", "spread", "all")
MAX_ARGS = 256
MAX_ARG_CHARS = 4096
MAX_ENV = 100
MAX_TAGS = 20
MAX_SLOTS = 1000
MAX_RETRIES = 20
LOST_AFTER_SECONDS = 30.0  # an agent silent this long is lost (its poll waits at most a third)
CANCEL_GRACE_SECONDS = 10.0  # SIGTERM, then SIGKILL this long after
# The longest a poll waits for work: HTTP clients and proxies commonly give up on an
# answer after 10 s or more, so an idle agent's poll ends before that.
MAX_POLL_SECONDS = 8.0
_TAG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
RESERVED_ENV = frozenset({"THEREYET_URL", "THEREYET_TOKEN", "THEREYET_RUN_ID"})


class TargetError(ValueError):
    """An agent target that cannot be used; `field` names the part (target.command...)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = f"target.{field}"


@dataclass(frozen=True)
class AgentTarget:
    """What a job declares about the command agents run for it."""

    command: tuple[str, ...]
    shell: bool = False
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    agent: str | None = None  # one agent by name
    tags: frozenset[str] = frozenset()  # every one must match
    policy: str = "one"
    concurrency: int | None = None  # runs of the job at once, over all agents
    retries: int = 0  # new attempts after a run is lost with its agent
    retry_delay: float = 0.0  # seconds before such an attempt may start
    time_limit: float | None = None  # seconds; then SIGTERM, and SIGKILL after a grace

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "agent",
            "command": list(self.command),
            "shell": self.shell,
            "cwd": self.cwd,
            "env": dict(self.env),
            "agent": self.agent,
            "tags": sorted(self.tags),
            "policy": self.policy,
            "concurrency": self.concurrency,
            "retries": self.retries,
            "retry_delay": self.retry_delay,
            "time_limit": self.time_limit,
        }


def _strings(value: Any, name: str, most: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TargetError(name, "must be a list of strings")
    if len(value) > most:
        raise TargetError(name, f"must have at most {most} items")
    if any(len(v) > MAX_ARG_CHARS or "\x00" in v for v in value):
        raise TargetError(name, f"items must be at most {MAX_ARG_CHARS} characters, no NUL")
    return list(value)


def _number(raw: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise TargetError(name, f"must be a number from {low:g} to {high:g}")
    return float(value)


def _env(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_ENV:
        raise TargetError("env", f"must map at most {MAX_ENV} names to strings")
    for name, text in value.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name) or name in RESERVED_ENV:
            raise TargetError("env", f"{name!r} is not a variable name a job may set")
        if not isinstance(text, str) or len(text) > MAX_ARG_CHARS or "\x00" in text:
            raise TargetError("env", f"{name} must be a string of at most {MAX_ARG_CHARS}")
    return dict(value)


def _placement(raw: dict[str, Any]) -> tuple[str | None, frozenset[str], str]:
    agent = raw.get("agent")
    if agent is not None and (not isinstance(agent, str) or not _TAG.match(agent)):
        raise TargetError("agent", "must be an agent's name (a-z, 0-9, . _ -)")
    tags = frozenset(_strings(raw.get("tags") or [], "tags", MAX_TAGS))
    if bad := sorted(t for t in tags if not _TAG.match(t)):
        raise TargetError("tags", f"{bad[0]!r} is not a tag (a-z, 0-9, . _ -)")
    policy = raw.get("policy") or "one"
    if policy not in POLICIES:
        raise TargetError("policy", "must be 'one', 'spread' or 'all'")
    return agent, tags, policy


def parse_target(raw: dict[str, Any]) -> AgentTarget:
    """The agent target a job declares, checked; TargetError naming the field otherwise."""
    command = _strings(raw.get("command"), "command", MAX_ARGS)
    if not command or not command[0]:
        raise TargetError("command", "must name the program to run")
    shell = raw.get("shell", False)
    if not isinstance(shell, bool):
        raise TargetError("shell", "must be true or false")
    if shell and len(command) != 1:
        raise TargetError("command", "with shell = true, must be one string (the script)")
    cwd = raw.get("cwd")
    if cwd is not None and (not isinstance(cwd, str) or not cwd.startswith("/")):
        raise TargetError("cwd", "must be an absolute path")
    agent, tags, policy = _placement(raw)
    concurrency = _number(raw, "concurrency", 1, MAX_SLOTS)
    retries = _number(raw, "retries", 0, MAX_RETRIES)
    return AgentTarget(
        command=tuple(command),
        shell=shell,
        cwd=cwd,
        env=_env(raw.get("env")),
        agent=agent,
        tags=tags,
        policy=policy,
        concurrency=None if concurrency is None else int(concurrency),
        retries=int(retries or 0),
        retry_delay=_number(raw, "retry_delay", 0, 86400) or 0.0,
        time_limit=_number(raw, "time_limit", 1, 366 * 86400),
    )


def check_tags(tags: Iterable[str]) -> frozenset[str]:
    """An agent's own tags, checked; ValueError naming the bad one."""
    found = frozenset(tags)
    if len(found) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    if bad := sorted(t for t in found if not _TAG.match(t)):
        raise ValueError(f"{bad[0]!r} is not a tag (a-z, 0-9, . _ -)")
    return found


# -- who is alive ------------------------------------------------------------------------


def lost_before(now: datetime, lost_after: float) -> datetime:
    """An agent last heard from before this is lost."""
    return now - timedelta(seconds=lost_after)


def poll_wait(asked: float, lost_after: float) -> float:
    """How long a poll may wait for work: what the agent asked, at most MAX_POLL_SECONDS
    and a third of the time after which it is taken for lost (a waiting poll is its only
    sign of life)."""
    return max(0.0, min(asked, lost_after / 3, MAX_POLL_SECONDS))


# -- who takes which run -----------------------------------------------------------------


@dataclass
class AgentLoad:
    """A live agent as the assigner sees it."""

    name: str
    tags: frozenset[str]
    slots: int
    busy: int  # runs assigned to it or running on it
    last_ran: Mapping[str, datetime] = field(default_factory=dict)  # job -> last assigned

    @property
    def free(self) -> int:
        return self.slots - self.busy


@dataclass(frozen=True)
class Waiting:
    """A queued run waiting for an agent."""

    run_id: str
    job: str
    target: AgentTarget
    bound: str | None = None  # policy `all`: the one agent it was made for


def matches(target: AgentTarget, name: str, tags: frozenset[str]) -> bool:
    """Whether an agent named `name` with `tags` may run the target's command."""
    if target.agent is not None and target.agent != name:
        return False
    return target.tags <= tags


def matching(target: AgentTarget, agents: Sequence[AgentLoad]) -> list[AgentLoad]:
    return [a for a in agents if matches(target, a.name, a.tags)]


def _pick(waiting: Waiting, agents: Sequence[AgentLoad]) -> AgentLoad | None:
    if waiting.bound is not None:
        found = [a for a in agents if a.name == waiting.bound and a.free > 0]
        return found[0] if found else None
    able = [a for a in matching(waiting.target, agents) if a.free > 0]
    if not able:
        return None

    def last(a: AgentLoad) -> tuple[bool, float]:
        ran = a.last_ran.get(waiting.job)
        return (ran is not None, ran.timestamp() if ran is not None else 0.0)

    if waiting.target.policy == "spread":
        return min(able, key=lambda a: (*last(a), a.busy, a.name))
    # The least loaded; of equally loaded agents, the one that ran this job longest ago.
    return min(able, key=lambda a: (a.busy / max(a.slots, 1), a.busy, *last(a), a.name))


def assign(
    queue: Sequence[Waiting],
    agents: Sequence[AgentLoad],
    running_per_job: Mapping[str, int],
    now: datetime,
) -> list[tuple[Waiting, str]]:
    """Which agent takes which queued run, oldest first: (run, agent name) pairs.

    A run waits while its job is at its concurrency limit or no matching agent has a
    free slot; the loads are updated as runs are handed out, so one call never gives
    an agent more than its slots."""
    per_job = dict(running_per_job)
    chosen: list[tuple[Waiting, str]] = []
    for waiting in queue:
        limit = waiting.target.concurrency
        if limit is not None and per_job.get(waiting.job, 0) >= limit:
            continue
        agent = _pick(waiting, agents)
        if agent is None:
            continue
        agent.busy += 1
        agent.last_ran = {**agent.last_ran, waiting.job: now}
        per_job[waiting.job] = per_job.get(waiting.job, 0) + 1
        chosen.append((waiting, agent.name))
    return chosen


def why_waiting(waiting: Waiting, agents: Sequence[AgentLoad], running: int) -> str:
    """Why a queued run has no agent yet, in a person's words."""
    limit = waiting.target.concurrency
    if limit is not None and running >= limit:
        return f"the job runs at most {limit} at once"
    if waiting.bound is not None:
        return f"waiting for agent {waiting.bound}"
    able = matching(waiting.target, agents)
    if not able:
        return "no agent matches " + describe_placement(waiting.target)
    return "every matching agent is busy"


def describe_placement(target: AgentTarget) -> str:
    """'agent db-2', 'tags linux, db', or 'any agent'."""
    if target.agent is not None:
        return f"agent {target.agent}"
    if target.tags:
        return "tags " + ", ".join(sorted(target.tags))
    return "any agent"


def is_agent_name(name: str) -> bool:
    return bool(_TAG.match(name))


def retry_due(target: AgentTarget, attempt: int, now: datetime) -> datetime | None:
    """When the next attempt of a run lost with its agent may start; None if none is due
    (the attempts the job allows are used up)."""
    if attempt > target.retries:
        return None
    return now + timedelta(seconds=target.retry_delay)


def group_rollup(job: str, outcomes: Sequence[tuple[str, str]]) -> str:
    """The card for a run on every agent (policy `all`) once all its runs ended:
    "**deploy** on 3 agents: 2 succeeded, 1 failed (web-2)". `outcomes` are
    (agent, status) pairs."""
    counts: dict[str, list[str]] = {}
    for agent, status in outcomes:
        counts.setdefault(status, []).append(agent)
    parts = []
    for status in ("succeeded", "failed", "cancelled", "lost"):
        agents = sorted(counts.get(status, []))
        if agents:
            named = f" ({', '.join(agents)})" if status != "succeeded" else ""
            parts.append(f"{len(agents)} {status}{named}")
    many = "agent" if len(outcomes) == 1 else "agents"
    return f"**{job}** on {len(outcomes)} {many}: " + ", ".join(parts)
