"""API tokens: issued once in clear, kept as a hash, checked in constant time.

A token reads `ty_<id>_<secret>`: the id finds the row, the secret's SHA-256
is compared with hmac.compare_digest. Tokens are long random strings, so a
fast hash is enough (passwords, which people choose, get argon2 elsewhere).

A run the hub starts (a scheduled callback, `!run`) gets a token good for that
run only, and only until the run ends: its id is derived from the run's, so the
run's end revokes it by its key in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from ..domain.access import RUN_TOKEN_PREFIX, Principal, Scope
from ..domain.agents import is_agent_name
from ..domain.names import is_valid_name
from ..hub import Hub
from ..store import tokens as store
from ..store.writer import Tx
from .cache import RecentlyChecked, kept_in_step
from .errors import Invalid, NotFound
from .views import iso

PREFIX = "ty_"
MAX_NAME, MAX_LIMITS = 200, 100
ISSUED_SCOPES = (Scope.ADMIN, Scope.READ, Scope.INGEST, Scope.AGENT)  # run tokens: only for a run
FORGET_TOKENS = "forget:tokens"  # bus topic: every node forgets the tokens it checked


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str]:
    """(id, secret) of a token. A token not of our making (say one set through
    THEREYET_ADMIN_TOKEN) gets an id derived from its hash."""
    if token.startswith(PREFIX):
        token_id, sep, secret = token[len(PREFIX) :].partition("_")
        if sep and token_id and secret:
            return token_id, secret
    return "h" + _hash(token)[:11], token


def scope_named(text: str) -> Scope:
    """The scope a person may give a new token, from its name; else Invalid."""
    for scope in ISSUED_SCOPES:
        if text == scope.value:
            return scope
    choices = ", ".join(s.value for s in ISSUED_SCOPES)
    raise Invalid(f"scope must be one of {choices}", field="scope")


def run_token_id(run_id: str) -> str:
    """The id of the token issued for run `run_id` (see issue_run_token)."""
    return "r" + hashlib.sha256(run_id.encode()).hexdigest()[:20]


def _principal(row: Any) -> Principal:
    return Principal(
        name=row.name,
        scope=Scope(row.scope),
        token_id=row.id,
        jobs=frozenset(row.jobs),
        rooms=frozenset(row.rooms),
        agent=row.agent,
    )


def token_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "scope": row.scope,
        "jobs": row.jobs,
        "rooms": row.rooms,
        "agent": row.agent,
        "created_at": iso(row.created_at),
        "revoked_at": iso(row.revoked_at),
    }


def issue(
    conn: Connection,
    now: Any,
    *,
    name: str,
    scope: Scope,
    jobs: Iterable[str] = (),
    rooms: Iterable[str] = (),
    secret_token: str | None = None,
    token_id: str | None = None,
    agent: str | None = None,
) -> tuple[str, Any]:
    """Store a new token and return it in clear (the only time it exists so) with its row.

    `token_id` chooses the id of a generated token (random otherwise); `agent` makes an
    agent token good for that one agent name."""
    jobs, rooms = sorted(set(jobs)), sorted(set(rooms))
    if not name.strip() or len(name) > MAX_NAME:
        raise Invalid(f"name must be 1-{MAX_NAME} characters", field="name")
    if len(jobs) > MAX_LIMITS or len(rooms) > MAX_LIMITS:
        raise Invalid(f"a token names at most {MAX_LIMITS} jobs and rooms", field="jobs")
    if scope is not Scope.INGEST and (jobs or rooms):
        raise Invalid("only ingest tokens can be limited to jobs or rooms", field="scope")
    if agent is not None and scope is not Scope.AGENT:
        raise Invalid("only agent tokens can be made for one agent", field="agent")
    if agent is not None and not is_agent_name(agent):
        raise Invalid("agent must be 1-64 of a-z, 0-9, . _ -", field="agent")
    for field, names in (("jobs", jobs), ("rooms", rooms)):
        if bad := [n for n in names if not is_valid_name(n)]:
            raise Invalid(f"not a valid name: {bad[0]!r}", field=field)
    if secret_token is not None:
        if len(secret_token) < 16:
            raise Invalid("a given token must be at least 16 characters long")
        token_id, secret = split_token(secret_token)
    else:
        token_id, secret = token_id or secrets.token_hex(6), secrets.token_urlsafe(32)
    store.insert_token(
        conn,
        id=token_id,
        name=name,
        secret_hash=_hash(secret),
        scope=scope.value,
        jobs=jobs,
        rooms=rooms,
        agent=agent,
        created_at=now,
    )
    clear = secret_token or f"{PREFIX}{token_id}_{secret}"
    return clear, store.get_token(conn, token_id)


def issue_run_token(tx: Tx, run_id: str) -> str:
    """Within `tx`: a token that may report to run `run_id` only; return it in clear."""
    token, _ = issue(
        tx.conn,
        tx.now,
        name=f"{RUN_TOKEN_PREFIX}{run_id}",
        scope=Scope.RUN,
        token_id=run_token_id(run_id),
    )
    return token


def revoke_run_token(tx: Tx, run_id: str) -> bool:
    """Within `tx`: end the token issued for run `run_id` RUN_TOKEN_GRACE from now.

    The grace lets the run's service repeat a finish whose answer it lost, and
    send what it still had spooled; then the token stops working (on every node
    within 5 s, the time a node remembers a checked token). Return True if the
    run had a token still valid."""
    return store.revoke_token(tx.conn, run_token_id(run_id), tx.now + RUN_TOKEN_GRACE)


RUN_TOKEN_GRACE = timedelta(minutes=10)


class TokenService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        # A checked token's principal, and when it stops working (None: until revoked).
        self._checked: RecentlyChecked[tuple[Principal, datetime | None]] = RecentlyChecked(
            clock=lambda: hub.clock.now().timestamp()
        )
        self._forget_everywhere = kept_in_step(self._checked, hub.bus, FORGET_TOKENS)
        # Called within the revocation's transaction with the revoked token's id (the
        # agents it held are lost at once and their names freed).
        self.revoke_hooks: list[Callable[[Tx, str], None]] = []

    def verify(self, token: str) -> Principal | None:
        """The principal behind a bearer token, or None if it is unknown or revoked."""
        return self._valid(self._checked.get_or_load(_hash(token), lambda: self._load(token)))

    async def check(self, token: str) -> Principal | None:
        """verify, for an event loop: no thread unless the token was not checked lately."""
        key = _hash(token)
        return self._valid(await self._checked.get_or_load_soon(key, lambda: self._load(token)))

    def _valid(self, found: tuple[Principal, datetime | None] | None) -> Principal | None:
        if found is None:
            return None
        principal, ends_at = found
        return principal if ends_at is None or self.hub.clock.now() < ends_at else None

    def _load(self, token: str) -> tuple[Principal, datetime | None] | None:
        token_id, secret = split_token(token)
        with self.hub.engines.read.connect() as conn:
            row = store.get_token(conn, token_id)
        if row is None:
            return None
        # A revoked token ends at once, but a run's token only when its grace is over
        # (revoke_run_token sets the end ahead).
        in_grace = row.scope == Scope.RUN.value and row.revoked_at is not None
        if row.revoked_at is not None and not (in_grace and self.hub.clock.now() < row.revoked_at):
            return None
        if not hmac.compare_digest(row.secret_hash, _hash(secret)):
            return None
        return _principal(row), row.revoked_at

    async def create(
        self,
        *,
        name: str,
        scope: Scope,
        jobs: Iterable[str] = (),
        rooms: Iterable[str] = (),
        agent: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        def write(tx: Tx) -> tuple[str, dict[str, Any]]:
            token, row = issue(
                tx.conn, tx.now, name=name, scope=scope, jobs=jobs, rooms=rooms, agent=agent
            )
            return token, token_view(row)

        return await self.hub.writer.run(write)

    def all(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            return [token_view(row) for row in store.list_tokens(conn)]

    async def revoke(self, token_id: str) -> None:
        def write(tx: Tx) -> None:
            if not store.revoke_token(tx.conn, token_id, tx.now):
                raise NotFound(f"no active token with id {token_id!r}")
            for hook in self.revoke_hooks:
                hook(tx, token_id)

        await self.hub.writer.run(write)
        self._forget_everywhere()


def bootstrap_admin(hub: Hub) -> str | None:
    """On first start, create the admin token; return it in clear if it was generated."""
    given = hub.settings.admin_token or None

    def write(tx: Tx) -> str | None:
        if store.get_setting(tx.conn, "bootstrapped"):
            return None
        token, _ = issue(tx.conn, tx.now, name="admin", scope=Scope.ADMIN, secret_token=given)
        store.put_setting(tx.conn, "bootstrapped", True)
        return None if given else token

    return hub.writer.run_sync(write)
