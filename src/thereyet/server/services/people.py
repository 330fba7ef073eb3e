"""People who sign in to the web pages: accounts, passwords, sessions.

Passwords are hashed with argon2id, by default at RFC 9106's low-memory profile
(argon2-cffi's defaults; the setting password_hash_cost). A session cookie holds a random secret; the hub keeps
only its SHA-256, as it does for API tokens, and compares in constant time by
looking the hash up. Logins are throttled per username and per client.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from ..domain.access import REVOKED_TOPIC, Principal
from ..domain.people import (
    PER_CLIENT,
    PER_USERNAME,
    Role,
    client_key,
    hash_cost,
    login_wait,
    password_problem,
    principal_for,
    user_key,
    username_problem,
)
from ..domain.ratelimit import retry_after
from ..hub import Hub
from ..store import logins as login_store
from ..store import people as store
from ..store.writer import Tx
from .cache import RecentlyChecked, kept_in_step
from .errors import Conflict, Invalid, LoginFailed, NotFound, TooManyAttempts
from .views import iso

SESSION_LIFETIME = timedelta(days=14)
_LOGIN_FAILED = "wrong username or password"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: Role

    @property
    def principal(self) -> Principal:
        return principal_for(self.username, self.role, self.id)


@dataclass(frozen=True)
class WebSession:
    user: User
    csrf: str
    expires_at: datetime
    key: str = ""  # "session:<digest>": what a sign-out announces on the bus

    @property
    def ends_with(self) -> frozenset[str]:
        """The revocation keys that end what this session opened (see REVOKED_TOPIC)."""
        return frozenset({self.key, self.user.principal.id} - {""})

    def csrf_ok(self, token: str | None) -> bool:
        """Whether a form's or header's CSRF token is this session's (constant time)."""
        return bool(token) and hmac.compare_digest(self.csrf, token or "")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _session_key(digest: str) -> str:
    # A prefix of the digest: enough to tell sessions apart, useless to sign in with.
    return f"session:{digest[:24]}"


def _normal(username: str) -> str:
    return username.strip().lower()


def user_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "role": row.role,
        "created_at": iso(row.created_at),
        "disabled_at": iso(row.disabled_at),
    }


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise Invalid(f"role must be one of {choices}", field="role") from None


def password_hasher(cost: str) -> PasswordHasher:
    """An argon2id hasher at `cost` (the setting password_hash_cost); ValueError names the
    setting and what is wrong with it."""
    try:
        parsed = hash_cost(cost)
    except ValueError as exc:
        raise ValueError(f"password_hash_cost {exc}") from None
    return PasswordHasher(
        time_cost=parsed.passes, memory_cost=parsed.memory_kib, parallelism=parsed.lanes
    )


def check_new_password(password: str, username: str) -> None:
    if problem := password_problem(password, username):
        raise Invalid(problem, field="password")


