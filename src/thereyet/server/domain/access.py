"""Who may do what: token scopes and their limits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Scope(StrEnum):
    ADMIN = "admin"
    READ = "read"
    INGEST = "ingest"
    RUN = "run"  # reports to one run only: handed to a service the hub calls back


@dataclass(frozen=True)
class Principal:
    """The caller behind a request, as its token describes it.

    An ingest token may be limited to named jobs and/or rooms: it may then
    report only runs of those jobs or runs that post to those rooms, and read
    only what it may report. A read principal with limits (a share link) reads
    only those jobs' runs, those rooms and the runs that post to them.
    """

    name: str
    scope: Scope
    token_id: str | None = None
    jobs: frozenset[str] = field(default_factory=frozenset)
    rooms: frozenset[str] = field(default_factory=frozenset)

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
        return not self.limited and self.scope is not Scope.RUN

    def may_write_run(self, job: str, rooms: Iterable[str], run_id: str | None = None) -> bool:
        if self.scope is Scope.ADMIN:
            return True
        if self.scope is Scope.RUN:
            return run_id is not None and run_id == self.run_id
        if self.scope is not Scope.INGEST:
            return False
        return self._within_limits(job, rooms)

    def may_read_run(self, job: str, rooms: Iterable[str], run_id: str | None = None) -> bool:
        if self.scope is Scope.RUN:
            return self.may_write_run(job, rooms, run_id)
        return self._within_limits(job, rooms)

    def _within_limits(self, job: str, rooms: Iterable[str]) -> bool:
        return not self.limited or job in self.jobs or not self.rooms.isdisjoint(rooms)

    def may_post_in(self, room: str) -> bool:
        if self.scope is Scope.ADMIN:
            return True
        if self.scope is not Scope.INGEST:
            return False
        return not self.limited or room in self.rooms

    def may_read_room(self, room: str) -> bool:
        return self.reads_everything or room in self.rooms


RUN_TOKEN_PREFIX = "run:"  # noqa: S105 (a name prefix, not a secret)
SYSTEM = Principal(name="thereyet", scope=Scope.ADMIN)
