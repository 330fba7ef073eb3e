"""The single writer: every change goes through it and is committed in groups.

Requests hand the writer a function; the writer runs the pending functions one
after another inside one transaction (each in its own savepoint, so one bad
request cannot spoil its neighbours), commits once, and only then tells each
caller its result. A caller is answered once its change is durable.

Callers on an event loop are answered together: one hand-over to the loop per
group rather than one per change (each hand-over wakes the loop through a pipe,
and at a thousand small requests a second that was a large share of the cost).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from . import pipeline

log = logging.getLogger(__name__)

T = TypeVar("T")
_SAVEPOINT = "thereyet_change"
_PART = "thereyet_part"


@dataclass
class Tx:
    """What a write function gets: the connection, the time, and after-commit hooks."""

    conn: Connection
    now: datetime
    _after: list[Callable[[], None]] = field(default_factory=list)
    memo: dict[Any, Any] = field(default_factory=dict)  # a service's notes for this change

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once the group this change belongs to is committed."""
        self._after.append(hook)

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of this change that, if it raises, is rolled back alone (and re-raised),
        with the after-commit hooks and notes it added.

        Plain SQL with one reused name (savepoints nest by name, innermost first):
        SQLAlchemy's begin_nested() compiles a new statement every time."""
        hooks, memo = len(self._after), dict(self.memo)
        self.conn.exec_driver_sql(f"SAVEPOINT {_PART}")
        try:
            yield
        except BaseException:
            self.conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {_PART}")
            self.conn.exec_driver_sql(f"RELEASE SAVEPOINT {_PART}")
            del self._after[hooks:]
            self.memo = memo
            raise
        self.conn.exec_driver_sql(f"RELEASE SAVEPOINT {_PART}")

    def each_apart(
        self,
        items: list[Any],
        apply: Callable[[Tx, Any], Any],
        refusals: tuple[type[Exception], ...],
    ) -> list[Any]:
        """For a batch handler whose items may be refused midway: apply each item in a
        part of its own (savepoint). An item that raises one of `refusals` is rolled
        back alone and answered with it; anything else fails the batch (the writer
        then makes each item alone, or the whole group again after a deadlock)."""
        answers: list[Any] = []
        for item in items:
            try:
                with self.savepoint():
                    answers.append(apply(self, item))
            except refusals as exc:
                answers.append(exc)
        return answers


BatchHandler = Callable[[Tx, list[Any]], list[Any]]
# What a batch handler answers for an item it leaves to be made on its own.
ALONE: Any = object()


@dataclass
class _Job:
    fn: Callable[[Tx], Any]
    future: Future[Any] | None = None  # a thread's caller (submit, run_sync)
    waiter: asyncio.Future[Any] | None = None  # an event loop's caller (run)
    handler: BatchHandler | None = None  # run_batched: made with its neighbours
    item: Any = None


_Answer = tuple[_Job, Any, BaseException | None]


class Durable(Protocol):
    """Makes committed changes durable apart from the commit (store.wal.WalSync)."""

    def then(self, answer: Callable[[BaseException | None], None]) -> None: ...


class WriterStopped(RuntimeError):
    pass


