"""Who is calling: the principal behind a credential, and what the policy lets it reach.

The rules themselves are data in `policy.py`; a Principal answers "may I?"
by looking itself up there and, where the policy says LIMITED, by checking
what its credential names (its jobs and rooms, its run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from .policy import Action, Credential, Entry, Reach, Resource, reach


class Scope(StrEnum):
    ADMIN = "admin"
    READ = "read"
    INGEST = "ingest"
    RUN = "run"  # reports to one run only: handed to a service the hub calls back
    AGENT = "agent"  # an agent: registers, polls for work, starts what it is handed


_KIND_OF_SCOPE = {
    Scope.ADMIN: Credential.ADMIN,
    Scope.READ: Credential.READ_TOKEN,
    Scope.INGEST: Credential.INGEST_TOKEN,
    Scope.RUN: Credential.RUN_TOKEN,
    Scope.AGENT: Credential.AGENT_TOKEN,
}


@dataclass(frozen=True)
class Principal:
    """The caller behind a request, as its credential describes it.

    An ingest token may be limited to named jobs and/or rooms: it may then
    report only runs of those jobs or runs that post to those rooms, and read
    only what it may report. A share link is a reader limited the same way to
    its room or job. `credential` says which kind of credential this is (by
    default, the token kind of `scope`); `id` is the caller's identity, which
    two callers never share even when their names are alike.
    """

    name: str
    scope: Scope
    token_id: str | None = None
    jobs: frozenset[str] = field(default_factory=frozenset)
    rooms: frozenset[str] = field(default_factory=frozenset)
    credential: Credential | None = None
    user_id: int | None = None
    agent: str | None = None  # an agent token made for one agent name: that name only

    @property
    def kind(self) -> Credential:
        return self.credential or _KIND_OF_SCOPE[self.scope]

    @property
    def id(self) -> str:
        """`user:<id>`, `token:<id>`, or the name of a share link or the hub itself."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        if self.token_id is not None:
            return TOKEN_PRINCIPAL + self.token_id
        return self.name

    @property
    def is_user(self) -> bool:
        return self.user_id is not None

    @property
    def run_id(self) -> str | None:
        """The one run a run-scoped token may report to (such tokens are named "run:<id>")."""
        if self.scope is Scope.RUN and self.name.startswith(RUN_TOKEN_PREFIX):
            return self.name[len(RUN_TOKEN_PREFIX) :]
        return None

    @property
    def is_admin(self) -> bool:
        return self.scope is Scope.ADMIN

    @property
    def limited(self) -> bool:
        return self.scope is not Scope.ADMIN and bool(self.jobs or self.rooms)

    @property
    def reads_everything(self) -> bool:
        return self.reach(Resource.RUNS, Action.READ) is Reach.ALL or (
            self.kind is Credential.INGEST_TOKEN and not self.limited
        )

    def reach(self, resource: Resource, action: Action) -> Reach:
        return reach(self.kind, resource, action)

    def reaches(self, entry: Entry) -> bool:
        """Whether the policy lets this caller do `entry` anywhere at all."""
        return reach(self.kind, entry.resource, entry.action) is not Reach.NONE

    def may(
        self,
        resource: Resource,
        action: Action,
        *,
        job: str | None = None,
        rooms: Iterable[str] = (),
        run_id: str | None = None,
    ) -> bool:
        """Whether the policy lets this caller do `action` on the `resource` that belongs
        to `job` and/or posts to `rooms` (or is the run `run_id`).

        A LIMITED reach is inside the limits when the credential names the job or one
        of the rooms (a run token: when it is the run); a credential that names nothing
        is inside its limits only for kinds whose limits are optional (ingest tokens)."""
        found = self.reach(resource, action)
        if found is Reach.ALL:
            return True
        if found is Reach.NONE:
            return False
        if self.kind is Credential.RUN_TOKEN:
            return run_id is not None and run_id == self.run_id
        if not self.limited:
            return self.kind is Credential.INGEST_TOKEN
        return (job is not None and job in self.jobs) or not self.rooms.isdisjoint(rooms)

    def may_write_run(self, job: str, rooms: Iterable[str], run_id: str | None = None) -> bool:
        return self.may(Resource.RUNS, Action.WRITE, job=job, rooms=rooms, run_id=run_id)

    def may_read_run(self, job: str, rooms: Iterable[str], run_id: str | None = None) -> bool:
        return self.may(Resource.RUNS, Action.READ, job=job, rooms=rooms, run_id=run_id)

    def may_post_in(self, room: str) -> bool:
        return self.may(Resource.ROOMS, Action.WRITE, rooms=[room])

    def may_read_room(self, room: str) -> bool:
        return self.may(Resource.ROOMS, Action.READ, rooms=[room])


