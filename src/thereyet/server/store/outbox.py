"""Channels, routing rules and the outbox of messages to deliver."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, or_, select, update

from .claims import unlocked
from .tables import channels, contact_methods, oncall_people, outbox, routes

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


# -- channels and routes ------------------------------------------------------------


def insert_channel(conn: Connection, name: str, url: str, now: datetime) -> int:
    return _new_id(conn.execute(insert(channels).values(name=name, url=url, created_at=now)))


def channel_by_name(conn: Connection, name: str) -> Any:
    return conn.execute(select(channels).where(channels.c.name == name)).first()


def channel_by_id(conn: Connection, channel_id: int) -> Any:
    return conn.execute(select(channels).where(channels.c.id == channel_id)).first()


def list_channels(conn: Connection, name: str | None = None) -> list[Any]:
    """Every channel (or the one named), with the person and method name when it is
    someone's contact method."""
    query = (
        select(
            channels,
            oncall_people.c.name.label("person"),
            contact_methods.c.name.label("method"),
        )
        .outerjoin(contact_methods, contact_methods.c.channel_id == channels.c.id)
        .outerjoin(oncall_people, oncall_people.c.id == contact_methods.c.person_id)
    )
    if name is not None:
        query = query.where(channels.c.name == name)
    return list(conn.execute(query.order_by(channels.c.name)))


def contact_of(conn: Connection, channel_id: int) -> Any:
    """The person and method a channel delivers for, or None for a named channel."""
    query = (
        select(oncall_people.c.name.label("person"), contact_methods.c.name.label("method"))
        .join(oncall_people, oncall_people.c.id == contact_methods.c.person_id)
        .where(contact_methods.c.channel_id == channel_id)
    )
    return conn.execute(query).first()


def delete_channel(conn: Connection, channel_id: int) -> None:
    conn.execute(delete(routes).where(routes.c.channel_id == channel_id))
    conn.execute(delete(outbox).where(outbox.c.channel_id == channel_id))
    conn.execute(delete(channels).where(channels.c.id == channel_id))


def insert_route(
    conn: Connection,
    channel_id: int,
    *,
    job: str | None,
    room: str | None,
    events: list[str],
    now: datetime,
) -> int:
    result = conn.execute(
        insert(routes).values(
            channel_id=channel_id, job=job, room=room, events=events, created_at=now
        )
    )
    return _new_id(result)


def list_routes(conn: Connection) -> list[Any]:
    query = select(routes, channels.c.name.label("channel")).join(
        channels, channels.c.id == routes.c.channel_id
    )
    return list(conn.execute(query.order_by(routes.c.id)))


def delete_route(conn: Connection, route_id: int) -> bool:
    return conn.execute(delete(routes).where(routes.c.id == route_id)).rowcount == 1


_ENABLED_ROUTES = (
    select(routes.c.channel_id, routes.c.events, routes.c.job, routes.c.room)
    .join(channels, channels.c.id == routes.c.channel_id)
    .where(channels.c.disabled_at.is_(None))
)


def enabled_routes(conn: Connection) -> list[Any]:
    """Every route of an enabled channel: changes are matched against them in Python
    (services.notifications), a group of changes at once."""
    return list(conn.execute(_ENABLED_ROUTES))


# -- the outbox -----------------------------------------------------------------------


def insert_message(conn: Connection, **values: Any) -> int:
    values.setdefault("status", PENDING)
    values.setdefault("attempts", 0)
    return _new_id(conn.execute(insert(outbox).values(**values)))


_earlier = outbox.alias("earlier")
# A row of a sequence (an incident's pages) waits while an earlier step of it is
# pending and not yet tried: step N+1 never leaves before step N (a step whose
# first attempt failed no longer holds the next one back: escalation is for that).
_EARLIER_STEP_WAITING = exists().where(
    _earlier.c.sequence == outbox.c.sequence,
    _earlier.c.step < outbox.c.step,
    _earlier.c.status == PENDING,
    _earlier.c.attempts == 0,
)


def _claimable(now: datetime) -> list[Any]:
    return [
        outbox.c.status == PENDING,
        outbox.c.next_attempt_at <= now,
        or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now),
        or_(outbox.c.sequence.is_(None), ~_EARLIER_STEP_WAITING),
    ]


def _older_pending(where: Any) -> Any:
    """Whether an older row of the same channel, pending and matching `where`, exists.

    A channel gets its messages in the order they were written: a row is sent only
    after every older pending row of its channel (a retried one holds up the rest of
    its channel, and only that). Callbacks have no channel and no order."""
    older = outbox.alias("older")
    return (
        select(older.c.id)
        .where(
            older.c.channel_id == outbox.c.channel_id,
            older.c.status == PENDING,
            older.c.id < outbox.c.id,
            where(older),
        )
        .exists()
    )


