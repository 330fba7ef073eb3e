"""Plan, apply and export the hub's configuration (the use cases the CLI and API call).

Apply runs as one change of the hub's single writer: it reads the hub, plans,
stops on any error, writes every object and marks it managed, all in one
transaction, so a failed apply leaves the hub as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ..hub import Hub
from ..services.pings import FORGET_PING_KEYS
from ..services.tokens import FORGET_TOKENS
from ..store.tables import (
    channels,
    config_objects,
    incident_services,
    incidents,
    routes,
    settings,
    tokens,
)
from ..store.writer import Tx
from . import plan as planning
from .checks import check
from .current import read_current
from .load import Desired, load
from .model import KINDS
from .problems import ConfigInvalid, Problem
from .render import render
from .writes import DELETES, PUTS, Written

MANAGED_CHANGES_KEY = "config.managed_changes"
PUBLIC_URL_KEY = "public_url"


@dataclass
class Applied:
    plan: planning.Plan
    written: Written


def _setting(conn: Connection, key: str) -> Any:
    return conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()


def _put_setting(conn: Connection, key: str, value: Any) -> None:
    if conn.execute(select(settings.c.key).where(settings.c.key == key)).first():
        conn.execute(update(settings).where(settings.c.key == key).values(value=value))
    else:
        conn.execute(insert(settings).values(key=key, value=value))


def hub_settings(conn: Connection) -> dict[str, Any]:
    return {
        "public_url": _setting(conn, PUBLIC_URL_KEY),
        "managed_changes": _setting(conn, MANAGED_CHANGES_KEY) or "refuse",
    }


def managed_objects(conn: Connection) -> dict[tuple[str, str], Any]:
    return {(r.kind, r.name): r for r in conn.execute(select(config_objects))}


def plan_in(conn: Connection, desired: Desired, *, prune: bool, now: Any) -> planning.Plan:
    """The plan of `desired` against the hub as `conn` sees it, with every problem."""
    current = read_current(conn)
    rows = managed_objects(conn)
    managed = {key: (r.file, r.digest) for key, r in rows.items()}
    result = planning.compute(desired, current, managed, hub_settings(conn), prune=prune)
    pruned = {(c.kind, c.name) for c in result.changes if c.action == "delete"}
    result.problems = check(desired, current, pruned, now) + _undeletable(conn, result)
    return result


def _undeletable(conn: Connection, result: planning.Plan) -> list[Problem]:
    """Deletions the hub cannot make: a service keeps the incidents opened on it."""
    found = []
    for change in result.changes:
        if change.action != "delete" or change.kind != "services":
            continue
        count = conn.execute(
            select(func.count())
            .select_from(incidents)
            .join(incident_services, incident_services.c.id == incidents.c.service_id)
            .where(incident_services.c.name == change.name)
        ).scalar()
        if count:
            reason = f"has {count} incidents and cannot be deleted; keep it in the files"
            found.append(Problem(change.file, None, f"services.{change.name}", reason))
    return found


class ConfigService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def plan(
        self, texts: Mapping[str, str], resolve: Callable[[str], str], *, prune: bool
    ) -> planning.Plan:
        """What apply would do; raises ConfigInvalid when the files cannot be read."""
        desired = load(texts, resolve)
        with self.hub.engines.read.connect() as conn:
            return plan_in(conn, desired, prune=prune, now=self.hub.clock.now())

    def apply_sync(
        self, texts: Mapping[str, str], resolve: Callable[[str], str], *, prune: bool
    ) -> Applied:
        desired = load(texts, resolve)
        done = self.hub.writer.run_sync(lambda tx: _apply(tx, desired, prune))
        self._forget_checked()
        return done

    async def apply(
        self, texts: Mapping[str, str], resolve: Callable[[str], str], *, prune: bool
    ) -> Applied:
        desired = load(texts, resolve)
        done = await self.hub.writer.run(lambda tx: _apply(tx, desired, prune))
        self._forget_checked()
        return done

    def _forget_checked(self) -> None:
        """The files may have revoked or narrowed tokens and ping keys: every node
        forgets those it has checked lately, as when they are revoked through the API
        (on PostgreSQL through the bus bridge, from `thereyet apply` too)."""
        for topic in (FORGET_TOKENS, FORGET_PING_KEYS):
            self.hub.bus.publish(topic, {})

    def export(self) -> tuple[dict[str, str], dict[str, str]]:
        """The configuration as files, and the secrets their env references stand for."""
        with self.hub.engines.read.connect() as conn:
            return export_from(conn)

    def owners(self, kind: str) -> dict[str, str]:
        """The objects of `kind` ("users", "tokens"...) the files manage: name -> file."""
        query = select(config_objects.c.name, config_objects.c.file).where(
            config_objects.c.kind == kind
        )
        with self.hub.engines.read.connect() as conn:
            return {str(name): str(file) for name, file in conn.execute(query)}

    def owner(self, kind: str, key: str) -> tuple[str, str, str] | None:
        """Who owns the object a request names: (file, what the API does, "kind.name"),
        or None when the files do not manage it. `kind` may be token-id or route-id."""
        with self.hub.engines.read.connect() as conn:
            named = _named(conn, kind, key)
            if named is None:
                return None
            row = conn.execute(
                select(config_objects.c.file).where(
                    config_objects.c.kind == named[0], config_objects.c.name == named[1]
                )
            ).first()
            if row is None:
                return None
            mode = str(_setting(conn, MANAGED_CHANGES_KEY) or "refuse")
            return str(row.file), mode, f"{named[0]}.{named[1]}"


def _named(conn: Connection, kind: str, key: str) -> tuple[str, str] | None:
    if kind == "token-id":
        name = conn.execute(select(tokens.c.name).where(tokens.c.id == key)).scalar()
        return None if name is None else ("tokens", str(name))
    if kind == "route-id":
        query = select(channels.c.name).join(routes, routes.c.channel_id == channels.c.id)
        name = conn.execute(query.where(routes.c.id == int(key))).scalar()
        return None if name is None else ("channels", str(name))
    if kind == "hub":
        return "hub", "settings"
    return kind, key


def export_from(conn: Connection) -> tuple[dict[str, str], dict[str, str]]:
    rows = managed_objects(conn)
    owners = {key: r.file for key, r in rows.items()}
    refs = {key: dict(r.refs) for key, r in rows.items()}
    return render(read_current(conn), hub_settings(conn), owners, refs)


def _apply(tx: Tx, desired: Desired, prune: bool) -> Applied:
    result = plan_in(tx.conn, desired, prune=prune, now=tx.now)
    if result.errors:
        raise ConfigInvalid(result.errors)
    written = Written()
    if desired.hub is not None:
        _put_setting(tx.conn, MANAGED_CHANGES_KEY, desired.hub["managed_changes"])
        if desired.hub["public_url"]:
            _put_setting(tx.conn, PUBLIC_URL_KEY, desired.hub["public_url"])
    deletes = [c for c in result.changes if c.action == "delete"]
    for change in sorted(deletes, key=lambda c: -list(KINDS).index(c.kind)):
        DELETES[change.kind](tx, change.name)
        tx.conn.execute(
            delete(config_objects).where(
                config_objects.c.kind == change.kind, config_objects.c.name == change.name
            )
        )
    for change in result.changes:
        if change.action in ("create", "update") and change.kind in PUTS:
            obj = desired.objects[change.kind][change.name]
            PUTS[change.kind](tx, change.name, obj, written)
    _mark_managed(tx, desired)
    if desired.hub is not None:
        _mark_hub(tx, desired.singleton_files["hub"], bool(desired.hub["public_url"]))
    return Applied(result, written)


def _mark_managed(tx: Tx, desired: Desired) -> None:
    """Record each object's owning file, references and fingerprint as it now is."""
    after = read_current(tx.conn)
    for (kind, name), file in desired.owners.items():
        tx.conn.execute(
            delete(config_objects).where(
                config_objects.c.kind == kind, config_objects.c.name == name
            )
        )
        tx.conn.execute(
            insert(config_objects).values(
                kind=kind,
                name=name,
                file=file,
                digest=planning.digest(after[kind][name]),
                refs=desired.refs.get((kind, name), {}),
                applied_at=tx.now,
            )
        )


def _mark_hub(tx: Tx, file: str, owns_public_url: bool) -> None:
    """Record the file of [hub] (export writes it back there); the API's public-URL
    setting is refused only when that file sets the public URL."""
    key = (config_objects.c.kind == "hub") & (config_objects.c.name == "settings")
    tx.conn.execute(delete(config_objects).where(key))
    if not owns_public_url:
        return
    tx.conn.execute(
        insert(config_objects).values(
            kind="hub", name="settings", file=file, digest="", refs={}, applied_at=tx.now
        )
    )
