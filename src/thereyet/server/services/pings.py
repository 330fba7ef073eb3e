"""Pings in the healthchecks style, turned into runs.

- start: a run begins (its id is the client's rid, when given);
- success, fail, an exit status: the matching run ends (one is created
  and ended at once when no start was seen);
- log: a line in the matching run's log.
The request body, cut to PING_BODY_LIMIT bytes, becomes log lines of the run.
Each ping is one transaction: a retried or concurrent ping never leaves a
half-made run.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.access import SYSTEM
from ..domain.events import Log
from ..domain.names import is_valid_name
from ..domain.ratelimit import Bucket, Rate
from ..domain.runs import RunStatus
from ..hub import Hub
from ..store import monitoring as store
from ..store import rooms as room_store
from ..store import runs as run_store
from ..store.writer import Tx
from .cache import RecentlyChecked, kept_in_step
from .errors import NotFound, ServiceError
from .ping_groups import Limit, PingEnd, pings_together
from .rate_buckets import SharedBuckets
from .runs import NewRun, RunService
from .views import iso

PING_BODY_LIMIT = 100_000
CHECK_KEY = "ping-job:"  # a check's bucket of the per-check limit: this and its name
ACTIONS = ("success", "start", "fail", "log")


class PingError(ServiceError):
    """A ping refused with one of healthchecks' short plain-text answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Ping:
    action: str  # success | start | fail | log
    exit_code: int | None = None
    rid: str | None = None
    body: bytes = b""


def parse_rid(raw: str | None) -> str | None:
    """A run id must be a UUID in canonical form, as healthchecks requires."""
    if raw is None:
        return None
    try:
        parsed = uuid.UUID(raw)
    except ValueError:
        raise PingError(400, "invalid uuid format") from None
    if str(parsed) != raw.lower():
        raise PingError(400, "invalid uuid format")
    return str(parsed)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


FORGET_PING_KEYS = "forget:ping-keys"  # bus topic: every node forgets the keys it checked


