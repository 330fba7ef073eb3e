"""Live updates for browsers: bus topics fanned out as Server-Sent Events.

Viewers of the same page share the work. Each topic has one channel that
listens on the bus, gathers what changed during a short tick (the latest view
of each run, every new message), encodes it once, and hands the same bytes to
every connected viewer. A viewer that cannot keep up is dropped and its
browser reconnects, catching up from the Last-Event-ID it last saw.

A channel sends at most one frame per tick: a change that follows a quiet tick
goes out at once, and the changes that come during the tick after it wait for
the next frame. The channel also sends the keep-alives, so a viewer's stream
costs one queue wait per frame and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ..bus import HEARD_ELSEWHERE, Bus, Subscription
from ..domain.access import REVOKED_TOPIC

log = logging.getLogger(__name__)

Filter = Callable[[dict[str, Any]], bool]
StillAllowed = Callable[[], bool]  # may read the database: called in a thread
First = Callable[[], Awaitable[list[bytes]]]
Prepare = Callable[[dict[str, Any]], dict[str, Any]]

TICK_SECONDS = 0.1
KEEPALIVE_SECONDS = 15.0
KEEPALIVE_CHECK_SECONDS = 1.0
KEEPALIVE = b": keep-alive\n\n"
# How often open streams check that what let them in still does, for revocations
# the bus did not carry (a user disabled from the command line, say).
RECHECK_SECONDS = 5.0
CLIENT_QUEUE = 64


def frame(event: str, data: Any, event_id: str | int | None = None) -> bytes:
    """One SSE frame; `data` is JSON on a single line."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class _Viewer:
    def __init__(self, only: Filter | None, first: First | None, now: float) -> None:
        self.only = only
        self.first = first
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(CLIENT_QUEUE)
        self.offered_at = now  # loop time of the last frame or keep-alive

    def end(self) -> None:
        """End this viewer's stream at once (what it was let in with was revoked)."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    def offer(self, data: bytes, now: float) -> None:
        self.offered_at = now
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            # Too slow: end its stream; the browser reconnects and catches up.
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(None)

    async def next(self) -> bytes | None:
        """The next bytes to send (all that is queued, joined), or None: end the stream."""
        data = await self.queue.get()
        if data is None or self.queue.empty():
            return data
        parts = [data]
        while not self.queue.empty():
            more = self.queue.get_nowait()
            if more is None:
                return None
            parts.append(more)
        return b"".join(parts)


async def _snapshot_again(viewer: _Viewer) -> None:
    if viewer.first is None:
        return
    try:
        snapshots = await viewer.first()
    except Exception:  # the stream goes on; its next update mends what this missed
        log.exception("live: could not take a snapshot again")
        return
    now = asyncio.get_running_loop().time()
    for snapshot in snapshots:
        viewer.offer(snapshot, now)


class Channel:
    """One bus topic, coalesced per tick, shared by all its viewers."""

    def __init__(self, bus: Bus, topic: str, event: str, key: str, prepare: Prepare | None) -> None:
        self.topic = topic
        self.event = event
        self.key = key
        self.prepare = prepare
        self.viewers: set[_Viewer] = set()
        self._loop = asyncio.get_running_loop()
        self._check_at = 0.0  # when to look for viewers due a keep-alive
        self._sub = bus.subscribe(topic, maxsize=100_000)
        self._task = asyncio.create_task(self._pump(), name=f"live:{topic}")

    def close(self) -> None:
        self._task.cancel()
        self._sub.close()

    def join(self, only: Filter | None, first: First | None) -> _Viewer:
        viewer = _Viewer(only, first, self._loop.time())
        self.viewers.add(viewer)
        return viewer

    async def _pump(self) -> None:
        sent_at = -math.inf
        while True:
            try:
                async with asyncio.timeout(KEEPALIVE_CHECK_SECONDS):
                    _topic, first = await self._sub.get()
            except TimeoutError:
                self._keep_alive(self._loop.time())
                continue
            pending = {first[self.key]: first}
            # At most one frame a tick; after a quiet tick, at once (sleep(0) still lets
            # the rest of a burst already handed to the loop join this frame).
            await asyncio.sleep(max(0.0, sent_at + TICK_SECONDS - self._loop.time()))
            while not self._sub.queue.empty():
                _topic, data = self._sub.queue.get_nowait()
                pending[data[self.key]] = data
            sent_at = self._loop.time()
            self._send(list(pending.values()), sent_at)
            self._keep_alive(sent_at)

    def _send(self, items: list[dict[str, Any]], now: float) -> None:
        if self.prepare is not None:
            items = [self.prepare(item) for item in items]
        last_id = items[-1].get("id") if self.event == "messages" else None
        shared: bytes | None = None
        for viewer in list(self.viewers):
            if viewer.only is None:
                shared = shared or frame(self.event, items, last_id)
                viewer.offer(shared, now)
            elif mine := [item for item in items if viewer.only(item)]:
                viewer.offer(frame(self.event, mine, last_id), now)

    def _keep_alive(self, now: float) -> None:
        """A comment line to each viewer that was sent nothing for KEEPALIVE_SECONDS."""
        if now < self._check_at:
            return
        self._check_at = now + KEEPALIVE_CHECK_SECONDS
        for viewer in list(self.viewers):
            if now - viewer.offered_at >= KEEPALIVE_SECONDS:
                viewer.offer(KEEPALIVE, now)


class Live:
    """The channels of one hub process, made on first use and closed when idle.

    A stream opened with a share link or a session names the keys that end it
    (`ends_with`); when the bus says one of them was revoked (REVOKED_TOPIC), the
    stream ends at once. The bus carries that to every node once it is bridged.

    When another node says it now sends a topic that this node began to show
    (HEARD_ELSEWHERE), each viewer of it is sent its snapshot again: what that node
    committed before, it did not send."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.channels: dict[str, Channel] = {}
        self._ending: dict[str, set[_Viewer]] = {}
        self._revocations: asyncio.Task[None] | None = None
        self._checks: dict[_Viewer, StillAllowed] = {}
        self._rechecks: asyncio.Task[None] | None = None
        self._heard: asyncio.Task[None] | None = None

    async def _recheck(self) -> None:
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            for viewer, still_allowed in list(self._checks.items()):
                if not await asyncio.to_thread(still_allowed):
                    viewer.end()
                    self._checks.pop(viewer, None)

    async def _watch_revocations(self, sub: Subscription) -> None:
        try:
            while True:
                _topic, data = await sub.get()
                for key in data.get("keys", ()):
                    for viewer in self._ending.pop(key, set()):
                        viewer.end()
        finally:
            sub.close()

    async def _watch_heard(self, sub: Subscription) -> None:
        try:
            while True:
                _topic, data = await sub.get()
                channel = self.channels.get(data["topic"])
                for viewer in list(channel.viewers if channel is not None else ()):
                    await _snapshot_again(viewer)
        finally:
            sub.close()

    def _end_on(self, keys: frozenset[str], viewer: _Viewer) -> None:
        if self._revocations is None:
            # Subscribed before the stream starts, so no revocation falls in between.
            sub = self.bus.subscribe(REVOKED_TOPIC)
            self._revocations = asyncio.create_task(
                self._watch_revocations(sub), name="live:revoked"
            )
        for key in keys:
            self._ending.setdefault(key, set()).add(viewer)

    def _forget(self, keys: frozenset[str], viewer: _Viewer) -> None:
        for key in keys:
            viewers = self._ending.get(key)
            if viewers is not None:
                viewers.discard(viewer)
                if not viewers:
                    del self._ending[key]

    async def stream(
        self,
        topic: str,
        *,
        event: str,
        key: str = "id",
        first: First | None = None,
        only: Filter | None = None,
        prepare: Prepare | None = None,
        ends_with: frozenset[str] = frozenset(),
        still_allowed: StillAllowed | None = None,
    ) -> AsyncIterator[bytes]:
        """Yield SSE bytes for one viewer: what `first()` gives (a snapshot or the catch-up
        since Last-Event-ID), then live frames. `first` runs after the viewer is listening,
        so nothing falls between the two; a browser ignores what it sees twice.

        The stream ends when the bus announces one of `ends_with` revoked, or when
        `still_allowed()` (asked every RECHECK_SECONDS) says no."""
        if self._heard is None and self.bus.bridged:
            # Subscribed before the channel is, so no other node's word falls in between.
            sub = self.bus.subscribe(HEARD_ELSEWHERE)
            self._heard = asyncio.create_task(self._watch_heard(sub), name="live:heard")
        channel = self.channels.get(topic)
        if channel is None:
            channel = self.channels[topic] = Channel(self.bus, topic, event, key, prepare)
        viewer = channel.join(only, first)
        self._end_on(ends_with, viewer)
        if still_allowed is not None:
            self._checks[viewer] = still_allowed
            if self._rechecks is None:
                self._rechecks = asyncio.create_task(self._recheck(), name="live:recheck")
        try:
            yield b"retry: 2000\n\n"
            for snapshot in await first() if first else []:
                yield snapshot
            while (data := await viewer.next()) is not None:
                yield data
        finally:
            self._forget(ends_with, viewer)
            self._checks.pop(viewer, None)
            channel.viewers.discard(viewer)
            if not channel.viewers:
                channel.close()
                self.channels.pop(topic, None)

    def end_streams(self) -> None:
        """End every viewer's stream now (the hub is stopping): each response then
        finishes and its connection closes, instead of holding the shutdown up until
        the server gives up and cancels it. Browsers reconnect to the next hub."""
        for channel in list(self.channels.values()):
            for viewer in list(channel.viewers):
                while not viewer.queue.empty():
                    viewer.queue.get_nowait()
                viewer.queue.put_nowait(None)

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()
        self.channels.clear()
        for task in (self._revocations, self._rechecks, self._heard):
            if task is not None:
                task.cancel()
