"""In-process publish/subscribe for live updates (SSE subscribes here).

Publishing is safe from any thread (the writer publishes after each commit);
subscribers are asyncio consumers. A slow subscriber loses its oldest
messages rather than holding anyone up.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

Message = tuple[str, dict[str, Any]]


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

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, *topics: str, maxsize: int = 1000) -> Subscription:
        sub = Subscription(self, frozenset(topics), maxsize)
        for topic in sub.topics:
            self._subs.setdefault(topic, set()).add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        for topic in sub.topics:
            subs = self._subs.get(topic)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[topic]

    def has_subscribers(self, topic: str) -> bool:
        return topic in self._subs

    def publish(self, topic: str, data: dict[str, Any]) -> None:
        """Deliver to every subscriber of `topic`; callable from any thread."""
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

    def _drain(self) -> None:
        with self._wake_lock:
            self._wake_pending = False
        inbox = self._inbox
        while inbox:
            self._deliver(*inbox.popleft())

    def _deliver(self, topic: str, data: dict[str, Any]) -> None:
        for sub in list(self._subs.get(topic, ())):
            sub.offer((topic, data))
