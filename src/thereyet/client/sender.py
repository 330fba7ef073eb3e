"""The sender: one background thread per process that delivers what runs report.

Everything a job does (progress, logs, notes, finish) only queues work in
memory; this thread turns it into HTTP calls. `step(now)` is one round of
work and is what tests drive with a fake clock. When the hub is away the
sender backs off; at exit it keeps trying for `exit_timeout` seconds, then
spools what is left to disk.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from . import spool
from .config import Config
from .outbox import Outbox
from .transport import HubError, Transport, path

log = logging.getLogger("thereyet")
BATCH_EVENTS = 1000
MAX_MESSAGES = 1000


WARN_EVERY = 60.0  # seconds between two "hub unreachable" warnings


class Backoff:
    """Delay before the next attempt after `failures` failed ones: doubling, capped, jittered."""

    def __init__(
        self, base: float = 0.5, cap: float = 30.0, rand: Callable[[], float] = random.random
    ) -> None:
        self.base, self.cap, self.rand = base, cap, rand

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        step = min(self.cap, self.base * 2 ** max(0, failures - 1))
        jittered = step * (0.5 + 0.5 * self.rand())
        return float(min(self.cap, max(jittered, retry_after or 0.0)))


class Dropped(Exception):
    """The hub refused something for good (`status`); it was dropped after a warning."""

    def __init__(self, status: int | None) -> None:
        super().__init__(status)
        self.status = status


class Sender:
    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.wall = wall
        self.backoff = backoff or Backoff()
        self.transport = Transport(config.url, config.token, config.timeout)
        self.boxes: dict[str, Outbox] = {}
        self.messages: deque[dict[str, Any]] = deque()
        self.message_files: list[Any] = []
        self.failures = 0
        self.last_error: str | None = None  # why the last attempt failed, for `thereyet flush`
        self.warned_at = float("-inf")  # when the last "hub unreachable" warning was given
        self.outage_told = False  # whether this outage was warned about
        self.retry_at = float("-inf")
        self.attempts = 0  # HTTP calls tried, for tests and `thereyet flush`
        self.refused = 0  # things the hub refused for good (and were dropped)
        self.force = False  # send progress now, not when due
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._stepped = threading.Condition()
        self._thread: threading.Thread | None = None

    # -- what jobs call (never blocks, never raises) ----------------------------

    def outbox(self, run_id: str, create: dict[str, Any] | None) -> Outbox:
        box = Outbox(run_id, create, wall=self.wall, max_pending=self.config.max_pending)
        with self._lock:
            earlier = self.boxes.get(run_id)
            if earlier is not None:  # taken from the spool: its reports still go, first
                box.take_over(earlier)
            self.boxes[run_id] = box
        return box

    def post_message(
        self, room: str, text: str, message_id: str, attach: dict[str, Any] | None = None
    ) -> None:
        if len(self.messages) >= MAX_MESSAGES:
            return
        message: dict[str, Any] = {"room": room, "text": text[:20_000], "id": message_id}
        if attach is not None:
            message["attach"] = attach
        self.messages.append(message)

    def wake(self) -> None:
        self._wake.set()

    @property
    def pending(self) -> bool:
        return bool(self.messages) or any(b.has_work() for b in list(self.boxes.values()))

    # -- one round of work ------------------------------------------------------------

    def step(self, now: float) -> bool:
        """Deliver what is due. Return True if anything was sent."""
        if now < self.retry_at:
            return False
        sent = False
        try:
            for box in list(self.boxes.values()):
                sent = self._serve(box, now) or sent
            sent = self._send_messages() or sent
        except HubError as exc:
            self._failed(now, exc)
            return sent
        if self.outage_told:
            log.warning("thereyet: the hub answers again; reports resume")
        self.failures = 0
        self.outage_told = False
        return sent

    def _call(
        self, method: str, target: str, body: Any = None, *, quiet: int = 0, **kw: Any
    ) -> Any:
        """Call the hub; a refusal that retrying cannot fix becomes Dropped.

        A refusal with the status `quiet` is left to the caller to report.
        """
        self.attempts += 1
        try:
            return self.transport.call(method, target, body, **kw).body
        except HubError as exc:
            if exc.retry:
                raise
            if exc.status != quiet:
                log.warning("thereyet: %s; dropping it (%s)", exc.reason, target.split("?")[0])
                self.refused += 1
            raise Dropped(exc.status) from exc

    def _serve(self, box: Outbox, now: float) -> bool:
        try:
            return self._serve_box(box, now)
        except Dropped:
            self._forget(box)
            return True

    def _serve_box(self, box: Outbox, now: float) -> bool:
        sent = False
        if box.create is not None:
            self._call("POST", path("runs"), box.create)
            box.create, box.contact_at, sent = None, now, True
        if box.source is not None:
            box.source.expire(now, self.config.early_end_grace)
        finish = box.finish  # read once: a finish set meanwhile waits for its last figures
        interval = self.config.progress_interval
        due = self.force or finish is not None or now - box.progress_at >= interval
        if due:
            box.progress_at = now
        if box.batch is None:
            box.batch = box.next_batch(BATCH_EVENTS, due)
        if box.batch is None and now - box.contact_at >= self.config.heartbeat_interval:
            box.batch = [box.make("heartbeat")]
        while box.batch:
            try:
                self._call("POST", path("runs", box.run_id, "events"), {"events": box.batch})
            except Dropped:
                if finish is None:
                    box.batch = None  # a batch the hub refuses; the run goes on
                    return True
                raise
            box.batch, box.contact_at, sent = None, now, True
            box.batch = box.next_batch(BATCH_EVENTS, due)
        while box.attachments:
            self._send_attachment(box, box.attachments[0])
            box.attachments.popleft()
            sent = True
        if finish is not None:
            self._call("POST", path("runs", box.run_id, "finish"), finish)
            self._forget(box)
            sent = True
        return sent

    def _send_attachment(self, box: Outbox, item: dict[str, Any]) -> None:
        try:
            with open(item["path"], "rb") as f:
                content = f.read()
        except OSError as exc:
            log.warning("thereyet: cannot attach %s: %s", item["path"], exc)
            return
        target = path("runs", box.run_id, "attachments", name=item["name"], id=item.get("id"))
        with contextlib.suppress(Dropped):
            self._call("POST", target, raw=content, content_type=item["content_type"])

    def _send_room_file(self, message: dict[str, Any]) -> None:
        item = message["attach"]
        try:
            with open(item["path"], "rb") as f:
                content = f.read()
        except OSError as exc:
            log.warning("thereyet: cannot attach %s: %s", item["path"], exc)
            self.refused += 1
            return
        target = path(
            "rooms",
            message["room"],
            "attachments",
            name=item["name"],
            text=message["text"] or None,
            id=message["id"],
        )
        try:
            self._call("POST", target, raw=content, content_type=item["content_type"], quiet=404)
        except Dropped as exc:
            if exc.status != 404:
                raise
            self._call("POST", path("rooms"), {"name": message["room"]})
            self._call("POST", target, raw=content, content_type=item["content_type"])

    def _send_message(self, message: dict[str, Any]) -> None:
        target = path("rooms", message["room"], "messages")
        body = {"text": message["text"], "id": message["id"]}
        try:
            self._call("POST", target, body, quiet=404)
        except Dropped as exc:
            if exc.status != 404:
                raise
            # A room is made on first use, as runs make theirs.
            self._call("POST", path("rooms"), {"name": message["room"]})
            self._call("POST", target, body)

    def _send_messages(self) -> bool:
        sent = False
        while self.messages:
            message = self.messages[0]
            try:
                if message.get("attach"):
                    self._send_room_file(message)
                else:
                    self._send_message(message)
            except Dropped:
                pass
            self.messages.popleft()
            sent = True
        if sent and not self.messages:
            for claimed in self.message_files:
                spool.remove(claimed)
            self.message_files.clear()
        return sent

    def _forget(self, box: Outbox) -> None:
        with self._lock:
            self.boxes.pop(box.run_id, None)
        if box.spool_file is not None:
            spool.remove(box.spool_file)

    def _failed(self, now: float, exc: HubError) -> None:
        """Back off after a real failure (the transport already retried a stale
        connection); warn about it at most once every WARN_EVERY seconds."""
        self.failures += 1
        self.last_error = exc.reason
        if now - self.warned_at >= WARN_EVERY:
            log.warning("thereyet: %s; will keep trying, then spool to disk", exc.reason)
            self.warned_at = now
            self.outage_told = True
        self.retry_at = now + self.backoff.delay(self.failures, exc.retry_after)

    # -- the thread, flush and exit ------------------------------------------------

    def start(self) -> None:
        """Take over spooled reports for this hub and start the thread (once)."""
        if self._thread is not None:
            return
        self.load_spool()
        self._thread = threading.Thread(target=self._loop, name="thereyet-sender", daemon=True)
        self._thread.start()

    def load_spool(self) -> int:
        """Queue every spooled report for this hub; return how many files were taken."""
        try:
            taken = spool.claim(self.config.spool_dir, self.config.url)
        except OSError as exc:
            log.warning("thereyet: cannot read the spool at %s: %s", self.config.spool_dir, exc)
            return 0
        for claimed, payload in taken:
            if payload.get("kind") == "messages":
                self.messages.extend(payload.get("messages") or [])
                self.message_files.append(claimed)
                continue
            box = Outbox.from_spool(payload, self.wall)
            box.spool_file = claimed
            with self._lock:
                self.boxes.setdefault(box.run_id, box)
        return len(taken)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step(self.clock())
            except Exception:  # the sender must outlive any bug of its own
                log.exception("thereyet: sender error")
            with self._stepped:
                self._stepped.notify_all()
            self._wake.wait(self.config.send_interval)
            self._wake.clear()

    def flush(self, timeout: float) -> bool:
        """Deliver everything queued so far, for up to `timeout` seconds. True if all went."""
        deadline = self.clock() + timeout
        self.force = True
        try:
            while self.pending and self.clock() < deadline:
                if self._thread is not None and self._thread.is_alive():
                    self._wake.set()
                    with self._stepped:
                        self._stepped.wait(min(0.05, max(0.0, deadline - self.clock())))
                else:
                    self.step(self.clock())
                    if self.pending:
                        time.sleep(min(0.05, max(0.0, deadline - self.clock())))
        finally:
            self.force = False
        return not self.pending

    def close(self, timeout: float | None = None) -> bool:
        """Deliver for up to `timeout` seconds, stop the thread, spool the rest.

        Return True if nothing had to be spooled.
        """
        self.retry_at = float("-inf")  # one more try now, whatever the backoff said
        delivered = self.flush(self.config.exit_timeout if timeout is None else timeout)
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=max(1.0, self.config.timeout))
        if not delivered:
            self.spool_rest()
        self.transport.close()
        return delivered

    def spool_rest(self) -> int:
        """Write what is still undelivered to the spool; return the number of files."""
        written = 0
        try:
            for box in list(self.boxes.values()):
                box.events.extend(box.figures())
                if not box.has_work():
                    continue
                spool.write(self.config.spool_dir, self.config.url, box.run_id, box.to_spool())
                if box.spool_file is not None and box.spool_file.exists():
                    spool.remove(box.spool_file)
                written += 1
            if self.messages:
                payload = {"kind": "messages", "messages": list(self.messages)}
                spool.write(self.config.spool_dir, self.config.url, spool.new_name("m"), payload)
                for claimed in self.message_files:
                    spool.remove(claimed)
                written += 1
        except OSError as exc:
            log.warning("thereyet: cannot spool to %s: %s", self.config.spool_dir, exc)
        if written:
            log.warning(
                "thereyet: hub unreachable; %d report(s) spooled to %s for the next process "
                "or `thereyet flush`",
                written,
                self.config.spool_dir,
            )
        return written