class _Savepoints:
    """The group's BEGIN and the savepoint around each change, in as few round trips
    as can be.

    On PostgreSQL they wait in the connection's queue (store.pipeline) and go with
    the next statement: the BEGIN and the first SAVEPOINT with the first change's
    first statement. A change's savepoint is released, or rolled back to, only when
    the next change opens its own: the pending statements go with the new
    SAVEPOINT. What is still pending when the group commits is sent first if it is
    a rollback, and dropped if it is a release (COMMIT keeps what a savepoint
    holds). Nothing runs between one change's end and the next's SAVEPOINT, so the
    pending statements take effect where they would have."""

    def __init__(self, conn: Connection, queued: bool) -> None:
        self.conn = conn
        self.queued = queued  # the connection queues (PostgreSQL)
        self.pending: list[str] = []
        if queued:
            pipeline.later(conn, "BEGIN")

    def open(self) -> None:
        self._send([*self.pending, f"SAVEPOINT {_SAVEPOINT}"])

    def keep(self) -> None:
        self.pending = [f"RELEASE SAVEPOINT {_SAVEPOINT}"]

    def undo(self) -> None:
        self.pending = [f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}", f"RELEASE SAVEPOINT {_SAVEPOINT}"]

    def close(self) -> None:
        """Before the transaction's end: undo a last change that failed (a release is
        left out), and on PostgreSQL send what waits with the COMMIT."""
        if self.pending[:1] == [f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}"]:
            self._send(self.pending)
        self.pending = []
        if self.queued:
            pipeline.commit(self.conn)

    def _send(self, statements: list[str]) -> None:
        self.pending = []
        if self.queued:
            pipeline.later(self.conn, *statements)
            return
        for statement in statements:
            self.conn.exec_driver_sql(statement)


class _LockConflict(Exception):
    """A change of the group failed on a deadlock or serialization failure."""


class _HeldWritesFailed(Exception):
    """A change's held writes failed when sent with a later statement (store.pipeline)."""


# PostgreSQL's deadlock_detected and serialization_failure: nothing was changed, and
# the same change made again (once the other transaction is through) succeeds.
_LOCK_CONFLICTS = frozenset({"40P01", "40001"})


