"""Agents and the runs they take (see domain/agents.py and services/agents.py).

Every change of a work row's owner is a conditional UPDATE whose row count says
whether this node won: queued -> assigned (to one agent), assigned -> running
(by that agent only), so two hub nodes never hand one run to two agents.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text, update

from ..domain.access import TOKEN_PRINCIPAL
from .claims import unlocked
from .tables import agent_work, agents, tokens

BUSY = ("assigned", "running")
TOKEN_HOLDER = TOKEN_PRINCIPAL  # an agent name held by a token: "token:<its id>"


# -- agents ------------------------------------------------------------------------------


def save_agent(
    conn: Connection,
    name: str,
    values: dict[str, Any],
    now: datetime,
    *,
    holder_was: str | None = None,
) -> bool:
    """Record an agent as online (new, or with what it says now), if its name's holder
    is still `holder_was` (what the caller read): False if another credential took the
    name meanwhile (a node on PostgreSQL, between that read and this write)."""
    same = agents.c.holder.is_(None) if holder_was is None else agents.c.holder == holder_was
    found = conn.execute(
        update(agents)
        .where(agents.c.name == name, same)
        .values(**values, state="online", last_seen_at=now)
    )
    if found.rowcount == 1:
        return True
    if get_agent(conn, name) is not None:
        return False
    conn.execute(
        insert(agents).values(
            name=name, **values, state="online", registered_at=now, last_seen_at=now
        )
    )
    return True


def seen(conn: Connection, name: str, now: datetime, node: str) -> str | None:
    """Record a sign of life; return the state the agent was in (None: unknown agent)."""
    state: str | None = conn.execute(select(agents.c.state).where(agents.c.name == name)).scalar()
    if state is not None:
        conn.execute(
            update(agents)
            .where(agents.c.name == name)
            .values(last_seen_at=now, state="online", node=node)
        )
    return state


def holder_gone(conn: Connection, holder: str | None, now: datetime) -> bool:
    """Whether the credential `holder` (a principal id) was revoked by `now`."""
    if holder is None or not holder.startswith(TOKEN_HOLDER):
        return False
    ended = conn.execute(
        select(tokens.c.revoked_at).where(tokens.c.id == holder[len(TOKEN_HOLDER) :])
    ).first()
    return ended is not None and ended.revoked_at is not None and ended.revoked_at <= now


def revoked_holders(conn: Connection, now: datetime) -> list[str]:
    """Holders of agent names whose token was revoked by `now`."""
    token_id = func.substr(agents.c.holder, len(TOKEN_HOLDER) + 1)
    query = (
        select(agents.c.holder)
        .distinct()
        .join(tokens, tokens.c.id == token_id)
        .where(agents.c.holder.like(TOKEN_HOLDER + "%"), tokens.c.revoked_at <= now)
    )
    return list(conn.execute(query).scalars())


def release(conn: Connection, holder: str) -> list[str]:
    """Free the names `holder` holds (its agents become lost); return those that were
    online. One conditional UPDATE per agent: of two nodes doing this, one frees each."""
    held = conn.execute(select(agents.c.name, agents.c.state).where(agents.c.holder == holder))
    online = []
    for name, state in list(held):
        changed = conn.execute(
            update(agents)
            .where(agents.c.name == name, agents.c.holder == holder)
            .values(holder=None, state="lost")
        )
        if changed.rowcount == 1 and state == "online":
            online.append(name)
    return online


def delete_agent(conn: Connection, name: str) -> bool:
    return conn.execute(delete(agents).where(agents.c.name == name)).rowcount == 1


def get_agent(conn: Connection, name: str) -> Any:
    return conn.execute(select(agents).where(agents.c.name == name)).first()


def list_agents(conn: Connection) -> list[Any]:
    return list(conn.execute(select(agents).order_by(agents.c.name)))


def online_agents(conn: Connection) -> list[Any]:
    return list(conn.execute(select(agents).where(agents.c.state == "online")))


def mark_lost(conn: Connection, before: datetime) -> list[str]:
    """Mark lost every online agent last heard from before `before`; return their names.

    One conditional UPDATE per agent: of two nodes noticing it, one marks it."""
    names = conn.execute(
        select(agents.c.name).where(agents.c.state == "online", agents.c.last_seen_at < before)
    ).scalars()
    lost = []
    for name in names:
        changed = conn.execute(
            update(agents)
            .where(
                agents.c.name == name,
                agents.c.state == "online",
                agents.c.last_seen_at < before,
            )
            .values(state="lost")
        )
        if changed.rowcount == 1:
            lost.append(name)
    return lost


# -- work --------------------------------------------------------------------------------


# The class of the assigner's advisory locks (PostgreSQL): "agnt" as a 32-bit number.
ASSIGN_LOCKS = 0x61676E74
_HOLD = text(
    "SELECT k FROM unnest(CAST(:keys AS text[])) AS k "
    "WHERE pg_try_advisory_xact_lock(:cls, hashtext(k))"
)


def hold(conn: Connection, keys: set[str]) -> set[str]:
    """Of `keys` ("job:NAME", "agent:NAME"), those this transaction now holds, to its end.

    On PostgreSQL each is an advisory lock tried, never waited for: a key another
    transaction holds is left out (so no order of taking them can deadlock). On SQLite
    there is one writer, and every key is this transaction's."""
    if conn.dialect.name != "postgresql" or not keys:
        return set(keys)
    found = conn.execute(_HOLD, {"keys": sorted(keys), "cls": ASSIGN_LOCKS}).scalars()
    return set(found)


