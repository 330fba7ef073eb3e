"""Share links: a revocable, read-only view of one room or one job, for people without an account.

A link's token reads `sh_<id>_<secret>`, like an API token: the id finds the
row, the secret's SHA-256 is compared with hmac.compare_digest. The token is
shown once, in the link, when it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from ..domain.access import REVOKED_TOPIC, Principal, Scope
from ..domain.policy import Credential
from ..hub import Hub
from ..store import shares as store
from ..store.writer import Tx
from .cache import RecentlyChecked, kept_in_step
from .errors import Forbidden, Invalid, NotFound
from .rooms import check_name
from .views import iso

PREFIX = "sh_"
KINDS = ("room", "job")

ShareKind = Literal["room", "job"]


@dataclass(frozen=True)
class Share:
    id: str
    kind: ShareKind
    target: str

    @property
    def principal(self) -> Principal:
        """A reader limited to the shared room (and its runs) or the shared job's runs."""
        only = frozenset({self.target})
        if self.kind == "room":
            return Principal(
                name=f"share:{self.id}",
                scope=Scope.READ,
                rooms=only,
                credential=Credential.ROOM_SHARE,
            )
        return Principal(
            name=f"share:{self.id}", scope=Scope.READ, jobs=only, credential=Credential.JOB_SHARE
        )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def share_url(token: str) -> str:
    return f"/share/{token}"


def share_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "target": row.target,
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
        "revoked_at": iso(row.revoked_at),
    }


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(PREFIX):
        return None
    share_id, sep, secret = token[len(PREFIX) :].partition("_")
    return (share_id, secret) if sep and share_id and secret else None


class ShareService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._checked: RecentlyChecked[Share] = RecentlyChecked()
        self._forget_everywhere = kept_in_step(self._checked, hub.bus, "forget:shares")

    async def create(self, who: Principal, kind: str, target: str) -> tuple[str, dict[str, Any]]:
        """Make a link to a room or a job; return its token (the only time it is shown) and view."""
        _need_admin(who)
        if kind not in KINDS:
            raise Invalid("kind must be 'room' or 'job'", field="kind")
        check_name(target, "target")

        def write(tx: Tx) -> tuple[str, dict[str, Any]]:
            if not store.target_exists(tx.conn, kind, target):
                raise NotFound(f"no {kind} named {target!r}", field="target")
            share_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
            store.insert_share(
                tx.conn,
                id=share_id,
                secret_hash=_hash(secret),
                kind=kind,
                target=target,
                created_by=who.name,
                created_at=tx.now,
            )
            token = f"{PREFIX}{share_id}_{secret}"
            view = share_view(store.get_share(tx.conn, share_id))
            return token, {**view, "url": share_url(token)}

        return await self.hub.writer.run(write)

    def all(self, who: Principal) -> list[dict[str, Any]]:
        _need_admin(who)
        with self.hub.engines.read.connect() as conn:
            return [share_view(row) for row in store.list_shares(conn)]

    async def revoke(self, who: Principal, share_id: str) -> None:
        _need_admin(who)

        def write(tx: Tx) -> None:
            if not store.revoke_share(tx.conn, share_id, tx.now):
                raise NotFound(f"no active share link with id {share_id!r}")

        await self.hub.writer.run(write)
        self._forget_everywhere()
        # Streams opened with the link end now (on other nodes too, through the bus).
        self.hub.bus.publish(REVOKED_TOPIC, {"keys": [f"share:{share_id}"]})

    def verify(self, token: str) -> Share | None:
        """The share behind a link's token, or None if it is unknown or revoked."""
        parts = _split(token)
        if parts is None:
            return None
        share_id, secret = parts

        def load() -> Share | None:
            with self.hub.engines.read.connect() as conn:
                row = store.get_share(conn, share_id)
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.secret_hash, _hash(secret)):
                return None
            return Share(id=row.id, kind=row.kind, target=row.target)

        return self._checked.get_or_load(_hash(token), load)


def _need_admin(who: Principal) -> None:
    if not who.is_admin:
        raise Forbidden("only an admin may manage share links")