# The bus topic that says grants ended: {"keys": [...]}, each key a principal's id
# ("share:<id>", "user:<id>") or a session's key ("session:<digest>"). Live streams
# opened with one of them end when they hear it, on every node the bus reaches.
REVOKED_TOPIC = "access.revoked"

TOKEN_PRINCIPAL = "token:"  # noqa: S105 (a prefix, not a secret): a token's Principal.id
RUN_TOKEN_PREFIX = "run:"  # noqa: S105 (a name prefix, not a secret)
SYSTEM = Principal(name="thereyet", scope=Scope.ADMIN)


def run_start_refusal(
    who: Principal, job: str, job_rooms: list[str] | None, room: str | None
) -> tuple[str, str] | None:
    """Why `who` may not start a run of `job` posting to `room`, as (field, reason),
    or None if it may.

    `job_rooms` are the rooms the job posts to, None when the job is new. A job's
    rooms change only through an admin (or configuration): a run that names a room
    the job does not post to yet is refused to everyone else. A limited credential
    starts runs only of jobs inside its limits, judged by the job's own rooms (not
    the room it asks for), and makes new jobs only in its rooms.
    """
    asked = [room] if room else []
    if job_rooms is None:
        if who.may(Resource.JOBS, Action.WRITE, job=job, rooms=asked):
            return None
        field = "room" if room else "job"
        return field, f"this {who.kind.value} may not make job {job!r} (only in its rooms or jobs)"
    if not who.may(Resource.JOBS, Action.WRITE, job=job, rooms=job_rooms):
        return "job", f"this {who.kind.value} may not start runs of job {job!r}"
    if room and room not in job_rooms and not who.may(Resource.JOB_SETTINGS, Action.MANAGE):
        return "room", f"only an admin may add room {room!r} to job {job!r}"
    return None


@dataclass(frozen=True)
class AgentRefusal:
    """Why a caller may not act as an agent: `kind` is "forbidden" (not its name to
    use), "taken" (another credential holds the name) or "unregistered" (it must
    register the name first)."""

    kind: str
    field: str
    reason: str


def agent_name_refusal(
    who: Principal, name: str, holder: str | None, *, registering: bool
) -> AgentRefusal | None:
    """Why `who` may not register (or poll and start runs as) agent `name`, or None if it may.

    An agent name belongs to a credential. A token made for one name (`who.agent`) acts
    as that agent only. Otherwise the name is held by the credential that registered it
    (`holder`, a principal id; None when the name is free: never registered, removed by
    an admin, or its credential revoked). Only the holder polls and starts runs as that
    agent; another credential registers the name only once it is free, so one host's
    token cannot take over another host's agent (and the runs handed to it)."""
    if who.agent is not None and name != who.agent:
        return AgentRefusal(
            "forbidden", "name", f"this agent token is for agent {who.agent!r} only"
        )
    if holder == who.id:
        return None
    if holder is None:
        if registering:
            return None
        return AgentRefusal(
            "unregistered",
            "name",
            f"agent {name!r} is not registered by this credential: register first",
        )
    return AgentRefusal(
        "taken",
        "name",
        f"agent name {name!r} belongs to another token: an admin may remove the agent "
        "(DELETE /api/v1/agents/NAME, or the Agents page) or revoke that token",
    )