class PingService:
    def __init__(self, hub: Hub, runs: RunService) -> None:
        self.hub = hub
        self.runs = runs
        settings = hub.settings
        # Shared by every node on PostgreSQL: N nodes allow the rate, not N times it.
        self.per_job = SharedBuckets(
            hub, Rate(per_minute=settings.ping_rate_per_minute, burst=settings.ping_burst)
        )
        self.creations = SharedBuckets(hub, Rate(per_minute=60, burst=30))
        capacity = self.per_job.rate.capacity if self.per_job.locked_in_database else None
        self.group_limit = Limit(self._limit, CHECK_KEY, capacity)
        # Slug pings: a live ping key's id by the key's hash (forgotten on every node
        # when a key is revoked), and a check's ping uuid by its slug ("" for a job
        # without one). A slug's uuid gone stale (the job deleted or renamed since) is
        # harmless: the group finds no check by it, and the ping is made alone, by slug.
        seconds = lambda: hub.clock.now().timestamp()  # noqa: E731 (the hub's clock)
        self._keys: RecentlyChecked[str] = RecentlyChecked(clock=seconds)
        self._forget_keys = kept_in_step(self._keys, hub.bus, FORGET_PING_KEYS)
        self._slugs: RecentlyChecked[str] = RecentlyChecked(clock=seconds)

    async def by_uuid(self, ping_uuid: str, ping: Ping) -> int:
        """Apply a ping sent to /ping/<uuid>; return the HTTP status (200).

        Which check the URL belongs to is looked up in the writer, together with the
        other pings of its group (see ping_groups), and the per-check limit is spent
        there too, in the group's transaction."""

        def alone(tx: Tx) -> str:
            return self._apply_by_uuid(tx, ping_uuid, ping)

        if ping.action in ("success", "fail") and ping.rid is None:
            await self.hub.writer.run_batched(self._together, (ping_uuid, ping), alone)
        else:
            await self.hub.writer.run(alone)
        return 200

    def _apply_by_uuid(self, tx: Tx, ping_uuid: str, ping: Ping) -> str:
        row = store.job_by_ping_uuid(tx.conn, ping_uuid)
        if row is None:
            raise PingError(404, "not found")
        self._throttle_in(tx, row.name)
        self._apply(tx, row.id, row.name, ping)
        return str(row.name)

    def _together(self, tx: Tx, items: list[tuple[str, Ping]]) -> list[Any]:
        """A writer batch handler: see ping_groups.pings_together."""
        ends = [
            PingEnd(
                ping_uuid,
                failed=ping.action == "fail" or (ping.exit_code or 0) != 0,
                exit_code=ping.exit_code,
                log=ping.body[:PING_BODY_LIMIT].decode("utf-8", errors="replace"),
            )
            for ping_uuid, ping in items
        ]
        return pings_together(self.runs, tx, ends, self.group_limit)

    def _limit(
        self, tx: Tx, checks: list[str], held: Mapping[str, Bucket] | None
    ) -> list[BaseException | None]:
        """The per-check limit for pings made together (ping_groups.Limit)."""
        waits = self.per_job.take_in(tx, [f"{CHECK_KEY}{name}" for name in checks], held)
        return [PingError(429, "rate limited") if wait else None for wait in waits]

    def _throttle_in(self, tx: Tx, check: str) -> None:
        if self.per_job.take_in(tx, [f"{CHECK_KEY}{check}"])[0]:
            raise PingError(429, "rate limited")

    async def by_slug(self, key: str, slug: str, ping: Ping, *, create: bool) -> int:
        """Apply a ping sent to /ping/<ping-key>/<slug>; 201 when it created the job."""

        key_id = await self._keys.get_or_load_soon(_hash(key), lambda: self._key_id(key))
        check = (
            None
            if key_id is None
            else await self._slugs.get_or_load_soon(slug, lambda: self._slug_uuid(slug))
        )
        if key_id is None or (check is None and not create):
            raise PingError(404, "not found")
        if check is None and not is_valid_name(slug):
            raise PingError(400, "invalid url format")
        if check is None and await self.creations.take(f"ping-key:{key_id}"):
            raise PingError(429, "rate limited")

        def write(tx: Tx) -> int:
            job_id = store.job_row(tx.conn, slug)
            created = job_id is None
            if created and not create:
                raise PingError(404, "not found")  # gone since its uuid was remembered
            self._throttle_in(tx, slug)
            if created:
                new_id = room_store.ensure_job(tx.conn, slug, tx.now)
                store.update_job(tx.conn, new_id, ping_uuid=str(uuid.uuid4()))
            job = store.job_row(tx.conn, slug)
            self._apply(tx, job.id, slug, ping)
            return 201 if created else 200

        if check and ping.action in ("success", "fail") and not ping.rid:
            # An existing check's plain end: made with its neighbours, found by its URL.
            made = await self.hub.writer.run_batched(self._together, (check, ping), write)
            return made if isinstance(made, int) else 200
        return await self.hub.writer.run(write)

    def _key_id(self, key: str) -> str | None:
        with self.hub.engines.read.connect() as conn:
            found = store.ping_key_by_hash(conn, _hash(key))
        return None if found is None else str(found.id)

    def _slug_uuid(self, slug: str) -> str | None:
        with self.hub.engines.read.connect() as conn:
            row = store.job_row(conn, slug)
        return None if row is None else str(row.ping_uuid or "")

    # -- one ping, one transaction ----------------------------------------------------------

    def _apply(self, tx: Tx, job_id: int, job: str, ping: Ping) -> None:
        text = ping.body[:PING_BODY_LIMIT].decode("utf-8", errors="replace")
        if ping.action == "start":
            self._log(tx, self._start(tx, job_id, job, ping.rid), text)
            return
        found = store.open_ping_run(tx.conn, job_id, ping.rid)
        if ping.action == "log":
            found = found or self._existing_rid_run(tx, job, ping.rid)
            found = found or store.latest_run(tx.conn, job_id)
            if found is None:
                store.insert_job_event(
                    tx.conn, job_id, kind="log", ts=tx.now, data={"text": text[-2000:]}
                )
            else:
                self._log(tx, found, text)
            return
        if found is None and self._existing_rid_run(tx, job, ping.rid):
            return  # a repeated end of a run that already ended: nothing to do
        run_id = found or self._start(tx, job_id, job, ping.rid)
        self._log(tx, run_id, text)
        failed = ping.action == "fail" or (ping.exit_code or 0) != 0
        self.runs.finish_in(
            tx,
            SYSTEM,
            run_id,
            RunStatus.FAILED if failed else RunStatus.SUCCEEDED,
            exit_code=ping.exit_code,
        )

    def _start(self, tx: Tx, job_id: int, job: str, rid: str | None) -> str:
        run_id = uuid.UUID(rid).hex if rid else uuid.uuid4().hex
        existing = run_store.load_run(tx.conn, run_id)
        if existing is not None and existing.job != job:
            raise PingError(409, "run id belongs to another check")
        if existing is not None:
            return run_id
        self.runs.create_in(tx, NewRun(job=job, id=run_id, trigger="ping"))
        store.set_run_columns(tx.conn, run_id, ping_rid=rid)
        return run_id

    def _existing_rid_run(self, tx: Tx, job: str, rid: str | None) -> str | None:
        if rid is None:
            return None
        run = run_store.load_run(tx.conn, uuid.UUID(rid).hex)
        if run is not None and run.job != job:
            raise PingError(409, "run id belongs to another check")
        return run.id if run is not None else None

    def _log(self, tx: Tx, run_id: str, text: str) -> None:
        if not text.strip():
            return
        event = Log(id=f"ping-{uuid.uuid4().hex}", ts=tx.now, text=text, stream="log")
        self.runs.report_in(tx, SYSTEM, run_id, [event])

    # -- ping keys -------------------------------------------------------------------------

    async def create_key(self, name: str) -> dict[str, Any]:
        key = secrets.token_urlsafe(16)
        key_id = secrets.token_hex(6)

        def write(tx: Tx) -> dict[str, Any]:
            store.insert_ping_key(
                tx.conn, id=key_id, name=name, key_hash=_hash(key), created_at=tx.now
            )
            return {"id": key_id, "name": name, "key": key, "created_at": iso(tx.now)}

        return await self.hub.writer.run(write)

    def keys(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            rows = store.list_ping_keys(conn)
        return [
            {
                "id": r.id,
                "name": r.name,
                "created_at": iso(r.created_at),
                "revoked_at": iso(r.revoked_at),
            }
            for r in rows
        ]

    async def revoke_key(self, key_id: str) -> None:
        def write(tx: Tx) -> None:
            if not store.revoke_ping_key(tx.conn, key_id, tx.now):
                raise NotFound(f"no active ping key with id {key_id!r}")

        await self.hub.writer.run(write)
        self._forget_keys()
