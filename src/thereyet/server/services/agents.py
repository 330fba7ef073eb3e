"""Agents: register, poll for work, start what they are handed; the queue they serve.

A run of an agent job is queued with a work row (`queue_in`, called where the
scheduler and `!run` start a job). The assigner (`step`, each tick of every node,
and at each poll) hands queued runs to live agents by the job's policy, one
conditional UPDATE per run. An agent long-polls; it is told what it was handed
and what to stop. Before it starts a process it says so (`start`): the run moves
from assigned to running only if it is still handed to that agent, so a run
starts at most once, and the agent gets a token good for that run only, with
which it reports output and the end through the same API as `thereyet run`.

Loss and reconciliation are in agent_loss.py.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .. import faults
from ..domain import agents as rules
from ..domain.access import AgentRefusal, Principal, agent_name_refusal
from ..domain.agents import AgentLoad, AgentTarget, Waiting
from ..domain.policy import Action, Resource
from ..domain.runs import RunStatus
from ..hub import Hub
from ..store import agents as store
from ..store import monitoring as job_store
from ..store.writer import Tx
from .agent_loss import AgentLoss
from .errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from .runs import NewRun, RunService
from .tokens import issue_run_token
from .views import iso

WORK_TOPIC = "agents.work"  # bus: something an agent may be waiting for changed
ASSIGN_BATCH = 500
MAX_NAME = 64


@dataclass(frozen=True)
class Hello:
    """What an agent says of itself when it registers."""

    name: str
    host: str
    tags: frozenset[str]
    version: str
    slots: int


def check_hello(hello: Hello) -> Hello:
    if not rules.is_agent_name(hello.name):
        raise Invalid("name must be 1-64 of a-z, 0-9, . _ -", field="name")
    try:
        rules.check_tags(hello.tags)
    except ValueError as exc:
        raise Invalid(str(exc), field="tags") from exc
    if not 1 <= hello.slots <= rules.MAX_SLOTS:
        raise Invalid(f"slots must be 1-{rules.MAX_SLOTS}", field="slots")
    return hello


def target_of(raw: dict[str, Any]) -> AgentTarget:
    return rules.parse_target(raw)


class AgentService:
    def __init__(self, hub: Hub, runs: RunService) -> None:
        self.hub = hub
        self.runs = runs
        self.loss = AgentLoss(hub, runs, self.queue_run)
        runs.status_hooks.append(self.loss.on_run_status)
        self._wakers: dict[str, set[asyncio.Event]] = {}  # agent name -> its waiting polls
        self._loop: asyncio.AbstractEventLoop | None = None
        hub.bus.on(WORK_TOPIC, self._heard)

    @property
    def lost_after(self) -> float:
        return self.hub.settings.agent_lost_after

    # -- the queue -----------------------------------------------------------------------

    def queue_in(self, tx: Tx, row: Any, due: datetime, trigger: str) -> str:
        """Within `tx`: queue the job's run(s) for agents; return the (first) run's id.

        Policy `all` makes one run per matching agent known now, grouped; with none,
        one run waits for the first matching agent."""
        target = target_of(row.target)
        names: list[str | None] = [None]
        group = None
        if target.policy == "all":
            known = store.online_agents(tx.conn)
            found = [a.name for a in known if rules.matches(target, a.name, frozenset(a.tags))]
            if found:
                names, group = found, uuid.uuid4().hex
        ids = [
            self.queue_run(tx, row.name, target, due, trigger, bound=name, group=group)
            for name in names
        ]
        return ids[0]

    def queue_run(
        self,
        tx: Tx,
        job: str,
        target: AgentTarget,
        due: datetime,
        trigger: str,
        *,
        bound: str | None = None,
        group: str | None = None,
        attempt: int = 1,
        retry_of: str | None = None,
    ) -> str:
        view, _ = self.runs.create_in(tx, NewRun(job=job, status=RunStatus.QUEUED, trigger=trigger))
        run_id: str = view["id"]
        job_store.set_run_columns(tx.conn, run_id, due_at=due)
        row = {
            "run_id": run_id,
            "job": job,
            "target": target.as_dict(),
            "state": "queued",
            "bound": bound,
            "group_id": group,
            "attempt": attempt,
            "retry_of": retry_of,
            "queued_at": tx.now,
            "not_before": due,
        }
        store.insert_work(tx.conn, [row])  # the assigner hands it out (and wakes that agent)
        return run_id

    # -- the assigner ----------------------------------------------------------------------

    async def step(self, now: datetime) -> bool:
        """Mark lost the agents that went silent, hand queued runs to live agents.
        True if anything was handed out or lost."""
        return await self.hub.writer.run(lambda tx: self._step(tx, now))

    def _step(self, tx: Tx, now: datetime) -> bool:
        lost = self.loss.find_lost(tx, now, self.lost_after)
        handed = self._assign(tx, now)
        return bool(lost or handed)

    def _assign(self, tx: Tx, now: datetime) -> set[str]:
        """Hand out what queued runs can go now; wake the polls of the agents that got
        some, once committed. Return those agents."""
        rows = store.queued(tx.conn, now, ASSIGN_BATCH)
        if not rows:
            return set()
        # A job's concurrency and an agent's slots are counted, then claimed: two nodes
        # counting at once would each hand out the last free place. So the counts are
        # read, and the claims made, holding a lock on each job and agent involved
        # (until commit). A lock another node holds is skipped, not waited for (so no
        # order of taking them deadlocks): that node is assigning that job or agent now,
        # and what it leaves is handed out at the next tick or poll.
        online = store.online_agents(tx.conn)
        held = store.hold(
            tx.conn, {f"job:{r.job}" for r in rows} | {f"agent:{a.name}" for a in online}
        )
        loads = [a for a in self._loads(tx.conn) if f"agent:{a.name}" in held]
        per_job: dict[str, int] = {}
        for work in store.busy(tx.conn):
            per_job[work.job] = per_job.get(work.job, 0) + 1
        queue = [
            Waiting(r.run_id, r.job, target_of(r.target), r.bound)
            for r in rows
            if f"job:{r.job}" in held
        ]
        chosen = rules.assign(queue, loads, per_job, now)
        if chosen:
            faults.pause("agents.before_claim", {w.job for w, _ in chosen})  # tests: a race
        handed = set()
        for waiting, agent in chosen:
            if store.take(tx.conn, waiting.run_id, agent, now):
                handed.add(agent)
        if handed:
            tx.after_commit(lambda: self.wake(handed))
        return handed

    def _loads(self, conn: Any) -> list[AgentLoad]:
        busy: dict[str, int] = {}
        for work in store.busy(conn):
            busy[work.agent] = busy.get(work.agent, 0) + 1
        last = store.last_assigned(conn)
        loads = []
        for agent in store.online_agents(conn):
            ran = {job: at for (name, job), at in last.items() if name == agent.name}
            tags = frozenset(agent.tags)
            loads.append(AgentLoad(agent.name, tags, agent.slots, busy.get(agent.name, 0), ran))
        return loads

    # -- the agent protocol ------------------------------------------------------------------

    async def register(self, who: Principal, hello: Hello, running: list[str]) -> dict[str, Any]:
        """An agent (re)starts: record it online, held by `who`; reconcile what it says it runs."""
        check_hello(hello)
        node = self.hub.settings.node

        def write(tx: Tx) -> dict[str, Any]:
            row = self._may_be(tx, who, hello.name, registering=True)
            values = {
                "host": hello.host[:255],
                "tags": sorted(hello.tags),
                "version": hello.version[:64],
                "slots": hello.slots,
                "node": node,
                "holder": who.id,
            }
            holder_was = None if row is None else row.holder
            if not store.save_agent(tx.conn, hello.name, values, tx.now, holder_was=holder_was):
                raise Conflict(f"agent name {hello.name!r} was just taken", field="name")
            stop = self.loss.reconcile(tx, hello.name, running, tx.now)
            self._assign(tx, tx.now)
            return {**agent_view(store.get_agent(tx.conn, hello.name), [], tx.now), "cancel": stop}

        return await self.hub.writer.run(write)

    def _may_be(self, tx: Tx, who: Principal, name: str, *, registering: bool) -> Any:
        """Refuse (403, 409, or 404: register first) unless `who` may act as agent `name`;
        return the agent's row (None: unknown). Registering writes the holder only if it
        is still the one read here, so of two credentials registering one free name at
        once on two nodes, one gets it and the other a 409."""
        if store.holder_gone(tx.conn, who.id, tx.now):
            # A node remembers a checked token for a few seconds; its agents are lost
            # the moment it is revoked, so they must not come back meanwhile.
            raise Forbidden("this token was revoked")
        row = store.get_agent(tx.conn, name)
        holder = None if row is None else row.holder
        if store.holder_gone(tx.conn, holder, tx.now):
            holder = None  # its token was revoked: the name is free
        refused = agent_name_refusal(who, name, holder, registering=registering)
        if refused is not None:
            raise _refusal_error(refused)
        return row

    async def poll(
        self, who: Principal, name: str, running: list[str], wait: float
    ) -> dict[str, Any]:
        """What the agent is to start and to stop, waiting up to `wait` seconds for some."""
        self._loop = asyncio.get_running_loop()
        stop = await self.hub.writer.run(lambda tx: self._exchange(tx, who, name, running))
        deadline = self._loop.time() + rules.poll_wait(wait, self.lost_after)
        while True:
            answer = await asyncio.to_thread(self._answer, name, stop)
            left = deadline - self._loop.time()
            if answer["work"] or answer["cancel"] or left <= 0:
                return answer
            waker = asyncio.Event()
            self._wakers.setdefault(name, set()).add(waker)
            try:
                await asyncio.wait_for(waker.wait(), timeout=min(left, 2.0))
            except TimeoutError:
                pass
            finally:
                self._forget(name, waker)

    def _exchange(self, tx: Tx, who: Principal, name: str, running: list[str]) -> list[str]:
        self._may_be(tx, who, name, registering=False)
        if store.seen(tx.conn, name, tx.now, self.hub.settings.node) is None:
            raise NotFound(f"no agent named {name!r}: register first", field="name")
        stop = self.loss.reconcile(tx, name, running, tx.now)
        self._assign(tx, tx.now)
        return stop

    def _answer(self, name: str, stop: list[str]) -> dict[str, Any]:
        with self.hub.engines.read.connect() as conn:
            offers = store.offers(conn, name)
            cancel = sorted({*stop, *store.cancels(conn, name)})
        return {"work": [offer_view(w) for w in offers], "cancel": cancel}

    async def start(self, who: Principal, name: str, run_id: str) -> dict[str, Any]:
        """The agent starts a run it was handed: the run is running on its host, and
        the agent gets the run's token. Conflict if it is not (or no longer) its to start."""

        def write(tx: Tx) -> dict[str, Any]:
            self._may_be(tx, who, name, registering=False)
            agent = store.get_agent(tx.conn, name)
            if agent is None or not store.start(tx.conn, run_id, name, tx.now):
                raise Conflict(f"run {run_id} is not handed to agent {name}", field="run_id")
            # Runs name the agent they ran on (by default its host name): "started on db-2".
            if self.runs.begin_in(tx, run_id, agent.name) is None:
                store.set_state(tx.conn, run_id, "done")
                raise Conflict(f"run {run_id} is no longer queued", field="run_id")
            work = store.get_work(tx.conn, run_id)
            return {**offer_view(work), "token": issue_run_token(tx, run_id)}

        return await self.hub.writer.run(write)

    async def cancel(self, who: Principal, run_id: str) -> dict[str, Any]:
        """Cancel a run: one not started yet ends at once; one running on an agent is
        stopped there (SIGTERM, then SIGKILL after a grace) and ends as the agent reports."""

        def write(tx: Tx) -> dict[str, Any]:
            run = self.runs.writable_in(tx, who, run_id)
            work = store.get_work(tx.conn, run_id)
            if work is not None and work.state == "running":
                store.ask_cancel(tx.conn, run_id)
                tx.after_commit(lambda: self.wake({work.agent}))
                return {"run_id": run_id, "status": run.status.value, "stopping": True}
            if run.status.finished:
                raise Conflict(f"run is already {run.status.value}", field="status")
            if work is not None:
                store.set_state(tx.conn, run_id, "done")
            ended = self.runs.finish_in(tx, who, run_id, RunStatus.CANCELLED, error="cancelled")
            return {"run_id": run_id, "status": ended.status.value, "stopping": False}

        return await self.hub.writer.run(write)

    async def remove(self, who: Principal, name: str) -> None:
        """An admin removes an agent: it is lost (its runs follow the lost path) and its
        name is free for any credential to register."""
        if not who.may(Resource.AGENTS, Action.MANAGE):
            raise Forbidden("only an admin may remove an agent")

        def write(tx: Tx) -> None:
            row = store.get_agent(tx.conn, name)
            if row is None or not store.delete_agent(tx.conn, name):
                raise NotFound(f"no agent named {name!r}", field="name")
            if row.state == "online":
                self.loss.lose(tx, name, tx.now)

        await self.hub.writer.run(write)

    def token_revoked(self, tx: Tx, token_id: str) -> None:
        """A TokenService revoke hook: the token's agents are lost at once, their names free."""
        self.loss.release(tx, store.TOKEN_HOLDER + token_id, tx.now)

    # -- waking long polls ---------------------------------------------------------------

    def wake(self, agents: set[str]) -> None:
        """Tell these agents' waiting polls, on every node, to look again."""
        self.hub.bus.publish(WORK_TOPIC, {"agents": sorted(agents)})

    def _heard(self, data: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None:
            return
        for name in data.get("agents") or []:
            for waker in list(self._wakers.get(name, ())):
                loop.call_soon_threadsafe(waker.set)

    def _forget(self, name: str, waker: asyncio.Event) -> None:
        wakers = self._wakers.get(name)
        if wakers is not None:
            wakers.discard(waker)
            if not wakers:
                del self._wakers[name]

    # -- reads -------------------------------------------------------------------------------

    def overview(self, who: Principal) -> dict[str, Any]:
        """Agents (with their runs) and the queue, with each run's position and why it waits."""
        if not who.may(Resource.AGENTS, Action.READ):
            raise NotFound("no agents here")
        now = self.hub.clock.now()
        with self.hub.engines.read.connect() as conn:
            agents = store.list_agents(conn)
            busy = store.busy(conn)
            waiting = store.all_queued(conn)
            loads = self._loads(conn)
        per_agent: dict[str, list[Any]] = {}
        per_job: dict[str, int] = {}
        for work in busy:
            per_agent.setdefault(work.agent, []).append(work)
            per_job[work.job] = per_job.get(work.job, 0) + 1
        return {
            "agents": [agent_view(a, per_agent.get(a.name, []), now) for a in agents],
            "queue": [queue_view(w, i + 1, loads, per_job, now) for i, w in enumerate(waiting)],
            "lost_after": self.lost_after,
        }


def _refusal_error(refused: AgentRefusal) -> ServiceError:
    kinds = {"forbidden": Forbidden, "taken": Conflict, "unregistered": NotFound}
    return kinds[refused.kind](refused.reason, field=refused.field)


def agent_view(row: Any, work: list[Any], now: datetime) -> dict[str, Any]:
    return {
        "name": row.name,
        "host": row.host,
        "tags": list(row.tags),
        "version": row.version,
        "slots": row.slots,
        "slots_used": len(work),
        "state": row.state,
        "last_seen_at": iso(row.last_seen_at),
        "seconds_since_seen": round((now - row.last_seen_at).total_seconds(), 1),
        "registered_at": iso(row.registered_at),
        "runs": [
            {"run_id": w.run_id, "job": w.job, "state": w.state, "stopping": bool(w.cancel)}
            for w in work
        ],
    }


def offer_view(work: Any) -> dict[str, Any]:
    target = work.target
    return {
        "run_id": work.run_id,
        "job": work.job,
        "command": target["command"],
        "shell": target["shell"],
        "cwd": target["cwd"],
        "env": target["env"],
        "time_limit": target["time_limit"],
        "attempt": work.attempt,
    }


def queue_view(
    work: Any, position: int, loads: list[AgentLoad], per_job: dict[str, int], now: datetime
) -> dict[str, Any]:
    waiting = Waiting(work.run_id, work.job, target_of(work.target), work.bound)
    why = rules.why_waiting(waiting, loads, per_job.get(work.job, 0))
    if work.not_before > now:
        left = (work.not_before - now) / timedelta(seconds=1)
        why = f"retry in {left:.0f} s" if work.retry_of else f"due in {left:.0f} s"
    return {
        "run_id": work.run_id,
        "job": work.job,
        "position": position,
        "queued_at": iso(work.queued_at),
        "attempt": work.attempt,
        "waiting_for": why,
    }
