"""Runs as a job sees them: `run()`, `track()`, `@job`.

Every method only records in memory and returns; the sender thread delivers.
Nothing here raises into the job: a misuse is logged once and ignored.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import itertools
import logging
import operator
import os
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from types import TracebackType
from typing import Any, Literal, TypeVar, overload

from . import state
from .outbox import MAX_LOG_CHARS, MAX_NOTE_CHARS, MAX_STAT_TEXT, Outbox, iso
from .sender import Sender

log = logging.getLogger("thereyet")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
Status = Literal["succeeded", "failed", "cancelled"]

_current: contextvars.ContextVar[Run | None] = contextvars.ContextVar("thereyet_run", default=None)
_first = itemgetter(0)


def clean_name(raw: str) -> str:
    """A job or room name the hub accepts: 'Nightly Export.py' -> 'nightly-export.py'."""
    name = re.sub(r"[^a-z0-9._-]+", "-", raw.lower()).strip("._-")[:64]
    return name or "job"


def default_job() -> str:
    """The running script's name, for runs not given a job."""
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return clean_name(os.path.splitext(script)[0] or "python")


def error_summary(exc: BaseException, limit: int = 2000) -> str:
    """'ValueError: bad row' and where it was raised, in a few lines."""
    import traceback

    head = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    where = "".join(f"\n  at {f.filename}:{f.lineno} in {f.name}" for f in frames)
    return (head + where)[:limit]


def _counted(counter: itertools.count[int]) -> int:
    # A C-level counter is what keeps track() cheap; its repr is its value: count(41).
    return int(repr(counter)[6:-1])


# Iterators over these know exactly how many items remain, so counting is free.
_SEQUENCES = (list, tuple, range)
_EMPTY: tuple[Iterable[Any], ...] = ([], (), range(0))
_SEQUENCE_ITERATORS = frozenset(type(iter(empty)) for empty in _EMPTY)


class _Count:
    """How many items a track() loop has handed out so far, read without slowing it."""

    __slots__ = ("counter", "it", "seq")

    def __init__(self, iterable: Iterable[Any]) -> None:
        self.seq: Any = None
        self.counter: itertools.count[int] | None = None
        it = iter(iterable)
        if type(it) in _SEQUENCE_ITERATORS and isinstance(iterable, _SEQUENCES):
            self.seq, self.it = iterable, it
        else:
            self.counter = itertools.count()
            # zip pulls from the iterable first, so the counter holds items handed out.
            self.it = map(_first, zip(it, self.counter, strict=False))

    def __call__(self) -> int:
        if self.counter is not None:
            return _counted(self.counter)
        return max(0, len(self.seq) - operator.length_hint(self.it))


def current_run() -> Run | None:
    """The run of the enclosing `with run(...)` or `@job`, if any."""
    return _current.get()


