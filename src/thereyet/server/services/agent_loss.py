"""Agents that go silent, runs that are gone, and agents that come back.

An agent is lost when nothing was heard from it (a poll, a registration) for
`agent_lost_after` seconds. Runs handed to it and not started go back to the
queue (unless made for it alone, policy `all`); its running runs become `lost`
and, when the job's retries allow, a new attempt is queued after the job's
retry delay, for any other matching agent.

Each poll says which runs the agent still runs, and the hub reconciles:
- a lost run it still runs comes back, and a retry of it not started yet is
  cancelled; if the retry already started, the agent is told to stop the old one;
- a run the hub thinks it runs but it does not name is gone: lost, and retried;
- a run it names that is not its to run (finished, cancelled, unknown) is stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..domain import agents as rules
from ..domain.access import SYSTEM
from ..domain.runs import Run, RunStatus
from ..hub import Hub
from ..store import agents as store
from ..store import runs as run_store
from ..store.writer import Tx
from .rooms import post_in_rooms
from .runs import RunService

# A run is started before the agent's next poll names it; give that poll time to come.
START_GRACE = timedelta(seconds=5)
_HUB_STARTED = frozenset({"schedule", "chat", "retry"})  # triggers of runs made for agents
QueueRun = Callable[..., str]


class AgentLoss:
    def __init__(self, hub: Hub, runs: RunService, queue_run: QueueRun) -> None:
        self.hub = hub
        self.runs = runs
        self.queue_run = queue_run
        self.up_since: datetime | None = None  # this node's first look for lost agents

    def find_lost(self, tx: Tx, now: datetime, lost_after: float) -> list[str]:
        """Mark lost the agents silent since before `lost_after` seconds, and those whose
        token was revoked (a revocation elsewhere: the command line, configuration);
        return them.

        Silence while this node was down is not the agents' doing (they could not
        reach it): a node judges only once `lost_after` has passed since its first look,
        made when its workers start, that is when it is about to serve (its start-up,
        slow on a loaded machine, does not count). With several nodes, one that stayed
        up judges meanwhile."""
        names = [
            n
            for holder in store.revoked_holders(tx.conn, now)
            for n in self.release(tx, holder, now)
        ]
        before = rules.lost_before(now, lost_after)
        if self.up_since is None:
            self.up_since = now
        if self.up_since > before:
            return names
        for name in store.mark_lost(tx.conn, before):
            self.lose(tx, name, now)
            names.append(name)
        return names

    def release(self, tx: Tx, holder: str, now: datetime) -> list[str]:
        """The credential `holder` was revoked: its agents are lost at once and their
        names free for another credential. Return the agents that were online."""
        names = store.release(tx.conn, holder)
        for name in names:
            self.lose(tx, name, now)
        return names

    def lose(self, tx: Tx, name: str, now: datetime) -> None:
        """Agent `name` is gone (silent, its token revoked, removed): what was handed to
        it and not started goes back to the queue; its running runs are lost (and
        retried as their jobs say)."""
        for work in store.of_agent(tx.conn, name, ["assigned"]):
            if work.bound is None:
                store.requeue(tx.conn, work.run_id, name)
        for work in store.of_agent(tx.conn, name, ["running"]):
            self._gone(tx, work, now)

    def _gone(self, tx: Tx, work: Any, now: datetime) -> None:
        """A run its agent no longer runs: lost (kept so the agent may bring it back),
        and a new attempt queued when the job allows one."""
        run = run_store.load_run(tx.conn, work.run_id)
        if run is None or run.status.finished:
            store.set_state(tx.conn, work.run_id, "done")
            return
        self.runs.mark_lost(tx, work.run_id)
        store.set_state(tx.conn, work.run_id, "lost")
        self._retry(tx, work, now)

    def _retry(self, tx: Tx, work: Any, now: datetime) -> str | None:
        if work.bound is not None or store.retries_of(tx.conn, work.run_id):
            return None  # made for that one agent, or retried already
        target = rules.parse_target(work.target)
        due = rules.retry_due(target, work.attempt, now)
        if due is None:
            return None
        return self.queue_run(
            tx, work.job, target, due, "retry", attempt=work.attempt + 1, retry_of=work.run_id
        )

    def reconcile(self, tx: Tx, name: str, running: list[str], now: datetime) -> list[str]:
        """Compare what agent `name` says it runs with what the hub thinks; return the
        runs it is to stop."""
        said = set(running)
        known = {w.run_id: w for w in store.of_agent(tx.conn, name, ["running", "lost"])}
        stop = []
        for run_id in sorted(said):
            work = known.get(run_id)
            if work is None:
                stop.append(run_id)  # finished, cancelled, or never its own
            elif work.state == "lost" and not self._came_back(tx, work):
                stop.append(run_id)
        for work in known.values():
            started = work.started_at or now
            if work.state == "running" and work.run_id not in said and started < now - START_GRACE:
                self._gone(tx, work, now)
        return stop

    def _came_back(self, tx: Tx, work: Any) -> bool:
        """A lost run its agent still runs: keep it, unless a retry of it started."""
        retries = store.retries_of(tx.conn, work.run_id)
        if any(r.state != "queued" for r in retries):
            store.set_state(tx.conn, work.run_id, "running", cancel=1)
            return False
        for retry in retries:
            store.set_state(tx.conn, retry.run_id, "done")
            self.runs.finish_in(
                tx,
                SYSTEM,
                retry.run_id,
                RunStatus.CANCELLED,
                error=f"not needed: run {work.run_id} came back with its agent",
            )
        store.set_state(tx.conn, work.run_id, "running")
        return True

    def on_run_status(self, tx: Tx, run: Run, room_ids: list[int], was: RunStatus | None) -> None:
        """A RunService status hook: a run that ended frees its agent's slot; one cancelled
        while its process runs is stopped on its agent first."""
        if not run.status.finished or run.trigger not in _HUB_STARTED:
            return
        work = store.get_work(tx.conn, run.id)
        if work is None or work.state == "done":
            return
        if work.state == "running" and run.status is RunStatus.CANCELLED:
            store.ask_cancel(tx.conn, run.id)  # the agent stops it, then no longer names it
        else:
            store.set_state(tx.conn, run.id, "done")
        if work.group_id is not None:
            self._roll_up(tx, work.group_id, run, room_ids)

    def _roll_up(self, tx: Tx, group_id: str, ended: Run, room_ids: list[int]) -> None:
        """Once every run of a group (policy `all`) ended, one card says how they did."""
        outcomes = []
        for work in store.group(tx.conn, group_id):
            run = ended if work.run_id == ended.id else run_store.load_run(tx.conn, work.run_id)
            if run is None or not run.status.finished:
                return
            outcomes.append((work.bound or work.agent or "?", run.status.value))
        post_in_rooms(
            tx,
            self.hub,
            room_ids,
            author="thereyet",
            kind="run",
            body=rules.group_rollup(ended.job, outcomes),
            data={"job": ended.job, "group": group_id},
        )
