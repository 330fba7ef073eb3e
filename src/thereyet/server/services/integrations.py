"""Inbound integrations: one collection for every kind (see integrations/kinds.py).

An admin makes one with a name, a kind and what it posts to (a room for hooks, a
service for alert sources); its token (and a generated GitHub/GitLab secret) is
shown once, with the absolute URL to paste and a sender's configuration. Each
integration keeps its last deliveries: when, the status the sender was answered,
the error if any and a short summary.

A hook delivery is verified and parsed completely before anything is written;
then its messages (and, for builds, runs) are written in one transaction with its
delivery record, so a bad payload leaves nothing half-written. A refused delivery
is counted on the integration and, for a hook, noted in its room for its owner at
most every NOTE_EVERY.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from ..domain.access import Principal
from ..hub import Hub
from ..integrations.inbound import FORMATS, BadPayload, BadSignature, Parsed
from ..integrations.inbound.gitlab import token_hash as gitlab_token_hash
from ..integrations.kinds import KINDS, Kind, Sender
from ..store import integrations as store
from ..store import rooms as room_store
from ..store.tables import incident_services
from ..store.writer import ALONE, Tx
from .errors import Conflict, Invalid, NotFound, ServiceError
from .hook_posts import Received, write_delivery
from .oncall_rows import row_named
from .public_urls import hub_base_url
from .rooms import check_name, post_in_rooms
from .runs import RunService
from .views import iso

NOTE_EVERY = timedelta(minutes=10)
HIDDEN = "…"  # stands for a token in URLs shown after creation


class Unauthorized(ServiceError):
    status = 401


def token_hash(token: str) -> str:
    """How every integration's token is kept (a SHA-256, only checked)."""
    return hashlib.sha256(token.encode()).hexdigest()


def kind_named(kind: str) -> Kind:
    found = KINDS.get(kind)
    if found is None:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}", field="kind")
    return found


def _check_target(kind: Kind, room: str | None, service: str | None) -> str:
    """The room or service named for this kind; Invalid if it is missing or the other."""
    given, other = (room, service) if kind.target == "room" else (service, room)
    unused = "service" if kind.target == "room" else "room"
    if other is not None:
        raise Invalid(f"a {kind.name} integration posts to a {kind.target}", field=unused)
    if given is None:
        raise Invalid(f"a {kind.name} integration needs a {kind.target}", field=kind.target)
    check_name(given, kind.target)
    return given


def _secret_for(kind: Kind, secret: str | None) -> str | None:
    if secret is not None and kind.signing is None:
        raise Invalid(f"a {kind.name} integration has no secret", field="secret")
    if kind.signing and secret is None:
        return secrets.token_urlsafe(24)
    return secret