def due_messages(conn: Connection, now: datetime, limit: int) -> list[Any]:
    """Ids of due rows whose older pending siblings are all due and free too (so the
    whole run from its channel's head can be claimed, in order), oldest first."""
    query = (
        select(outbox.c.id)
        .where(
            *_claimable(now),
            ~_older_pending(lambda o: or_(o.c.next_attempt_at > now, o.c.claimed_until > now)),
        )
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def claim_message(
    conn: Connection, message_id: int, node: str, now: datetime, until: datetime
) -> bool:
    """Take a message for delivery; True only for the node whose UPDATE changed it.

    A row another node's transaction holds is skipped, never waited for (store/claims.py).
    A channel's rows are claimed oldest first, with one `until` per batch: a row is taken
    only if every older pending row of its channel is already taken in this batch."""
    older_not_ours = _older_pending(
        lambda o: or_(o.c.claimed_by.is_(None), o.c.claimed_by != node, o.c.claimed_until != until)
    )
    result = conn.execute(
        update(outbox)
        .where(unlocked(outbox, outbox.c.id == message_id, *_claimable(now), ~older_not_ours))
        .values(claimed_by=node, claimed_until=until)
    )
    return result.rowcount == 1


def release_claim(conn: Connection, message_id: int, node: str) -> None:
    """Give a claimed row back untried (an older row of its channel failed first)."""
    conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.claimed_by == node)
        .values(claimed_by=None, claimed_until=None)
    )


def get_message(conn: Connection, message_id: int) -> Any:
    query = select(outbox, channels.c.url.label("channel_url"), channels.c.name.label("channel"))
    query = query.outerjoin(channels, channels.c.id == outbox.c.channel_id)
    return conn.execute(query.where(outbox.c.id == message_id)).first()


def finish_attempt(conn: Connection, message_id: int, node: str, **values: Any) -> bool:
    """Record an attempt's outcome, if this node still holds the claim."""
    result = conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.claimed_by == node)
        .values(claimed_by=None, claimed_until=None, **values)
    )
    return result.rowcount == 1


def list_messages(
    conn: Connection,
    *,
    channel_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    run_id: str | None = None,
    limit: int = 100,
) -> list[Any]:
    query = select(outbox, channels.c.name.label("channel")).outerjoin(
        channels, channels.c.id == outbox.c.channel_id
    )
    if channel_id is not None:
        query = query.where(outbox.c.channel_id == channel_id)
    if status is not None:
        query = query.where(outbox.c.status == status)
    if kind is not None:
        query = query.where(outbox.c.kind == kind)
    if run_id is not None:
        query = query.where(outbox.c.run_id == run_id)
    return list(conn.execute(query.order_by(outbox.c.id.desc()).limit(limit)))


def delivery_summary(conn: Connection) -> dict[int, dict[str, Any]]:
    """Per channel: counts by status and the last success and error."""
    found: dict[int, dict[str, Any]] = {}
    counts = select(outbox.c.channel_id, outbox.c.status, func.count()).group_by(
        outbox.c.channel_id, outbox.c.status
    )
    for channel_id, status, count in conn.execute(counts.where(outbox.c.channel_id.is_not(None))):
        found.setdefault(channel_id, {})[status] = count
    last_sent = select(outbox.c.channel_id, func.max(outbox.c.sent_at)).group_by(
        outbox.c.channel_id
    )
    for channel_id, at in conn.execute(last_sent.where(outbox.c.channel_id.is_not(None))):
        found.setdefault(channel_id, {})["last_sent_at"] = at
    return found


def last_error(conn: Connection, channel_id: int) -> Any:
    query = (
        select(outbox.c.last_error, outbox.c.next_attempt_at)
        .where(outbox.c.channel_id == channel_id, outbox.c.last_error.is_not(None))
        .order_by(outbox.c.id.desc())
        .limit(1)
    )
    return conn.execute(query).first()


def waiting_by_channel(conn: Connection) -> list[tuple[str, str, int]]:
    """(channel name, status, count) for pending and failed rows; callbacks to the
    routines the hub starts are under the name "callback"."""
    name = func.coalesce(channels.c.name, "callback")
    query = (
        select(name, outbox.c.status, func.count())
        .select_from(outbox.outerjoin(channels, channels.c.id == outbox.c.channel_id))
        .where(outbox.c.status.in_((PENDING, FAILED)))
        .group_by(name, outbox.c.status)
    )
    return [(str(n), str(s), int(c)) for n, s, c in conn.execute(query)]