class PeopleService:
    def __init__(self, hub: Hub, hasher: PasswordHasher | None = None) -> None:
        self.hub = hub
        self.hasher = hasher or password_hasher(hub.settings.password_hash_cost)
        self._checked: RecentlyChecked[WebSession] = RecentlyChecked()
        self._forget_everywhere = kept_in_step(self._checked, hub.bus, "forget:sessions")
        self._dummy_hash: str | None = None

    # -- accounts ---------------------------------------------------------------

    async def create_user(self, username: str, password: str, role: Role | str) -> User:
        username = _normal(username)
        if problem := username_problem(username):
            raise Invalid(problem, field="username")
        role = _role(role)
        check_new_password(password, username)
        password_hash = await asyncio.to_thread(self.hasher.hash, password)

        def write(tx: Tx) -> User:
            if store.get_user(tx.conn, username) is not None:
                raise Conflict(f"user {username!r} already exists", field="username")
            try:
                store.insert_user(
                    tx.conn,
                    username=username,
                    password_hash=password_hash,
                    role=role.value,
                    created_at=tx.now,
                )
            except IntegrityError as exc:  # another hub node took the name meanwhile
                raise Conflict(f"user {username!r} already exists", field="username") from exc
            row = store.get_user(tx.conn, username)
            return User(id=row.id, username=row.username, role=Role(row.role))

        return await self.hub.writer.run(write)

    async def set_password(self, username: str, password: str) -> None:
        """Change a password and sign the user out everywhere."""
        username = _normal(username)
        check_new_password(password, username)
        password_hash = await asyncio.to_thread(self.hasher.hash, password)

        def write(tx: Tx) -> None:
            row = store.get_user(tx.conn, username)
            if row is None:
                raise NotFound(f"no user named {username!r}")
            store.set_password_hash(tx.conn, row.id, password_hash)
            store.delete_sessions_of(tx.conn, row.id)

        await self.hub.writer.run(write)
        self._forget_sessions()

    async def set_role(self, username: str, role: Role | str) -> None:
        """Change what a user may do; their pages and live streams follow at once.

        Their sessions stay open: each is checked again on its next request (every
        node forgets the sessions it remembers), and the streams they opened end, so
        the browser reopens them with the new role."""
        username = _normal(username)
        new_role = _role(role)

        def write(tx: Tx) -> int:
            row = store.get_user(tx.conn, username)
            if row is None:
                raise NotFound(f"no user named {username!r}", field="username")
            store.set_role(tx.conn, row.id, new_role.value)
            return int(row.id)

        user_id = await self.hub.writer.run(write)
        self._forget_sessions()
        self.hub.bus.publish(REVOKED_TOPIC, {"keys": [f"user:{user_id}"]})

    def users(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            return [user_view(row) for row in store.list_users(conn)]

    async def disable(self, username: str) -> None:
        """Refuse the user's logins from now on and end their sessions."""
        username = _normal(username)

        def write(tx: Tx) -> int:
            row = store.get_user(tx.conn, username)
            if row is None:
                raise NotFound(f"no user named {username!r}")
            store.disable_user(tx.conn, row.id, tx.now)
            store.delete_sessions_of(tx.conn, row.id)
            return int(row.id)

        user_id = await self.hub.writer.run(write)
        self._forget_sessions()
        self.hub.bus.publish(REVOKED_TOPIC, {"keys": [f"user:{user_id}"]})

    # -- signing in and out -------------------------------------------------------

    async def login(self, username: str, password: str, *, client: str) -> tuple[str, WebSession]:
        """Check a password and open a session; return the cookie's value and the session.

        Raises TooManyAttempts while the username or the client must wait (the back-off
        in domain/people.py, kept in the database for every node), and
        LoginFailed, with one message whether the user exists or not.
        """
        username = _normal(username)
        wait = await self.hub.writer.run(lambda tx: _try_login(tx, username, client))
        if wait > 0:
            seconds = retry_after(wait)
            raise TooManyAttempts(
                f"too many failed logins; try again in {seconds} seconds", retry_after=seconds
            )
        row = await self.hub.read(lambda conn: store.get_user(conn, username))
        if row is None:
            # Spend the same argon2 time as for a real user, so timing tells nothing.
            await asyncio.to_thread(self._verify, self._dummy(), password)
            raise LoginFailed(_LOGIN_FAILED)
        if not await asyncio.to_thread(self._verify, row.password_hash, password):
            raise LoginFailed(_LOGIN_FAILED)
        if row.disabled_at is not None:
            raise LoginFailed(_LOGIN_FAILED)
        rehash = self.hasher.check_needs_rehash(row.password_hash)
        new_hash = await asyncio.to_thread(self.hasher.hash, password) if rehash else None
        return await self.hub.writer.run(lambda tx: self._open_session(tx, row, new_hash, client))

    def _open_session(
        self, tx: Tx, row: Any, new_hash: str | None, client: str
    ) -> tuple[str, WebSession]:
        # The right password: forget the username's failures, and take this attempt back
        # from the client's (not all of them: signing in to an account of one's own between
        # guesses must not reset the count).
        login_store.clear(tx.conn, user_key(row.username))
        login_store.take_back(tx.conn, client_key(client))
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires_at = tx.now + SESSION_LIFETIME
        store.delete_sessions_of(tx.conn, row.id, expired_before=tx.now)
        if new_hash is not None:
            store.set_password_hash(tx.conn, row.id, new_hash)
        store.insert_session(
            tx.conn,
            id=_hash(secret),
            user_id=row.id,
            csrf=csrf,
            created_at=tx.now,
            expires_at=expires_at,
        )
        user = User(id=row.id, username=row.username, role=Role(row.role))
        key = _session_key(_hash(secret))
        return secret, WebSession(user=user, csrf=csrf, expires_at=expires_at, key=key)

    def session(self, cookie: str) -> WebSession | None:
        """The live session behind a cookie's value, or None (unknown, expired, disabled)."""
        if not cookie:
            return None
        digest = _hash(cookie)

        def load() -> WebSession | None:
            with self.hub.engines.read.connect() as conn:
                row = store.get_session(conn, digest)
            if row is None or row.disabled_at is not None:
                return None
            user = User(id=row.user_id, username=row.username, role=Role(row.role))
            key = _session_key(digest)
            return WebSession(user=user, csrf=row.csrf, expires_at=row.expires_at, key=key)

        found = self._checked.get_or_load(digest, load)
        if found is None or found.expires_at <= self.hub.clock.now():
            return None
        return found

    async def logout(self, cookie: str) -> None:
        digest = _hash(cookie)
        await self.hub.writer.run(lambda tx: store.delete_session(tx.conn, digest))
        self._checked.forget(digest)
        self.hub.bus.publish(REVOKED_TOPIC, {"keys": [_session_key(digest)]})
        self._forget_everywhere()  # other nodes may remember it too

    # -- helpers -------------------------------------------------------------------

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    def _forget_sessions(self) -> None:
        self._forget_everywhere()


def _try_login(tx: Tx, username: str, client: str) -> float:
    """Seconds the username or client must still wait; else 0.0, and this attempt is counted
    as failed before its password is checked, so guesses sent at once cannot slip past."""
    keys = {user_key(username): PER_USERNAME, client_key(client): PER_CLIENT}
    found = login_store.failures_of(tx.conn, keys)
    wait = max(login_wait(found.get(key), limits, tx.now) for key, limits in keys.items())
    if wait > 0:
        return wait  # a refused attempt is not counted: waiting always ends the back-off
    login_store.forget_before(tx.conn, tx.now - PER_USERNAME.forget_after)
    for key, limits in keys.items():
        login_store.count_failure(tx.conn, key, tx.now, tx.now - limits.forget_after)
    return 0.0
