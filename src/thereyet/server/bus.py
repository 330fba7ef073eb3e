"""Publish/subscribe for live updates (SSE subscribes here) and for keeping what a node
holds in memory in step with what other nodes change.

Publishing is safe from any thread (the writer publishes after each commit);
subscribers are asyncio consumers. A slow subscriber loses its oldest
messages rather than holding anyone up. Listeners (`on`) are plain callbacks,
called in the thread that delivers a message: for clearing a cache.

On one node the bus is in-process. With several nodes on PostgreSQL a bridge
(bus_bridge.py) carries every published message to every other node, where it
is delivered as if published there. A message with an "id" supersedes an
earlier one of the same topic and id that has not crossed yet (live views show
the latest state). Messages from different nodes may arrive in any order: one
with an "id" and a "version" is not delivered after one of the same topic and id
with a higher version. Topics registered with `by_reference` cross as their id only;
the receiving node loads the data itself, and only if someone there listens.

What only subscribers want (a run's live view) need not be built for a node with
none: `is_heard` says whether anyone here subscribes, or (bridged) whether another
node said it has a subscriber (the bridge keeps track; see bus_bridge.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

Message = tuple[str, dict[str, Any]]
Listener = Callable[[dict[str, Any]], None]
# (topic, the id it crossed with) -> the data to deliver, or None (gone: deliver nothing)
Loader = Callable[[str, str], dict[str, Any] | None]

# Delivered on this node when its bridge listens again after losing its connection:
# what other nodes published meanwhile is lost, so caches must forget what they hold.
RESUMED = "bus:resumed"
# Delivered on this node when another node says it now sends a topic that this node
# began to subscribe to ({"topic": ...}): what was committed before, it did not send,
# so whoever shows that topic takes a fresh snapshot.
HEARD_ELSEWHERE = "bus:heard"


class Subscription:
    def __init__(self, bus: Bus, topics: frozenset[str], maxsize: int) -> None:
        self._bus = bus
        self.topics = topics
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize)
        self.dropped = 0

    def offer(self, message: Message) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)

    async def get(self) -> Message:
        return await self.queue.get()

    def close(self) -> None:
        self._bus._remove(self)

    async def __aiter__(self) -> AsyncIterator[Message]:
        while True:
            yield await self.get()


class Bus:
    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # Messages from other threads wait here; one wake-up of the loop delivers
        # all that came meanwhile (a writer's group publishes many at once).
        self._inbox: deque[Message] = deque()
        self._wake_lock = threading.Lock()
        self._wake_pending = False
        self._listeners: dict[str, list[Listener]] = {}
        self._loaders: dict[str, tuple[Loader, bool]] = {}
        self._versions: dict[tuple[str, Any], int] = {}  # (topic, id) -> latest delivered
        self._versions_lock = threading.Lock()
        # Set by a bridge: hands what is published here to the other nodes.
        self.outward: Callable[[str, dict[str, Any]], None] | None = None
        # Set by a bridge: whether another node has a subscriber to a topic.
        self.elsewhere: Callable[[str], bool] | None = None
        # Set by a bridge: told when a topic gains its first subscriber here (True) or
        # loses its last (False); called in the thread that (un)subscribes.
        self.watch: Callable[[str, bool], None] | None = None

    @property
    def bridged(self) -> bool:
        return self.outward is not None

    def on(self, topic: str, listener: Listener) -> None:
        """Call `listener(data)` for every message on `topic`, published here or on another
        node, in the thread that delivers it: it must be quick and thread-safe."""
        self._listeners.setdefault(topic, []).append(listener)

    def by_reference(self, prefix: str, load: Loader, *, always: bool = True) -> None:
        """Messages on topics starting with `prefix` cross to other nodes as their "id"
        only (`always`), or only when too large to cross whole; `load(topic, id)` makes
        the data again on the receiving node."""
        self._loaders[prefix] = (load, always)

    def loader(self, topic: str) -> tuple[Loader, bool] | None:
        """How messages on `topic` cross by reference (see by_reference), if they do."""
        for prefix, found in self._loaders.items():
            if topic.startswith(prefix):
                return found
        return None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, *topics: str, maxsize: int = 1000) -> Subscription:
        sub = Subscription(self, frozenset(topics), maxsize)
        for topic in sub.topics:
            subs = self._subs.get(topic)
            if subs is None:
                subs = self._subs[topic] = set()
                if self.watch is not None:
                    self.watch(topic, True)
            subs.add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        for topic in sub.topics:
            subs = self._subs.get(topic)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[topic]
                    if self.watch is not None:
                        self.watch(topic, False)

    def has_subscribers(self, topic: str) -> bool:
        """Whether anyone on this node subscribes to `topic`."""
        return topic in self._subs

    def subscribed(self) -> list[str]:
        """The topics someone on this node subscribes to; callable from any thread."""
        return list(self._subs)

    def is_heard(self, topic: str) -> bool:
        """Whether a message on `topic` may reach a subscriber: one here, or (bridged) one
        on another node. Listeners (`on`) are not asked: publish what they need anyway."""
        if topic in self._subs:
            return True
        if self.outward is None:
            return False
        return self.elsewhere is None or self.elsewhere(topic)

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        """Deliver to every listener and subscriber of `topic`, here and (bridged) on every
        other node; callable from any thread."""
        if self.outward is not None:
            self.outward(topic, data)
        self.deliver(topic, data)

    def show(self, topic: str, data: dict[str, Any]) -> None:
        """Publish what only subscribers want (a live view): to other nodes only if one
        of them said it has a subscriber to `topic` (their listeners are not told)."""
        if self.outward is not None and (self.elsewhere is None or self.elsewhere(topic)):
            self.outward(topic, data)
        self.deliver(topic, data)

    def deliver(self, topic: str, data: dict[str, Any]) -> None:
        """Deliver on this node only (what the bridge brings from another node)."""
        if self._is_stale(topic, data):
            return
        for listener in self._listeners.get(topic, ()):
            listener(data)
        loop = self._loop
        if loop is None or loop.is_closed() or topic not in self._subs:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(topic, data)
            return
        self._inbox.append((topic, data))
        with self._wake_lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._drain)

    def _is_stale(self, topic: str, data: dict[str, Any]) -> bool:
        """Whether a newer version of this message (same topic and id) was delivered."""
        version, ident = data.get("version"), data.get("id")
        if not isinstance(version, int) or ident is None:
            return False
        key = (topic, ident)
        with self._versions_lock:
            if self._versions.get(key, -1) > version:
                return True
            if len(self._versions) > 200_000:  # finished runs' entries; forgetting is safe
                self._versions.clear()
            self._versions[key] = version
        return False

    def _drain(self) -> None:
        with self._wake_lock:
            self._wake_pending = False
        inbox = self._inbox
        while inbox:
            self._deliver(*inbox.popleft())

    def _deliver(self, topic: str, data: dict[str, Any]) -> None:
        for sub in list(self._subs.get(topic, ())):
            sub.offer((topic, data))