class IntegrationService:
    def __init__(self, hub: Hub, runs: RunService) -> None:
        self.hub = hub
        self.runs = runs

    # -- managing integrations (admin) -----------------------------------------------

    async def create(
        self,
        who: Principal,
        *,
        name: str,
        kind: str,
        room: str | None = None,
        service: str | None = None,
        secret: str | None = None,
    ) -> dict[str, Any]:
        """Create an integration; its token (and a generated secret) are shown once, with
        the URL to paste and an example of its sender's configuration."""
        check_name(name, "name")
        found = kind_named(kind)
        target = _check_target(found, room, service)
        secret = _secret_for(found, secret)
        token = found.new_token()

        def write(tx: Tx) -> tuple[dict[str, Any], str]:
            if store.by_name(tx.conn, name) is not None:
                raise Conflict(f"integration {name!r} already exists", field="name")
            if found.target == "room":
                where = {"room_id": room_store.ensure_room(tx.conn, target, tx.now)}
            else:
                where = {"service_id": row_named(tx.conn, incident_services, target, "service").id}
            store.insert_integration(
                tx.conn,
                name=name,
                kind=kind,
                token_hash=token_hash(token),
                secret=secret if found.signing == "hmac" else None,
                secret_hash=gitlab_token_hash(secret)
                if found.signing == "token" and secret
                else None,
                owner=who.name,
                created_at=tx.now,
                **where,
            )
            base = hub_base_url(tx.conn, self.hub.settings)
            return integration_view(store.by_name(tx.conn, name), base, []), base

        view, base = await self.hub.writer.run(write)
        url = base + found.path(token)
        return {
            **view,
            "url": url,
            "path": found.path(token),
            "token": token,
            "secret": secret,
            "example": found.example(Sender(url, token, secret)),
        }

    def all(self) -> list[dict[str, Any]]:
        """Every integration with its last deliveries (never a token or a secret)."""
        with self.hub.engines.read.connect() as conn:
            rows = store.list_integrations(conn)
            return self._views(conn, rows)

    def one(self, name: str) -> dict[str, Any]:
        with self.hub.engines.read.connect() as conn:
            row = store.by_name(conn, name)
            if row is None:
                raise NotFound(f"no integration named {name!r}")
            return self._views(conn, [row])[0]

    def _views(self, conn: Connection, rows: list[Any]) -> list[dict[str, Any]]:
        base = hub_base_url(conn, self.hub.settings)
        delivered = store.deliveries(conn, [r.id for r in rows])
        return [integration_view(r, base, delivered[r.id]) for r in rows]

    async def delete(self, name: str) -> None:
        def write(tx: Tx) -> None:
            row = store.by_name(tx.conn, name)
            if row is None:
                raise NotFound(f"no integration named {name!r}")
            store.delete_integration(tx.conn, row.id)

        await self.hub.writer.run(write)

    # -- receiving ---------------------------------------------------------------------

    async def alert_source(self, token: str, kind: str) -> Any:
        """The live alert source of this token and kind; NotFound otherwise."""
        row = await self.hub.read(lambda conn: store.by_token_hash(conn, token_hash(token)))
        if row is None or row.kind != kind:
            raise NotFound("unknown integration token", field="token")
        return row

    async def receive(
        self, kind: str, token: str, headers: dict[str, str], body: bytes
    ) -> Received:
        """Verify, parse, then write a hook delivery at once; refusals are noted."""
        row = await self.hub.read(lambda conn: store.by_token_hash(conn, token_hash(token)))
        parser = FORMATS.get(kind)
        if row is None or parser is None or row.kind != kind:
            raise NotFound("no such integration: check the URL")
        try:
            parser.verify(
                headers, body, row.secret if parser.signing == "hmac" else row.secret_hash
            )
            parsed = parser.parse(headers, body)
        except BadSignature as exc:
            await self.refused(row, 401, str(exc))
            raise Unauthorized(str(exc), field="signature") from None
        except BadPayload as exc:
            await self.refused(row, 422, f"{exc.field}: {exc.message}")
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
        received = write_delivery(tx, self.hub, self.runs, row, parsed)
        record_in(tx, row.id, 200, received.summary())
        return received

    async def refused(self, row: Any, status: int, error: str) -> None:
        """Record a refused delivery (see `refused`)."""
        await refused(self.hub, row, status, error)


async def refused(hub: Hub, row: Any, status: int, error: str) -> None:
    """Record a refused delivery: counted, kept with its error and, for a hook, noted
    in its room for its owner (at most every NOTE_EVERY)."""

    def write(tx: Tx) -> None:
        due = row.room_id is not None and (
            row.noted_at is None or tx.now - row.noted_at >= NOTE_EVERY
        )
        store.record_rejection(tx.conn, row.id, error[:1000], tx.now, noted=due)
        record_in(tx, row.id, status, "refused: nothing was changed", error)
        if due:
            text = (
                f"{row.owner}: integration **{row.name}** refused a delivery: {error[:300]} "
                "(nothing from it was posted)"
            )
            post_in_rooms(
                tx,
                hub,
                [row.room_id],
                author="thereyet",
                kind="integration",
                body=text,
                data={"integration": row.name, "refused": True},
            )

    await hub.writer.run(write)


def record_in(
    tx: Tx, integration_id: int, status: int, summary: str, error: str | None = None
) -> None:
    """Keep a delivery of the integration, in the transaction that handled it."""
    store.record_delivery(
        tx.conn,
        integration_id,
        received_at=tx.now,
        status=status,
        error=error[:1000] if error else None,
        summary=summary[:200],
    )


def integration_view(row: Any, base: str, deliveries: list[Any]) -> dict[str, Any]:
    """What the API and the page show of an integration (never its token or secret)."""
    kind = KINDS[row.kind]
    return {
        "name": row.name,
        "kind": row.kind,
        "format": row.kind,  # deprecated: the former field name, kept for one release
        "room": row.room,
        "service": row.service,
        "url": base + kind.path(HIDDEN),
        "owner": row.owner,
        "has_secret": bool(row.secret or row.secret_hash),
        "rejected": row.rejected,
        "last_error": row.last_error,
        "last_error_at": iso(row.last_error_at),
        "created_at": iso(row.created_at),
        "revoked": row.revoked_at is not None,
        "deliveries": [
            {
                "at": iso(d.received_at),
                "status": d.status,
                "ok": d.status < 400,
                "error": d.error,
                "summary": d.summary,
            }
            for d in deliveries
        ],
    }