def _is_lock_conflict(error: BaseException | None) -> bool:
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) in _LOCK_CONFLICTS


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached for RECONNECT_SECONDS; nothing was committed."""


RECONNECT_SECONDS = 15.0  # how long a group waits for the database to come back


class Writer:
    def __init__(
        self,
        engine: Engine,
        now: Callable[[], datetime],
        *,
        max_group: int = 500,
        name: str = "thereyet-writer",
        durable: Durable | None = None,
    ) -> None:
        self._engine = engine
        # On SQLite, the WAL's fsync made apart (store.wal.WalSync): callers are answered
        # once it is done, while this thread goes on with the next group.
        self._durable = durable
        self._now = now
        self._max_group = max_group
        self._pending: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.commits = 0
        self.jobs_done = 0
        self.batched = 0  # changes made together by a batch handler
        # Told (group size, seconds from the transaction's start to its commit) after
        # each commit, in the writer's thread: the hub's metrics.
        self.on_commit: Callable[[int, float], None] | None = None

    @property
    def queue_depth(self) -> int:
        """Changes handed in and not yet taken into a group."""
        return len(self._pending)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the work already handed in, then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _enqueue(self, job: _Job) -> None:
        with self._cond:
            if self._stopping:
                raise WriterStopped("the hub is shutting down")
            self._pending.append(job)
            self._cond.notify()

    def submit(self, fn: Callable[[Tx], T]) -> Future[T]:
        future: Future[T] = Future()
        self._enqueue(_Job(fn, future=future))
        return future

    async def run(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn` in the writer and return its result once committed.

        If the caller is cancelled meanwhile, the change is still made."""
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._enqueue(_Job(fn, waiter=waiter))
        return await waiter

    async def run_batched(self, handler: BatchHandler, item: Any, alone: Callable[[Tx], T]) -> T:
        """Like run(alone), but changes handed in one after another with the same
        `handler` may be made together, in one savepoint: `handler(tx, items)` returns
        a result for each item, an exception to answer that item with (the handler
        changed nothing for it), or ALONE for one to be made by its own `alone`.

        If the handler raises, its batch is rolled back and every change in it is
        made alone, so a batch can only ever be an optimisation."""
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._enqueue(_Job(alone, waiter=waiter, handler=handler, item=item))
        return await waiter

    def run_sync(self, fn: Callable[[Tx], T], timeout: float | None = 60) -> T:
        return self.submit(fn).result(timeout)

    def _take_group(self) -> list[_Job] | None:
        with self._cond:
            while not self._pending and not self._stopping:
                self._cond.wait()
            if not self._pending:
                return None
            count = min(len(self._pending), self._max_group)
            return [self._pending.popleft() for _ in range(count)]

    def _loop(self) -> None:
        # The writer keeps its connection from group to group (checking one out of the
        # pool each time cost a round trip to PostgreSQL for its pre-ping). After a
        # failure the next group gets a new one, in case the old one is why.
        conn: Connection | None = None
        while (group := self._take_group()) is not None:
            try:
                conn = self._commit_while_away(conn, group)
            except BaseException as exc:  # the commit failed: nobody's change is durable
                log.exception("group commit failed")
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                    conn = None
                _answer([(job, None, exc) for job in group if not _answered(job)], None)
        if conn is not None:
            conn.close()

    def _commit_while_away(self, conn: Connection | None, group: list[_Job]) -> Connection:
        """Commit `group`; return the connection to keep. While the database cannot be
        reached (a restart, a failover), make the group again on a new connection after
        a pause, for up to RECONNECT_SECONDS, then raise DatabaseUnavailable. A lost
        session's open transaction is rolled back by PostgreSQL, and callers are
        answered only once their group is committed: what was acknowledged is durable.
        (Had the connection been lost during the COMMIT itself, the group may already
        be in: made again, its reports are known by their event ids.)"""
        deadline = time.monotonic() + RECONNECT_SECONDS
        pause = 0.05
        while True:
            try:
                conn = conn or self._engine.connect()
                self._commit_group(conn, group)
                return conn
            except DBAPIError as exc:
                if conn is not None and not exc.connection_invalidated:
                    raise  # the group itself failed, not the connection
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                conn = None
                if time.monotonic() + pause > deadline:
                    raise DatabaseUnavailable("the database cannot be reached") from exc
                log.warning("the database cannot be reached; the group waits and is made again")
                time.sleep(pause)
                pause = min(2 * pause, 1.0)

    def _commit_group(self, conn: Connection, group: list[_Job], tries: int = 3) -> None:
        # Two hub nodes writing groups at once can deadlock (each group inserts, say,
        # the same new job names in another order); PostgreSQL then fails one
        # statement of one of them. The whole group is rolled back and made again, up
        # to `tries` times: rolling back only the failed change would not do, since
        # the rest of its group still holds the locks the other node waits for, and
        # made again it would meet the same deadlock. Nobody has been answered before
        # the commit, so making a group again can neither lose nor repeat a change
        # anyone was told of. After the last try a change that still conflicts is
        # answered with its error (the client tries again); its neighbours commit.
        # A group whose held writes (store.pipeline) failed after their change had
        # ended is made again the same way, with each write answered in its change;
        # so is the last try.
        hold = True
        for _ in range(tries - 1):
            try:
                return self._commit_group_once(conn, group, conflicts_raise=True, hold=hold)
            except _LockConflict:
                log.warning("a group met a deadlock with another writer; it is made again")
                time.sleep(random.uniform(0.0, 0.02))
            except _HeldWritesFailed:
                log.warning("a held write of a group failed; the group is made again")
                hold = False
        self._commit_group_once(conn, group, conflicts_raise=False, hold=False)

    def _commit_group_once(
        self, conn: Connection, group: list[_Job], *, conflicts_raise: bool, hold: bool
    ) -> None:
        results: list[_Result] = []
        began = time.perf_counter()
        queued = pipeline.queue_on(conn, hold=hold)
        with conn.begin():
            now = self._now()
            points = _Savepoints(conn, queued)
            start = 0
            while start < len(group):
                job = group[start]
                end = start + 1
                while end < len(group) and job.handler and group[end].handler == job.handler:
                    end += 1
                if job.handler is not None:  # even one: its handler is the cheaper way
                    self._make_batch(points, now, group[start:end], results, conflicts_raise)
                else:
                    self._make_alone(points, now, job, results)
                if pipeline.held_failed(conn):
                    raise _HeldWritesFailed  # rolls the whole group back
                start = end
            try:
                points.close()
            except DBAPIError as exc:
                if pipeline.held_failed(conn) and not exc.connection_invalidated:
                    raise _HeldWritesFailed from exc
                raise
            if conflicts_raise and any(_is_lock_conflict(r[2]) for r in results):
                raise _LockConflict  # rolls the whole group back
        self.commits += 1
        observer, took = self.on_commit, time.perf_counter() - began
        if observer is not None:
            _run_hook(lambda: observer(len(group), took))
        answers: list[_Answer] = []
        for job, value, error, tx in results:
            self.jobs_done += 1
            if error is None:
                for hook in tx._after:
                    _run_hook(hook)
                tx._after.clear()  # a batch's changes share one Tx: its hooks run once
            answers.append((job, value, error))
        if self._durable is None:
            _answer(answers, None)
        else:
            self._durable.then(functools.partial(_answer, answers))

    def _make_alone(
        self, points: _Savepoints, now: datetime, job: _Job, results: list[_Result]
    ) -> None:
        future = job.future
        if (
            future is not None
            and not future.running()
            and not future.set_running_or_notify_cancel()
        ):
            return
        tx = Tx(conn=points.conn, now=now)
        # A plain, reused savepoint name: SQLAlchemy's begin_nested() compiles
        # a fresh statement per savepoint, which cost more than the job itself.
        points.open()
        try:
            value = job.fn(tx)
        except Exception as exc:
            if points.conn.invalidated:
                raise  # the connection was lost: the group is made again on a new one
            points.undo()
            results.append((job, None, exc, tx))
        else:
            points.keep()
            results.append((job, value, None, tx))

    def _make_batch(
        self,
        points: _Savepoints,
        now: datetime,
        jobs: list[_Job],
        results: list[_Result],
        conflicts_raise: bool,
    ) -> None:
        handler = jobs[0].handler
        assert handler is not None
        tx = Tx(conn=points.conn, now=now)
        points.open()
        try:
            answers = handler(tx, [job.item for job in jobs])
            if len(answers) != len(jobs):
                raise RuntimeError(f"{len(answers)} answers for {len(jobs)} items")
        except Exception as exc:
            if points.conn.invalidated:
                raise  # the connection was lost: the group is made again on a new one
            points.undo()
            if conflicts_raise and _is_lock_conflict(exc):
                raise _LockConflict from exc  # the whole group is made again
            log.exception("a batch failed; its changes are made one by one")
            answers = [ALONE] * len(jobs)
        else:
            points.keep()
        for job, answer in zip(jobs, answers, strict=True):
            if answer is ALONE:
                self._make_alone(points, now, job, results)
            elif isinstance(answer, BaseException):
                results.append((job, None, answer, tx))
            else:
                self.batched += 1
                results.append((job, answer, None, tx))


_Result = tuple[_Job, Any, BaseException | None, Tx]


def _run_hook(hook: Callable[[], None]) -> None:
    try:
        hook()
    except Exception:
        log.exception("after-commit hook failed")


def _answered(job: _Job) -> bool:
    return job.future is not None and job.future.done()


_Settled = tuple["asyncio.Future[Any]", Any, BaseException | None]


def _answer(answers: list[_Answer], failed: BaseException | None) -> None:
    """Tell each caller its change's result (or `failed`, if the changes could not be
    made durable): threads at once, each event loop its callers in one call."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Settled]] = {}
    for job, value, error in answers:
        error = failed or error
        if job.waiter is not None:
            by_loop.setdefault(job.waiter.get_loop(), []).append((job.waiter, value, error))
        elif job.future is not None and error is not None:
            job.future.set_exception(error)
        elif job.future is not None:
            job.future.set_result(value)
    for loop, mine in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(_settle, mine)


def _settle(answers: list[_Settled]) -> None:
    for waiter, value, error in answers:
        if waiter.done():  # the caller was cancelled; its change stands
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(value)