def insert_work(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(agent_work), list(rows))


def get_work(conn: Connection, run_id: str) -> Any:
    return conn.execute(select(agent_work).where(agent_work.c.run_id == run_id)).first()


def queued(conn: Connection, now: datetime, limit: int) -> list[Any]:
    """Queued runs that may start by `now`, oldest first."""
    query = (
        select(agent_work)
        .where(agent_work.c.state == "queued", agent_work.c.not_before <= now)
        .order_by(agent_work.c.queued_at, agent_work.c.run_id)
        .limit(limit)
    )
    return list(conn.execute(query))


def all_queued(conn: Connection) -> list[Any]:
    query = select(agent_work).where(agent_work.c.state == "queued")
    return list(conn.execute(query.order_by(agent_work.c.queued_at, agent_work.c.run_id)))


def busy(conn: Connection) -> list[Any]:
    """Runs assigned to agents or running on them."""
    return list(conn.execute(select(agent_work).where(agent_work.c.state.in_(BUSY))))


def last_assigned(conn: Connection) -> dict[tuple[str, str], datetime]:
    """(agent, job) -> when that agent last took a run of that job."""
    query = (
        select(agent_work.c.agent, agent_work.c.job, func.max(agent_work.c.assigned_at))
        .where(agent_work.c.agent.is_not(None), agent_work.c.assigned_at.is_not(None))
        .group_by(agent_work.c.agent, agent_work.c.job)
    )
    return {(agent, job): at for agent, job, at in conn.execute(query)}


def take(conn: Connection, run_id: str, agent: str, now: datetime) -> bool:
    """Hand a queued run to `agent`; False if another node handed it out first."""
    result = conn.execute(
        update(agent_work)
        .where(unlocked(agent_work, agent_work.c.run_id == run_id), agent_work.c.state == "queued")
        .values(state="assigned", agent=agent, assigned_at=now)
    )
    return result.rowcount == 1


def start(conn: Connection, run_id: str, agent: str, now: datetime) -> bool:
    """The agent starts the run it was handed: False unless it is still handed to it."""
    result = conn.execute(
        update(agent_work)
        .where(
            agent_work.c.run_id == run_id,
            agent_work.c.agent == agent,
            agent_work.c.state == "assigned",
            agent_work.c.cancel == 0,
        )
        .values(state="running", started_at=now)
    )
    return result.rowcount == 1


def offers(conn: Connection, agent: str) -> list[Any]:
    """Runs handed to `agent` that it has not started yet."""
    query = select(agent_work).where(
        agent_work.c.agent == agent, agent_work.c.state == "assigned", agent_work.c.cancel == 0
    )
    return list(conn.execute(query.order_by(agent_work.c.assigned_at, agent_work.c.run_id)))


def cancels(conn: Connection, agent: str) -> list[str]:
    """Runs `agent` runs that are to be stopped."""
    query = select(agent_work.c.run_id).where(
        agent_work.c.agent == agent, agent_work.c.state == "running", agent_work.c.cancel == 1
    )
    return list(conn.execute(query).scalars())


def of_agent(conn: Connection, agent: str, states: Sequence[str]) -> list[Any]:
    query = select(agent_work).where(agent_work.c.agent == agent, agent_work.c.state.in_(states))
    return list(conn.execute(query))


def set_state(conn: Connection, run_id: str, state: str, **values: Any) -> bool:
    result = conn.execute(
        update(agent_work)
        .where(agent_work.c.run_id == run_id, agent_work.c.state != "done")
        .values(state=state, **values)
    )
    return result.rowcount == 1


def requeue(conn: Connection, run_id: str, agent: str) -> bool:
    """Give back a run handed to `agent` but not started (the agent was lost)."""
    result = conn.execute(
        update(agent_work)
        .where(
            agent_work.c.run_id == run_id,
            agent_work.c.agent == agent,
            agent_work.c.state == "assigned",
        )
        .values(state="queued", agent=None, assigned_at=None)
    )
    return result.rowcount == 1


def ask_cancel(conn: Connection, run_id: str) -> bool:
    result = conn.execute(
        update(agent_work)
        .where(agent_work.c.run_id == run_id, agent_work.c.state.in_(BUSY))
        .values(cancel=1)
    )
    return result.rowcount == 1


def retries_of(conn: Connection, run_id: str) -> list[Any]:
    return list(conn.execute(select(agent_work).where(agent_work.c.retry_of == run_id)))


def group(conn: Connection, group_id: str) -> list[Any]:
    """The runs made together for every matching agent (policy `all`)."""
    return list(conn.execute(select(agent_work).where(agent_work.c.group_id == group_id)))
