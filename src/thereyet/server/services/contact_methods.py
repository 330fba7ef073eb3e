"""A person's contact methods one at a time, and a test message through one of them.

The API replaces a person whole (`OncallService.put_person`), URLs included; a
page never sees a method's URL again once it is saved, so the edits a page
makes (add a method, remove one, change the working hours) are made here, from
the person as stored, and written back through `put_person`.

A test goes the way a page goes: an outbox row for the method's channel, which
the dispatcher delivers with Apprise and records (sent, or the error).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..hub import Hub
from ..store import oncall as store
from ..store import outbox as outbox_store
from ..store.tables import oncall_people
from ..store.writer import Tx
from .errors import Invalid, NotFound
from .oncall import OncallService, PersonSpec
from .oncall_rows import row_named

TEST_TITLE = "thereyet: test message"


class ContactMethods:
    def __init__(self, hub: Hub, oncall: OncallService) -> None:
        self.hub = hub
        self.oncall = oncall

    def spec(self, person: str) -> PersonSpec:
        """The person as stored, URLs included (for writing back, never for showing)."""
        with self.hub.engines.read.connect() as conn:
            row = row_named(conn, oncall_people, person, "person")
            methods = {m.name: m.url for m in store.contact_methods_of(conn, row.id)}
        return PersonSpec(
            timezone=row.timezone,
            work_days=list(row.work_days),
            work_start=row.work_start,
            work_end=row.work_end,
            contact_methods=methods,
            rules=[(r["method"], int(r["after_minutes"])) for r in row.rules],
        )

    async def add(self, person: str, method: str, url: str, after_minutes: int) -> dict[str, Any]:
        """Add (or replace) `method`, used `after_minutes` after a page."""
        spec = self.spec(person)
        methods = {**spec.contact_methods, method: url}
        # Without rules every method is used at once: say so explicitly before adding one.
        rules = spec.rules or [(name, 0) for name in spec.contact_methods]
        rules = [r for r in rules if r[0] != method] + [(method, after_minutes)]
        return await self.oncall.put_person(
            person, replace(spec, contact_methods=methods, rules=rules)
        )

    async def remove(self, person: str, method: str) -> dict[str, Any]:
        spec = self.spec(person)
        if method not in spec.contact_methods:
            raise NotFound(f"{person} has no contact method {method!r}", field="method")
        methods = {k: v for k, v in spec.contact_methods.items() if k != method}
        rules = [r for r in spec.rules if r[0] != method]
        return await self.oncall.put_person(
            person, replace(spec, contact_methods=methods, rules=rules)
        )

    async def set_hours(
        self, person: str, timezone: str, work_days: list[int], start: str, end: str
    ) -> dict[str, Any]:
        """Change a person's time zone and working hours; a new person starts here."""
        try:
            spec = self.spec(person)
        except NotFound:
            spec = PersonSpec("UTC", [], "09:00", "17:00", {}, [])
        changed = replace(spec, timezone=timezone, work_days=work_days, work_start=start)
        return await self.oncall.put_person(person, replace(changed, work_end=end))

    async def send_test(self, person: str, method: str, by: str) -> int:
        """Queue a test message to one contact method; return its delivery id."""

        def write(tx: Tx) -> int:
            row = row_named(tx.conn, oncall_people, person, "person")
            found = store.contact_method(tx.conn, row.id, method)
            if found is None:
                raise Invalid(f"{person} has no contact method {method!r}", field="method")
            body = f"A test of {person}'s contact method {method!r}, sent by {by}."
            return outbox_store.insert_message(
                tx.conn,
                kind="notify",
                channel_id=found.channel_id,
                event="test",
                job=f"@{person}"[:64],
                run_id=None,
                title=TEST_TITLE,
                body=body,
                payload={"test": True, "person": person, "method": method},
                next_attempt_at=tx.now,
                created_at=tx.now,
            )

        return await self.hub.writer.run(write)