class Run:
    """One execution of a job, reported to the hub as it goes.

    Use it as a context manager (`with thereyet.run("export") as run:`) or call
    `finish()` yourself. When reporting is off, every method does nothing.
    """

    def __init__(
        self,
        job: str | None = None,
        *,
        room: str | None = None,
        total: float | None = None,
        unit: str | None = None,
        id: str | None = None,
        trigger: str = "sdk",
        sender: Any = None,
        existing: bool = False,
    ) -> None:
        self.job = clean_name(job) if job else default_job()
        # Started by an agent: the first run the process makes is the agent's own run,
        # reported into but ended by the agent (with the exit code and output tail).
        inherited = None if id is not None or existing else _inherit_run_id()
        self.id = id or inherited or uuid.uuid4().hex
        existing = existing or inherited is not None
        self._owned = inherited is None
        self._existing = existing
        self.finished = False
        self._done: float = 0
        self._total = total
        self._unit = unit
        self._stats: dict[str, tuple[float | str, str | None]] = {}
        self._counters: tuple[_Count, ...] = ()
        self._lock = threading.Lock()
        self._early_at: float | None = None
        self._token: contextvars.Token[Run | None] | None = None
        self._sender: Sender | None = sender if sender is not None else state.sender()
        self._box: Outbox | None = None
        if self._sender is None:
            return
        config = self._sender.config
        room = room or config.room
        body = _create_body(self, room=clean_name(room) if room else None, trigger=trigger)
        body["started_at"] = iso(self._sender.wall())
        # A run the hub made itself (an agent's) is reported into, not created.
        self._box = self._sender.outbox(self.id, None if existing else body)
        self._box.source = self
        if existing:  # its progress is what others (the command inside) said, until it says
            self._box.sent_progress = self.progress_snapshot()
        self._wake()

    def _wake(self) -> None:
        if self._sender is not None:
            self._sender.wake()

    def __repr__(self) -> str:
        return f"<thereyet.Run {self.job} {self.id}>"

    # -- reporting ---------------------------------------------------------------

    def progress(self, done: float, total: float | None = None, unit: str | None = None) -> None:
        """Set how far the run is (latest value wins; sent about once a second)."""
        with self._lock:
            self._done = done
            self._counters = ()
            if total is not None:
                self._total = total
            if unit is not None:
                self._unit = unit
        sender, box = self._sender, self._box
        # After a quiet spell, send at once rather than at the sender's next look.
        if (
            sender is not None
            and box is not None
            and sender.clock() - box.progress_at >= sender.config.progress_interval
        ):
            sender.wake()

    def advance(self, n: float = 1) -> None:
        """Add `n` to the progress."""
        try:
            self._done += n
        except TypeError:
            log.warning("thereyet: advance() wants a number, not %r", n)

    def stat(self, name: str, value: float | str, unit: str | None = None) -> None:
        """Set a named figure (rows_per_s, batch); latest value wins."""
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            value = str(value)
        if isinstance(value, str):
            value = value[:MAX_STAT_TEXT]
        elif value != value or value in (float("inf"), float("-inf")):
            value = str(value)
        self._stats[str(name)[:64] or "stat"] = (value, unit[:32] if unit else None)

    def log(self, text: str, stream: str = "log") -> None:
        """Add a line (or lines) to the run's log."""
        if self._box is not None:
            stream = stream if stream in ("stdout", "stderr", "log") else "log"
            self._box.add("log", text=str(text)[:MAX_LOG_CHARS], stream=stream)

    def note(self, text: str) -> None:
        """Say something in the run's rooms ("switching to batch 2")."""
        if self._box is not None and str(text).strip():
            self._box.add("note", text=str(text)[:MAX_NOTE_CHARS])
            self._wake()

    def attach(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        """Attach a file (a screenshot, a report); it is read when sent."""
        if self._box is None:
            return
        import mimetypes

        full = os.path.abspath(os.fspath(path))
        kind = mimetypes.guess_type(full)[0] or "application/octet-stream"
        item = {"path": full, "name": name or os.path.basename(full), "content_type": kind}
        self._box.attachments.append(item)
        self._wake()

    def track(self, iterable: Iterable[T], total: float | None = None) -> Iterator[T]:
        """Iterate over `iterable`, adding each item to this run's progress."""
        return self._track(iterable, total, finish=False)

    def _track(self, iterable: Iterable[T], total: float | None, finish: bool) -> Iterator[T]:
        if self._box is None:
            return iter(iterable)
        if total is None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except Exception:
                total = None
        count = _Count(iterable)
        with self._lock:
            if total is not None and self._total is None:
                self._total = self._done + total
            self._counters = (*self._counters, count)
        # All of this runs in C: no Python code per item.
        return itertools.chain(count.it, _End(self, count, finish))

    # -- ending ----------------------------------------------------------------------

    def finish(
        self,
        status: Status = "succeeded",
        *,
        exit_code: int | None = None,
        error: str | None = None,
    ) -> None:
        """End the run. Only the first call counts."""
        if self.finished:
            return
        self.finished = True
        if self._box is None or not self._owned:
            return
        done = self.progress_snapshot()[0]
        if status == "succeeded" and self._total is None and (done or not self._existing):
            self._total = done
        body: dict[str, Any] = {"status": status, "id": "finish"}
        if exit_code is not None:
            body["exit_code"] = exit_code
        if error:
            body["error"] = error[:20_000]
        self._box.finish = body
        self._wake()

    def cancel(self, reason: str = "cancelled") -> None:
        self.finish("cancelled", error=reason)

    def finish_at_exit(self, uncaught: BaseException | None) -> None:
        """The process is ending with this run open: end it as the process ends."""
        if self.finished:
            return
        self._fold_all()
        if isinstance(uncaught, KeyboardInterrupt):
            self.finish("cancelled", error="interrupted (KeyboardInterrupt)")
        elif uncaught is not None:
            self.finish("failed", error=error_summary(uncaught))
        else:
            self.finish("succeeded")

    def expire(self, now: float, grace: float) -> None:
        """Called by the sender: a track() loop left early is finished after `grace`."""
        if self._early_at is not None and not self.finished and now - self._early_at >= grace:
            self.finish("succeeded")

    def __enter__(self) -> Run:
        self._token = _current.set(self)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            with contextlib.suppress(ValueError):  # left in another context
                _current.reset(self._token)
        self._fold_all()
        if exc is None:
            self.finish("succeeded")
        elif isinstance(exc, KeyboardInterrupt):
            self.finish("cancelled", error="interrupted (KeyboardInterrupt)")
        elif isinstance(exc, SystemExit):
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            self.finish("succeeded" if code == 0 else "failed", exit_code=code)
        else:
            self.finish("failed", error=error_summary(exc))

    # -- read by the sender ------------------------------------------------------------

    def progress_snapshot(self) -> tuple[float, float | None, str | None]:
        with self._lock:
            done = self._done + sum(count() for count in self._counters)
            return done, self._total, self._unit

    def stats_snapshot(self) -> dict[str, tuple[float | str, str | None]]:
        return dict(self._stats)

    def _fold(self, counter: _Count) -> None:
        with self._lock:
            if counter in self._counters:
                self._done += counter()
                self._counters = tuple(c for c in self._counters if c is not counter)

    def _fold_all(self) -> None:
        for counter in self._counters:
            self._fold(counter)

    def _ended_early(self) -> None:
        if self._sender is not None:
            self._early_at = self._sender.clock()


class _End:
    """The last part of a track() chain: runs when the loop is done, or is dropped early."""

    __slots__ = ("counter", "finish", "reached", "run")

    def __init__(self, run: Run, counter: _Count, finish: bool) -> None:
        self.run, self.counter, self.finish, self.reached = run, counter, finish, False

    def __iter__(self) -> Iterator[Any]:
        self.reached = True
        self.run._fold(self.counter)
        if self.finish:
            self.run.finish("succeeded")
        return iter(())

    def __del__(self) -> None:
        # A loop left by break or an exception: which of the two is unknown here,
        # so the run is finished after a grace period or at exit (with the
        # uncaught exception, if the process dies of one).
        if not self.reached:
            try:
                self.run._fold(self.counter)
                if self.finish:
                    self.run._ended_early()
            except Exception:  # at interpreter exit, anything may be gone already
                return


_inherited = threading.Lock()
_inherited_taken = False


def _inherit_run_id() -> str | None:
    """THEREYET_RUN_ID (set by an agent for the command it runs), the first time only."""
    global _inherited_taken
    run_id = os.environ.get("THEREYET_RUN_ID")
    if not run_id:
        return None
    with _inherited:
        if _inherited_taken:
            return None
        _inherited_taken = True
    return run_id


def _create_body(run: Run, *, room: str | None, trigger: str) -> dict[str, Any]:
    import getpass
    import socket

    try:
        user: str | None = getpass.getuser()[:255]
    except Exception:
        user = None
    body: dict[str, Any] = {
        "job": run.job,
        "id": run.id,
        "status": "running",
        "host": socket.gethostname()[:255],
        "pid": os.getpid(),
        "user": user,
        "trigger": trigger,
    }
    if room:
        body["room"] = room
    if run._total is not None:
        body["total"] = run._total
    if run._unit:
        body["unit"] = run._unit[:32]
    return body


def run(
    job: str | None = None,
    *,
    room: str | None = None,
    total: float | None = None,
    unit: str | None = None,
    id: str | None = None,
) -> Run:
    """Start a run of `job`; use it with `with` so it finishes by itself."""
    return Run(job, room=room, total=total, unit=unit, id=id)


def track(
    iterable: Iterable[T],
    job: str | None = None,
    *,
    total: float | None = None,
    room: str | None = None,
    unit: str | None = None,
) -> Iterator[T]:
    """Iterate over `iterable` as a run of `job` (tqdm-style), finished when the loop ends.

    Inside a `with run(...)` block and without `job=`, the items count as that
    run's progress instead. `total` defaults to `len(iterable)` when it has one.
    """
    outer = _current.get()
    if job is None and outer is not None:
        return outer._track(iterable, total, finish=False)
    return Run(job, room=room, unit=unit)._track(iterable, total, finish=True)


@overload
def job(name: F) -> F: ...
@overload
def job(
    name: str | None = None, *, room: str | None = None, unit: str | None = None
) -> Callable[[F], F]: ...
def job(
    name: str | Callable[..., Any] | None = None,
    *,
    room: str | None = None,
    unit: str | None = None,
) -> Any:
    """Decorate a function so each call is a run of the job `name` (default: its name)."""
    if callable(name):
        return job(None)(name)

    def decorate(fn: F) -> F:
        job_name = name or fn.__name__
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with Run(job_name, room=room, unit=unit):
                    return await fn(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run_sync(*args: Any, **kwargs: Any) -> Any:
            with Run(job_name, room=room, unit=unit):
                return fn(*args, **kwargs)

        return run_sync  # type: ignore[return-value]

    return decorate
