"""Inbound integrations (a token in the URL, a format, a room) and room bridges.

A delivery is verified and parsed completely before anything is written; then
its messages (and, for builds, runs) are written in one transaction, so a bad
payload leaves nothing half-written. A refused delivery is counted on the
integration and noted in its room for its owner, at most every NOTE_EVERY.

A message that came in through an integration is marked `inbound` and never
mirrored out by a bridge: were the bridged channel's own messages fed back to
the room through a hook, each would otherwise travel round forever. The mark
is the message's origin, so no rewording on the way can get an echo past it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..domain.access import SYSTEM, Principal
from ..domain.events import Heartbeat
from ..domain.runs import RunStatus
from ..hub import Hub
from ..integrations.inbound import FORMATS, BadPayload, BadSignature, BuildRun, Parsed
from ..integrations.inbound.gitlab import token_hash as gitlab_token_hash
from ..store import integrations as store
from ..store import outbox as outbox_store
from ..store import rooms as room_store
from ..store import runs as run_store
from ..store.writer import ALONE, Tx
from .errors import Conflict, Invalid, NotFound, ServiceError
from .rooms import check_name, post_in_rooms
from .runs import NewRun, RunService
from .views import iso

DELIVERY_MEMORY = timedelta(hours=72)  # GitHub redelivers by hand for 3 days at most

NOTE_EVERY = timedelta(minutes=10)
INBOUND = "inbound"  # in the data of a message that came in through an integration
BRIDGE_BATCH = 50
_FORGOTTEN = "integrations.forgotten"  # a key of Tx.memo: integrations whose old ids went
_PHASE = {
    "queued": RunStatus.QUEUED,
    "running": RunStatus.RUNNING,
    "succeeded": RunStatus.SUCCEEDED,
    "failed": RunStatus.FAILED,
    "cancelled": RunStatus.CANCELLED,
}


class Unauthorized(ServiceError):
    status = 401


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def run_id_for(integration: str, key: str) -> str:
    """A stable run id for a build, so each phase of it finds the same run."""
    return "build-" + hashlib.sha256(f"{integration}:{key}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Received:
    posted: int
    duplicate: bool = False


class IntegrationService:
    def __init__(self, hub: Hub, runs: RunService) -> None:
        self.hub = hub
        self.runs = runs

    # -- managing integrations (admin) -----------------------------------------------

    async def create(
        self, who: Principal, *, name: str, format: str, room: str, secret: str | None
    ) -> dict[str, Any]:
        """Create an integration; its URL token (and a generated secret) are shown once."""
        check_name(name, "name")
        check_name(room, "room")
        kind = FORMATS.get(format)
        if kind is None:
            raise Invalid(f"format must be one of {', '.join(FORMATS)}", field="format")
        if secret is not None and kind.signing is None:
            raise Invalid(f"a {format} integration has no secret", field="secret")
        if kind.signing and secret is None:
            secret = secrets.token_urlsafe(24)
        token = secrets.token_urlsafe(24)

        def write(tx: Tx) -> dict[str, Any]:
            if store.by_name(tx.conn, name) is not None:
                raise Conflict(f"integration {name!r} already exists", field="name")
            store.insert_integration(
                tx.conn,
                name=name,
                format=format,
                room_id=room_store.ensure_room(tx.conn, room, tx.now),
                token_hash=_hash(token),
                secret=secret if kind.signing == "hmac" else None,
                secret_hash=gitlab_token_hash(secret)
                if kind.signing == "token" and secret
                else None,
                owner=who.name,
                created_at=tx.now,
            )
            return integration_view(store.by_name(tx.conn, name))

        view = await self.hub.writer.run(write)
        return {**view, "url": f"/hooks/{format}/{token}", "token": token, "secret": secret}

    def all(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            return [integration_view(r) for r in store.list_integrations(conn)]

    async def delete(self, name: str) -> None:
        def write(tx: Tx) -> None:
            row = store.by_name(tx.conn, name)
            if row is None:
                raise NotFound(f"no integration named {name!r}")
            store.delete_integration(tx.conn, row.id)

        await self.hub.writer.run(write)

    # -- receiving ---------------------------------------------------------------------

    async def receive(
        self, format: str, token: str, headers: dict[str, str], body: bytes
    ) -> Received:
        """Verify, parse, then write a delivery at once; refusals are noted for the owner."""
        with self.hub.engines.read.connect() as conn:
            row = store.by_token_hash(conn, _hash(token))
        kind = FORMATS.get(format)
        if row is None or kind is None or row.format != format:
            raise NotFound("no such integration: check the URL")
        try:
            kind.verify(headers, body, row.secret if kind.signing == "hmac" else row.secret_hash)
            parsed = kind.parse(headers, body)
        except BadSignature as exc:
            await self._refused(row, str(exc))
            raise Unauthorized(str(exc), field="signature") from None
        except BadPayload as exc:
            await self._refused(row, f"{exc.field}: {exc.message}")
            raise Invalid(exc.message, field=exc.field) from None
        delivery = (row, parsed)
        received: Received = await self.hub.writer.run_batched(
            self._together, delivery, lambda tx: self._write(tx, delivery)
        )
        return received

    def _together(self, tx: Tx, deliveries: list[tuple[Any, Parsed]]) -> list[Any]:
        """The writer's batch handler: deliveries that only post (Slack-style hooks, most
        of what a busy hub receives) are made together, each in a part of its own; one
        that moves a build's run is made alone."""
        answers: list[Any] = [ALONE] * len(deliveries)
        posts = [i for i, (_, parsed) in enumerate(deliveries) if not parsed.runs]
        made = tx.each_apart([deliveries[i] for i in posts], self._write, (ServiceError,))
        for i, answer in zip(posts, made, strict=True):
            answers[i] = answer
        return answers

    def _write(self, tx: Tx, delivery: tuple[Any, Parsed]) -> Received:
        row, parsed = delivery
        if not self._first_delivery(tx, row.id, parsed):
            return Received(0, duplicate=True)
        for build in parsed.runs:
            self._build(tx, row, build)
        for post in parsed.posts:
            data = {"integration": row.name, **post.data}
            if post.thread:
                data["thread"] = post.thread
            data[INBOUND] = True
            post_in_rooms(
                tx,
                self.hub,
                [row.room_id],
                author=row.name,
                kind="integration",
                body=post.text,
                data=data,
            )
        return Received(len(parsed.posts))

    def _first_delivery(self, tx: Tx, integration_id: int, parsed: Parsed) -> bool:
        """Remember the delivery's id, idempotency key and body for DELIVERY_MEMORY (in the
        database, so every node agrees); False if any was seen. Older ones are forgotten
        here, once per integration and writer group."""
        given = (parsed.delivery_id, parsed.idempotency_key, parsed.body_digest)
        keys = [k for k in given if k]
        if not keys:
            return True
        forgotten = tx.memo.setdefault(_FORGOTTEN, set())
        if integration_id not in forgotten:
            store.forget_deliveries(tx.conn, integration_id, tx.now - DELIVERY_MEMORY)
            forgotten.add(integration_id)
        return all([store.first_delivery(tx.conn, integration_id, k, tx.now) for k in keys])

    def _build(self, tx: Tx, row: Any, build: BuildRun) -> None:
        """Move the build's run to the phase reported: create it (queued or running),
        start it, or finish it. A phase older than the run's status changes nothing."""
        run_id = run_id_for(row.name, build.key)
        status = _PHASE[build.phase]
        existing = run_store.load_run(tx.conn, run_id)
        if existing is None:
            spec = NewRun(
                job=build.job,
                id=run_id,
                room=row.room,
                status=RunStatus.QUEUED if status is RunStatus.QUEUED else RunStatus.RUNNING,
                trigger=row.format,
                host=None,
            )
            self.runs.create_in(tx, spec)
            if not status.finished:
                return
        elif existing.status.finished or status is RunStatus.QUEUED:
            return  # FINALIZED after COMPLETED, a late QUEUED, or a repeat
        elif status is RunStatus.RUNNING:
            if existing.status is RunStatus.QUEUED:  # its first word starts a queued run
                self.runs.report_in(tx, SYSTEM, run_id, [Heartbeat(f"{row.format}-start", tx.now)])
            return
        self.runs.finish_in(tx, SYSTEM, run_id, status)

    async def _refused(self, row: Any, error: str) -> None:
        def write(tx: Tx) -> None:
            due = row.noted_at is None or tx.now - row.noted_at >= NOTE_EVERY
            store.record_rejection(tx.conn, row.id, error[:1000], tx.now, noted=due)
            if due:
                text = (
                    f"{row.owner}: integration **{row.name}** refused a delivery: {error[:300]} "
                    "(nothing from it was posted)"
                )
                post_in_rooms(
                    tx,
                    self.hub,
                    [row.room_id],
                    author="thereyet",
                    kind="integration",
                    body=text,
                    data={"integration": row.name, "refused": True},
                )

        await self.hub.writer.run(write)

    # -- room bridges: a room mirrored to a channel through the outbox -------------------

    async def bridge(self, room: str, channel: str) -> dict[str, Any]:
        def write(tx: Tx) -> dict[str, Any]:
            room_id = room_store.room_id(tx.conn, room)
            if room_id is None:
                raise NotFound(f"no room named {room!r}", field="room")
            found = outbox_store.channel_by_name(tx.conn, channel)
            if found is None:
                raise NotFound(f"no channel named {channel!r}", field="channel")
            if store.bridge(tx.conn, room_id, found.id) is not None:
                raise Conflict(f"room {room!r} is already mirrored to {channel!r}", field="channel")
            bridge_id = store.insert_bridge(tx.conn, room_id, found.id, tx.now)
            return {"id": bridge_id, "room": room, "channel": channel}

        return await self.hub.writer.run(write)

    def bridges(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            return [
                {
                    "id": b.id,
                    "room": b.room,
                    "channel": b.channel,
                    "last_message_id": b.last_message_id,
                }
                for b in store.list_bridges(conn)
            ]

    async def unbridge(self, bridge_id: int) -> None:
        def write(tx: Tx) -> None:
            if not store.delete_bridge(tx.conn, bridge_id):
                raise NotFound(f"no bridge with id {bridge_id}")

        await self.hub.writer.run(write)

    async def mirror(self) -> int:
        """Queue new room messages for each bridge's channel; return how many it went
        past (queued, or left out because they came in through an integration).

        The outbox rows and the bridge's cursor move in one transaction, and the
        cursor moves by a conditional UPDATE, so two nodes never queue one message twice.
        """

        with self.hub.engines.read.connect() as conn:
            if not any(
                store.messages_after(conn, b.room_id, b.last_message_id, 1)
                for b in store.list_bridges(conn)
            ):
                return 0  # the usual case: no write transaction at all

        def write(tx: Tx) -> int:
            passed = 0
            for b in store.list_bridges(tx.conn):
                found = store.messages_after(tx.conn, b.room_id, b.last_message_id, BRIDGE_BATCH)
                if not found or not store.advance_bridge(
                    tx.conn, b.id, b.last_message_id, found[-1].id
                ):
                    continue
                passed += len(found)
                for m in found:
                    if m.data and m.data.get(INBOUND):
                        continue  # it may be the channel's echo of what the bridge sent
                    body = f"{m.author}: {m.body}" if m.kind == "text" else m.body
                    outbox_store.insert_message(
                        tx.conn,
                        kind="notify",
                        channel_id=b.channel_id,
                        event="message",
                        job=b.room,
                        title=f"#{b.room}",
                        body=body[:20_000],
                        payload={"room": b.room, "message_id": m.id},
                        next_attempt_at=tx.now,
                        created_at=tx.now,
                    )
            return passed

        return await self.hub.writer.run(write)


def integration_view(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "format": row.format,
        "room": row.room,
        "owner": row.owner,
        "has_secret": bool(row.secret or row.secret_hash),
        "rejected": row.rejected,
        "last_error": row.last_error,
        "last_error_at": iso(row.last_error_at),
        "created_at": iso(row.created_at),
    }
