"""On-call configuration: people, rotations, overrides and swaps, and calendar feeds.

Every definition is replaced whole with PUT-style calls (config as code: the
same file applied twice changes nothing). A person's contact method is an
Apprise URL kept as a channel row named `@person/method`, so that pages go
through the outbox and dispatcher like every other notification.

This service also keeps the hub's link secret and public URL, which signed
calendar feeds and the one-click links in pages are built from. Escalation
policies, incident services, integrations and job rules are in `escalation`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from ..domain import oncall as rules
from ..domain.oncall import OncallError, Override, Rotation, WorkingHours
from ..hub import Hub
from ..store import oncall as store
from ..store import outbox as outbox_store
from ..store.tables import contact_methods, oncall_people, rotation_overrides, rotations
from ..store.writer import Tx
from .errors import Conflict, Forbidden, Invalid, NotFound
from .notifications import url_hint
from .oncall_rows import invalid, overrides_of, rotation_of, row_named
from .public_urls import PUBLIC_URL_KEY, hub_base_url
from .rooms import check_name
from .views import iso

LINK_SECRET_KEY = "incident_link_secret"  # noqa: S105 (a settings key, not a secret)
FEED_DAYS_BEFORE = 7
FEED_DAYS_AFTER = 90
# Shifts are computed this far beyond a feed's window, so that the shifts at its
# edges are whole (a shift or override longer than this is still cut).
FEED_WHOLE_SHIFTS = timedelta(days=62)
# How far ahead "on call until" and "next" look (at least three shifts, at most 62 days).
HANDOVER_LOOKAHEAD = timedelta(days=14)


@dataclass(frozen=True)
class PersonSpec:
    timezone: str
    work_days: list[int]
    work_start: str
    work_end: str
    contact_methods: dict[str, str]  # name -> Apprise URL
    rules: list[tuple[str, int]]  # (method, minutes after the page)


@dataclass(frozen=True)
class RotationSpec:
    timezone: str
    start_date: date
    handoff: str
    shift_hours: int
    participants: list[str]


class OncallService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    # -- people --------------------------------------------------------------------------

    async def put_person(self, name: str, spec: PersonSpec) -> dict[str, Any]:
        check_name(name, "name")
        hours = WorkingHours(
            spec.timezone,
            frozenset(spec.work_days),
            _clock(spec.work_start, "work_start"),
            _clock(spec.work_end, "work_end"),
        )
        try:
            hours.check()
        except OncallError as exc:
            raise invalid(exc) from exc
        for method, url in spec.contact_methods.items():
            check_name(method, "contact_methods")
            _check_url(url)
        for i, (method, _after) in enumerate(spec.rules):
            if method not in spec.contact_methods:
                raise Invalid(f"rule names unknown contact method {method!r}", field=f"rules.{i}")
        values = {
            "timezone": spec.timezone,
            "work_days": sorted(set(spec.work_days)),
            "work_start": spec.work_start,
            "work_end": spec.work_end,
            "rules": [{"method": m, "after_minutes": a} for m, a in spec.rules],
        }

        def write(tx: Tx) -> dict[str, Any]:
            row = store.by_name(tx.conn, oncall_people, name)
            if row is None:
                person_id = store.insert_row(
                    tx.conn, oncall_people, name=name, created_at=tx.now, **values
                )
            else:
                person_id = row.id
                store.update_row(tx.conn, oncall_people, person_id, **values)
            self._put_methods(tx, person_id, name, spec.contact_methods)
            return self._person_view(tx.conn, store.by_id(tx.conn, oncall_people, person_id))

        return await self.hub.writer.run(write)

    def _put_methods(self, tx: Tx, person_id: int, person: str, wanted: dict[str, str]) -> None:
        for method in store.contact_methods_of(tx.conn, person_id):
            if wanted.get(method.name) != method.url:
                store.delete_contact_method(tx.conn, method)
        for name, url in wanted.items():
            if store.contact_method(tx.conn, person_id, name) is not None:
                continue
            channel = f"@{person}/{name}"
            if outbox_store.channel_by_name(tx.conn, channel) is not None:
                raise Conflict(f"channel {channel!r} already exists", field="contact_methods")
            channel_id = outbox_store.insert_channel(tx.conn, channel, url, tx.now)
            store.insert_row(
                tx.conn,
                contact_methods,
                person_id=person_id,
                name=name,
                channel_id=channel_id,
                created_at=tx.now,
            )

    def people(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            return [self._person_view(conn, row) for row in store.all_rows(conn, oncall_people)]

    def person(self, name: str) -> dict[str, Any]:
        with self.hub.engines.read.connect() as conn:
            return self._person_view(conn, row_named(conn, oncall_people, name, "person"))

    def _person_view(self, conn: Connection, row: Any) -> dict[str, Any]:
        return {
            "name": row.name,
            "timezone": row.timezone,
            "work_days": row.work_days,
            "work_start": row.work_start,
            "work_end": row.work_end,
            "contact_methods": [
                {"name": m.name, "url": url_hint(m.url)}
                for m in store.contact_methods_of(conn, row.id)
            ],
            "rules": row.rules,
        }

    # -- rotations -------------------------------------------------------------------------

    async def put_rotation(self, name: str, spec: RotationSpec) -> dict[str, Any]:
        check_name(name, "name")
        rotation = Rotation(
            name,
            tuple(spec.participants),
            spec.timezone,
            spec.start_date,
            _clock(spec.handoff, "handoff"),
            spec.shift_hours,
        )
        try:
            rotation.check()
        except OncallError as exc:
            raise invalid(exc) from exc
        values = {
            "timezone": spec.timezone,
            "start_date": spec.start_date.isoformat(),
            "handoff": spec.handoff,
            "shift_hours": spec.shift_hours,
            "participants": list(spec.participants),
        }

        def write(tx: Tx) -> dict[str, Any]:
            for i, person in enumerate(spec.participants):
                if store.by_name(tx.conn, oncall_people, person) is None:
                    raise Invalid(f"no person named {person!r}", field=f"participants.{i}")
            row = store.by_name(tx.conn, rotations, name)
            if row is None:
                store.insert_row(tx.conn, rotations, name=name, created_at=tx.now, **values)
            else:
                store.update_row(tx.conn, rotations, row.id, **values)
            return self._rotation_view(tx.conn, store.by_name(tx.conn, rotations, name), tx.now)

        return await self.hub.writer.run(write)

    def rotation(self, name: str, now: datetime, days: int = 28) -> dict[str, Any]:
        with self.hub.engines.read.connect() as conn:
            row = row_named(conn, rotations, name, "rotation")
            view = self._rotation_view(conn, row, now)
            view["upcoming"] = [
                _segment_view(s) for s in self.segments(conn, row, now, now + timedelta(days=days))
            ]
            view["overrides"] = [
                {
                    "id": o.id,
                    "person": o.person,
                    "starts_at": iso(o.starts_at),
                    "ends_at": iso(o.ends_at),
                    "note": o.note,
                }
                for o in store.overrides_of(conn, row.id, start=now)
            ]
            return view

    def rotations(self, now: datetime) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            return [self._rotation_view(conn, r, now) for r in store.all_rows(conn, rotations)]

    def _rotation_view(self, conn: Connection, row: Any, now: datetime) -> dict[str, Any]:
        ahead = min(
            max(timedelta(hours=3 * row.shift_hours), HANDOVER_LOOKAHEAD), FEED_WHOLE_SHIFTS
        )
        handover = rules.handover(self.segments(conn, row, now, now + ahead), now)
        return {
            "name": row.name,
            "timezone": row.timezone,
            "start_date": row.start_date,
            "handoff": row.handoff,
            "shift_hours": row.shift_hours,
            "participants": row.participants,
            "on_call": rules.on_call(rotation_of(row), overrides_of(conn, row.id), now),
            "on_call_until": iso(handover.until),
            "next_on_call": handover.next_person,
        }

    def segments(
        self, conn: Connection, row: Any, start: datetime, end: datetime
    ) -> list[rules.Segment]:
        found = store.overrides_of(conn, row.id, start=start, end=end)
        overrides = [Override(o.person, o.starts_at, o.ends_at) for o in found]
        return rules.segments(rotation_of(row), overrides, start, end)

    async def add_override(
        self, rotation: str, person: str, starts_at: datetime, ends_at: datetime, note: str
    ) -> dict[str, Any]:
        if ends_at <= starts_at:
            raise Invalid("ends_at must be after starts_at", field="ends_at")

        def write(tx: Tx) -> dict[str, Any]:
            row = row_named(tx.conn, rotations, rotation, "rotation")
            row_named(tx.conn, oncall_people, person, "person")
            override_id = store.insert_row(
                tx.conn,
                rotation_overrides,
                rotation_id=row.id,
                person=person,
                starts_at=starts_at,
                ends_at=ends_at,
                note=note,
                created_at=tx.now,
            )
            return {
                "id": override_id,
                "rotation": rotation,
                "person": person,
                "starts_at": iso(starts_at),
                "ends_at": iso(ends_at),
                "note": note,
            }

        return await self.hub.writer.run(write)

    async def swap(self, rotation: str, first: datetime, second: datetime) -> list[dict[str, Any]]:
        """Exchange the shifts in progress at `first` and `second` (two overrides)."""

        def write(tx: Tx) -> list[dict[str, Any]]:
            row = row_named(tx.conn, rotations, rotation, "rotation")
            try:
                pair = rules.swap(rotation_of(row), first, second)
            except OncallError as exc:
                raise invalid(exc) from exc
            made = []
            for override in pair:
                override_id = store.insert_row(
                    tx.conn,
                    rotation_overrides,
                    rotation_id=row.id,
                    person=override.person,
                    starts_at=override.starts_at,
                    ends_at=override.ends_at,
                    note="swap",
                    created_at=tx.now,
                )
                made.append(
                    {
                        "id": override_id,
                        "person": override.person,
                        "starts_at": iso(override.starts_at),
                        "ends_at": iso(override.ends_at),
                    }
                )
            return made

        return await self.hub.writer.run(write)

    async def delete_override(self, rotation: str, override_id: int) -> None:
        def write(tx: Tx) -> None:
            row = row_named(tx.conn, rotations, rotation, "rotation")
            if not store.delete_override(tx.conn, row.id, override_id):
                raise NotFound(f"no override {override_id} in rotation {rotation!r}")

        await self.hub.writer.run(write)

    # -- the hub's secrets and address ---------------------------------------------------------

    def secret_in(self, conn: Connection) -> bytes:
        """The key one-click links and calendar feeds are signed with (made on first use).

        `conn` must be the writer's connection when the key may not exist yet.
        """
        found = store.add_setting_once(conn, LINK_SECRET_KEY, secrets.token_hex(32))
        return bytes.fromhex(str(found))

    async def link_secret(self) -> bytes:
        found = await self.hub.read(lambda conn: store.setting(conn, LINK_SECRET_KEY))
        if found is not None:
            return bytes.fromhex(str(found))
        return await self.hub.writer.run(lambda tx: self.secret_in(tx.conn))

    def public_url(self, conn: Connection) -> str:
        return hub_base_url(conn, self.hub.settings)

    async def set_public_url(self, url: str) -> None:
        if not url.startswith(("http://", "https://")):
            raise Invalid("public_url must start with http:// or https://", field="public_url")

        def write(tx: Tx) -> None:
            from ..store.tables import settings as hub_settings

            store.add_setting_once(tx.conn, PUBLIC_URL_KEY, url)
            tx.conn.execute(
                hub_settings.update().where(hub_settings.c.key == PUBLIC_URL_KEY).values(value=url)
            )

        await self.hub.writer.run(write)

    # -- calendar feeds ---------------------------------------------------------------------

    async def feed_url(self, kind: str, name: str) -> str:
        """The secret address of a rotation's or a person's calendar (calendar apps send no token)."""
        table = rotations if kind == "rotations" else oncall_people

        def base_url(conn: Connection) -> str:
            row_named(conn, table, name, kind[:-1])
            return self.public_url(conn)

        base = await self.hub.read(base_url)
        signature = _feed_signature(await self.link_secret(), kind, name)
        return f"{base}/ical/{kind}/{name}.ics?sig={signature}"

    async def feed(
        self,
        kind: str,
        name: str,
        signature: str,
        now: datetime,
        past_days: int = FEED_DAYS_BEFORE,
        days: int = FEED_DAYS_AFTER,
    ) -> str:
        """The calendar of the shifts that overlap the `past_days` before `now` and the
        `days` after it. Shifts are given whole, never cut at the window's edges, so
        each keeps its start, and so its UID, from one fetch to the next."""
        expected = _feed_signature(await self.link_secret(), kind, name)
        if not hmac.compare_digest(expected, signature):
            raise Forbidden("this calendar address is not valid", field="sig")
        start, end = now - timedelta(days=past_days), now + timedelta(days=days)
        wide = (start - FEED_WHOLE_SHIFTS, end + FEED_WHOLE_SHIFTS)

        def read(conn: Connection) -> list[tuple[str, rules.Segment]]:
            if kind == "rotations":
                row = row_named(conn, rotations, name, "rotation")
                return [(row.name, s) for s in self.segments(conn, row, *wide)]
            row_named(conn, oncall_people, name, "person")
            return [
                (row.name, s)
                for row in store.all_rows(conn, rotations)
                for s in self.segments(conn, row, *wide)
                if s.person == name
            ]

        shifts = await self.hub.read(read)
        shown = [(r, s) for r, s in shifts if s.ends_at > start and s.starts_at < end]
        return rules.ical(f"{kind[:-1]} {name}", shown, now)


def _feed_signature(secret: bytes, kind: str, name: str) -> str:
    return hmac.new(secret, f"ical:{kind}:{name}".encode(), hashlib.sha256).hexdigest()


def _clock(text: str, field: str) -> Any:
    try:
        return rules.parse_clock(text, field)
    except OncallError as exc:
        raise invalid(exc) from exc


def _check_url(url: str) -> None:
    from ..integrations.apprise_sender import is_supported

    if "://" not in url or not is_supported(url):
        raise Invalid(
            "contact method must be an Apprise URL Apprise knows", field="contact_methods"
        )


def _segment_view(segment: rules.Segment) -> dict[str, Any]:
    return {
        "person": segment.person,
        "starts_at": iso(segment.starts_at),
        "ends_at": iso(segment.ends_at),
        "override": segment.override,
    }
