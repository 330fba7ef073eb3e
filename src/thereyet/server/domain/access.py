"""Who may do what: token scopes and their limits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Scope(StrEnum):
    ADMIN = "admin"
    READ = "read"
    INGEST = "ingest"


@dataclass(frozen=True)
class Principal:
    """The caller behind a request, as its token describes it.

    An ingest token may be limited to named jobs and/or rooms: it may then
    report only runs of those jobs or runs that post to those rooms, and read
    only what it may report.
    """

    name: str
    scope: Scope
    token_id: str | None = None
    jobs: frozenset[str] = field(default_factory=frozenset)
    rooms: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.scope is Scope.ADMIN

    @property
    def limited(self) -> bool:
        return self.scope is Scope.INGEST and bool(self.jobs or self.rooms)

    @property
    def reads_everything(self) -> bool:
        return not self.limited

    def may_write_run(self, job: str, rooms: Iterable[str]) -> bool:
        if self.scope is Scope.ADMIN:
            return True
        if self.scope is not Scope.INGEST:
            return False
        return not self.limited or job in self.jobs or not self.rooms.isdisjoint(rooms)

    def may_read_run(self, job: str, rooms: Iterable[str]) -> bool:
        return self.reads_everything or self.may_write_run(job, rooms)

    def may_post_in(self, room: str) -> bool:
        if self.scope is Scope.ADMIN:
            return True
        if self.scope is not Scope.INGEST:
            return False
        return not self.limited or room in self.rooms

    def may_read_room(self, room: str) -> bool:
        return self.reads_everything or room in self.rooms


SYSTEM = Principal(name="thereyet", scope=Scope.ADMIN)
