"""Notifications: channels, routing rules, and the outbox the dispatcher empties.

A notification is an outbox row written in the same transaction as the state
change it tells of (`notify_in`); the dispatcher worker claims due rows,
delivers them outside any transaction, and records each attempt. Sending is
at least once: a row is marked sent only after its channel accepted it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from ..domain.cards import run_card
from ..domain.leases import lease_until
from ..domain.runs import Run, RunStatus
from ..hub import Hub
from ..store import outbox as store
from ..store import pings as ping_store
from ..store import rooms as room_store
from ..store.writer import Tx
from .errors import Conflict, Invalid, NotFound
from .rooms import check_name
from .runs import KNOWN_JOBS
from .views import iso

EVENTS = (
    "started",
    "succeeded",
    "failed",
    "cancelled",
    "late",
    "missed",
    "stalled",
    "recovered",
    "overdue",
    "lost",
)
DEFAULT_EVENTS = ("failed", "late", "missed", "stalled", "overdue", "lost")
MAX_ATTEMPTS = {"notify": 10, "callback": 5}
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ESCAPED = re.compile(r"\\([\\`*_\[\]<>~])")
_HOST_NAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*")


def backoff(attempts: int) -> float:
    """Seconds to wait before attempt `attempts + 1`: 10 s, 20 s, 40 s ... at most 1 h."""
    return float(min(10 * 2 ** max(attempts - 1, 0), 3600))


def plain(card: str) -> str:
    """A room card as plain text for a chat or an email subject."""
    return _ESCAPED.sub(r"\1", _BOLD.sub(r"\1", card))


def url_hint(url: str) -> str:
    """What of a channel URL may be shown: its scheme, and its host when it is a host.

    Never credentials, path or query. Many Apprise URLs carry a token where the
    host goes (slack://TokenA/..., tgram://bot-id:token/..., ntfy://topic), so a
    "host" that is not a dotted name or an address is hidden too.
    """
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:  # tgram://123:ABC/... reads as a host and a port that is no number
        return f"{url.split(':', 1)[0]}://…"
    if not _is_host(host):
        return f"{parts.scheme}://…"
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address
    return f"{parts.scheme}://{shown}{f':{port}' if port else ''}/…"


def _is_host(host: str) -> bool:
    if host == "localhost" or _HOST_NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Note:
    """A change to tell every channel routed for its event."""

    event: str
    job: str
    rooms: Collection[str]  # the names of the rooms it is about
    text: str
    run_id: str | None = None


def notify_in(
    tx: Tx,
    *,
    event: str,
    job: str,
    rooms: list[str],
    text: str,
    run_id: str | None = None,
) -> int:
    """Queue `text` for every channel routed for this event; return how many."""
    return notify_many(tx, [Note(event, job, rooms, text, run_id)])


def notify_many(tx: Tx, notes: Sequence[Note]) -> int:
    """Queue each note for every channel routed for its event, the routes read once;
    return how many outbox rows were queued."""
    routes = store.enabled_routes(tx.conn) if notes else []
    queued = 0
    for note in notes:
        wanted = _wanted(routes, note.event, note.job, note.rooms)
        if wanted:
            _queue(tx, wanted, note.event, note.job, note.run_id, plain(note.text))
            queued += len(wanted)
    return queued


def _wanted(routes: Sequence[Any], event: str, job: str, rooms: Collection[str]) -> list[int]:
    """The channels of `routes` (enabled ones) routed for this event of this job: a route
    names the job, or one of its rooms, or neither (everything)."""
    return sorted(
        {
            route.channel_id
            for route in routes
            if event in route.events
            and (
                route.job == job
                or route.room in rooms
                or (route.job is None and route.room is None)
            )
        }
    )


def _queue(
    tx: Tx, channels: list[int], event: str, job: str, run_id: str | None, body: str
) -> None:
    for channel_id in channels:
        store.insert_message(
            tx.conn,
            kind="notify",
            channel_id=channel_id,
            event=event,
            job=job,
            run_id=run_id,
            title=body[:300],
            body=body,
            payload={},
            next_attempt_at=tx.now,
            created_at=tx.now,
        )


def _run_event(run: Run, was: RunStatus | None) -> str | None:
    """The event a run's status change is routed as, or None for none."""
    if run.status is RunStatus.QUEUED:
        return None
    if run.status is RunStatus.RUNNING:
        return None if was is RunStatus.LOST else "started"  # "is back": a card, not a page
    return run.status.value


def room_names(tx: Tx, room_ids: list[int]) -> list[str]:
    return [room_store.room_name(tx.conn, room_id) for room_id in room_ids]


@dataclass(frozen=True)
class Delivery:
    """A claimed outbox row, with what is needed to send it."""

    id: int
    kind: str
    event: str
    job: str
    run_id: str | None
    title: str
    body: str
    payload: dict[str, Any]
    attempts: int
    channel_url: str | None
    channel_id: int | None = None

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt at this message, so a receiver can drop repeats."""
        return f"thereyet-outbox-{self.id}"


FailureHook = Callable[[Tx, Delivery, str, bool], None]


class NotificationService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        # Called in the writer's transaction when a callback attempt fails
        # (the last flag says whether it was the last attempt).
        self.callback_failed: list[FailureHook] = []

    # -- what is said when a run changes status --------------------------------------

    def on_run_status(self, tx: Tx, run: Run, room_ids: list[int], was: RunStatus | None) -> None:
        """A RunService status hook: route started/succeeded/failed/cancelled/lost."""
        event = _run_event(run, was)
        if event is None:
            return
        card = run_card(run, change=run.status, now=tx.now, was=was)
        notify_in(
            tx, event=event, job=run.job, rooms=room_names(tx, room_ids), text=card, run_id=run.id
        )

    def on_runs_status(
        self, tx: Tx, changes: list[tuple[Run, list[int], RunStatus | None]]
    ) -> None:
        """on_run_status for a group of changes: the routes and room names are read once
        (and the routes not at all when the group's jobs, read already, said there are
        none: runs.KNOWN_JOBS)."""
        known = tx.memo.get(KNOWN_JOBS, {})
        changed = {run.job for run, _, _ in changes}
        if changed and all(job in known and not known[job].routed for job in changed):
            return
        routes = store.enabled_routes(tx.conn)
        if not routes:
            return
        names = ping_store.room_names(tx.conn, [r for _, ids, _ in changes for r in ids])
        for run, room_ids, was in changes:
            event = _run_event(run, was)
            if event is None:
                continue
            wanted = _wanted(routes, event, run.job, {names[r] for r in room_ids})
            if wanted:
                card = run_card(run, change=run.status, now=tx.now, was=was)
                _queue(tx, wanted, event, run.job, run.id, plain(card))

    # -- channels and routes -------------------------------------------------------

    async def create_channel(self, name: str, url: str) -> dict[str, Any]:
        check_name(name, "name")
        if "://" not in url:
            raise Invalid("url must be an Apprise URL such as json://host/path", field="url")
        _check_apprise_url(url)

        def write(tx: Tx) -> dict[str, Any]:
            if store.channel_by_name(tx.conn, name) is not None:
                raise Conflict(f"channel {name!r} already exists", field="name")
            store.insert_channel(tx.conn, name, url, tx.now)
            return _channel_view(store.list_channels(tx.conn, name)[0], {})

        return await self.hub.writer.run(write)

    async def delete_channel(self, name: str) -> None:
        def write(tx: Tx) -> None:
            row = store.channel_by_name(tx.conn, name)
            if row is None:
                raise NotFound(f"no channel named {name!r}")
            contact = store.contact_of(tx.conn, row.id)
            if contact is not None:
                raise Conflict(
                    f"channel {name!r} is {contact.person}'s contact method {contact.method!r}: "
                    f"change it with PUT /api/v1/oncall/people/{contact.person}",
                    field="name",
                )
            store.delete_channel(tx.conn, row.id)

        await self.hub.writer.run(write)

    async def send_test(self, name: str, by: str) -> dict[str, Any]:
        """Queue a test message to channel `name` (the dispatcher sends it, with retries,
        and records the outcome on the channel like any other); return its delivery."""
        text = f"Test from thereyet, sent by {by}: this channel reaches you."

        def write(tx: Tx) -> dict[str, Any]:
            row = store.channel_by_name(tx.conn, name)
            if row is None:
                raise NotFound(f"no channel named {name!r}", field="name")
            delivery_id = store.insert_message(
                tx.conn,
                kind="notify",
                channel_id=row.id,
                event="test",
                job="",
                title=text[:300],
                body=text,
                payload={},
                next_attempt_at=tx.now,
                created_at=tx.now,
            )
            return {"id": delivery_id, "channel": name, "status": store.PENDING}

        return await self.hub.writer.run(write)

    def channels(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            summary = store.delivery_summary(conn)
            views = []
            for row in store.list_channels(conn):
                stats = dict(summary.get(row.id, {}))
                error = store.last_error(conn, row.id)
                stats["last_error"] = error.last_error if error else None
                views.append(_channel_view(row, stats))
        return views

    async def add_route(
        self, channel: str, *, job: str | None, room: str | None, events: list[str]
    ) -> dict[str, Any]:
        if job is not None:
            check_name(job, "job")
        if room is not None:
            check_name(room, "room")
        if bad := [e for e in events if e not in EVENTS]:
            raise Invalid(f"unknown event {bad[0]!r}; known: {', '.join(EVENTS)}", field="events")
        chosen = sorted(set(events or DEFAULT_EVENTS), key=EVENTS.index)

        def write(tx: Tx) -> dict[str, Any]:
            row = store.channel_by_name(tx.conn, channel)
            if row is None:
                raise NotFound(f"no channel named {channel!r}", field="channel")
            route_id = store.insert_route(
                tx.conn, row.id, job=job, room=room, events=chosen, now=tx.now
            )
            return {"id": route_id, "channel": channel, "job": job, "room": room, "events": chosen}

        return await self.hub.writer.run(write)

    def routes(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            return [
                {"id": r.id, "channel": r.channel, "job": r.job, "room": r.room, "events": r.events}
                for r in store.list_routes(conn)
            ]

    async def delete_route(self, route_id: int) -> None:
        def write(tx: Tx) -> None:
            if not store.delete_route(tx.conn, route_id):
                raise NotFound(f"no route with id {route_id}")

        await self.hub.writer.run(write)

    def deliveries(
        self,
        *,
        channel: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            channel_id = None
            if channel is not None:
                row = store.channel_by_name(conn, channel)
                if row is None:
                    raise NotFound(f"no channel named {channel!r}", field="channel")
                channel_id = row.id
            rows = store.list_messages(
                conn, channel_id=channel_id, status=status, kind=kind, run_id=run_id, limit=limit
            )
        return [_delivery_view(r) for r in rows]

    # -- the dispatcher's steps --------------------------------------------------------

    async def claim_due(self, now: datetime, limit: int = 20) -> list[Delivery]:
        """Claim up to `limit` due outbox rows for this node (conditional UPDATEs)."""
        node = self.hub.settings.node
        candidates = await self.hub.read(lambda conn: store.due_messages(conn, now, limit))
        if not candidates:
            return []

        def write(tx: Tx) -> list[Delivery]:
            until = lease_until(tx.now)  # renewed by the node's heartbeat while it sends
            # Oldest first: a channel's row is taken only after its older ones.
            won = [
                m for m in sorted(candidates) if store.claim_message(tx.conn, m, node, now, until)
            ]
            return [_delivery(store.get_message(tx.conn, m)) for m in won]

        return await self.hub.writer.run(write)

    async def record(
        self,
        outcomes: list[tuple[Delivery, str | None]],
        now: datetime,
        untried: Sequence[Delivery] = (),
    ) -> None:
        """Mark claimed rows sent, or schedule their retry (failed after the last attempt),
        and give back those `untried` (an older row of their channel failed first).

        An outcome is a delivery and None when it was delivered, else the reason.
        """
        node = self.hub.settings.node

        def write(tx: Tx) -> None:
            for delivery, error in outcomes:
                self._record(tx, delivery, error, now)
            for delivery in untried:
                store.release_claim(tx.conn, delivery.id, node)

        await self.hub.writer.run(write)

    def _record(self, tx: Tx, delivery: Delivery, error: str | None, now: datetime) -> None:
        node = self.hub.settings.node
        attempts = delivery.attempts + 1
        if error is None:
            payload = _without_run_token(delivery.payload)
            store.finish_attempt(
                tx.conn,
                delivery.id,
                node,
                status=store.SENT,
                attempts=attempts,
                sent_at=now,
                payload=payload,
                last_error=None,
            )
            return
        last = attempts >= MAX_ATTEMPTS.get(delivery.kind, 10)
        if not store.finish_attempt(
            tx.conn,
            delivery.id,
            node,
            status=store.FAILED if last else store.PENDING,
            attempts=attempts,
            next_attempt_at=now + timedelta(seconds=backoff(attempts)),
            last_error=error[:2000],
        ):
            return
        if delivery.kind == "callback":
            for hook in self.callback_failed:
                hook(tx, delivery, error, last)


def _without_run_token(payload: dict[str, Any]) -> dict[str, Any]:
    """A delivered callback's payload without the run token it carried (only its hash
    is kept, with the token's record): the token travels once and is not stored."""
    kept = {k: v for k, v in payload.items() if k != "token"}
    if isinstance(kept.get("body"), dict):
        kept["body"] = {k: v for k, v in kept["body"].items() if k != "token"}
    return kept


def _check_apprise_url(url: str) -> None:
    from ..integrations.apprise_sender import is_supported

    if not is_supported(url):
        raise Invalid("Apprise does not know this URL's scheme", field="url")


def _channel_view(row: Any, stats: dict[str, Any]) -> dict[str, Any]:
    """A channel as shown: a named channel, or a person's contact method (`@person/method`)."""
    return {
        "name": row.name,
        "kind": "contact" if row.person is not None else "channel",
        "person": row.person,
        "method": row.method,
        "url": url_hint(row.url),
        "created_at": iso(row.created_at),
        "disabled": row.disabled_at is not None,
        "pending": stats.get(store.PENDING, 0),
        "sent": stats.get(store.SENT, 0),
        "failed": stats.get(store.FAILED, 0),
        "last_sent_at": iso(stats.get("last_sent_at")),
        "last_error": stats.get("last_error"),
    }


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        kind=row.kind,
        event=row.event,
        job=row.job,
        run_id=row.run_id,
        title=row.title,
        body=row.body,
        payload=dict(row.payload),
        attempts=row.attempts,
        channel_url=row.channel_url,
        channel_id=row.channel_id,
    )


def _delivery_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "channel": row.channel,
        "event": row.event,
        "job": row.job,
        "run_id": row.run_id,
        "title": row.title,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at) if row.status == store.PENDING else None,
        "last_error": row.last_error,
        "created_at": iso(row.created_at),
        "sent_at": iso(row.sent_at),
    }
