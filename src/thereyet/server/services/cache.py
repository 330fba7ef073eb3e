"""A few seconds' memory of checked secrets (tokens, sessions, share links).

Every request presents a secret; checking it means a database read. What was
found is kept briefly, keyed by the secret's hash, so a busy client does not
cost a read per request. Revoking clears the cache on every node through the bus
(`kept_in_step`): at once here, within a second on the other nodes (and should a
message be lost, within `seconds`). A load that was under way while something was
forgotten is answered but not remembered, so it cannot bring back what was just
revoked.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..bus import RESUMED, Bus

V = TypeVar("V")


class RecentlyChecked(Generic[V]):
    def __init__(
        self,
        seconds: float = 5.0,
        max_items: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._clock = clock  # seconds; the hub's clock where tests must move time
        self.max_items = max_items
        self._items: dict[str, tuple[float, V]] = {}
        self._lock = threading.Lock()
        self._loading: dict[str, asyncio.Future[V | None]] = {}  # used on the event loop only
        self._forgotten = 0  # counts forget/clear calls: see get_or_load

    def get(self, key: str) -> V | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            if hit[0] < self._clock():
                del self._items[key]
                return None
            return hit[1]

    def put(self, key: str, value: V, *, unless_forgotten_since: int | None = None) -> V:
        with self._lock:
            if unless_forgotten_since is not None and unless_forgotten_since != self._forgotten:
                return value
            if len(self._items) >= self.max_items:
                self._items.clear()  # rare, and a miss only costs a read
            self._items[key] = (self._clock() + self.seconds, value)
        return value

    def get_or_load(self, key: str, load: Callable[[], V | None]) -> V | None:
        """The remembered value, or what `load()` finds (remembered unless None)."""
        found = self.get(key)
        if found is not None:
            return found
        forgotten = self._forgotten
        loaded = load()
        return None if loaded is None else self.put(key, loaded, unless_forgotten_since=forgotten)

    async def get_or_load_soon(self, key: str, load: Callable[[], V | None]) -> V | None:
        """get_or_load for an event loop: `load()` runs in a thread, and whoever asks for
        the same key meanwhile waits for that one load. (When a busy token's entry
        expires, hundreds of requests would otherwise each read it again at once.)"""
        found = self.get(key)
        if found is not None:
            return found
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(self.get_or_load, key, load))
            self._loading[key] = pending
            pending.add_done_callback(lambda _: self._loading.pop(key, None))
        return await asyncio.shield(pending)

    def forget(self, key: str) -> None:
        with self._lock:
            self._forgotten += 1
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._forgotten += 1
            self._items.clear()


def kept_in_step(cache: RecentlyChecked[Any], bus: Bus, topic: str) -> Callable[[], None]:
    """Clear `cache` whenever `topic` is published on any node, and when the bus listens
    again after a break (a revocation may have passed meanwhile). Return the function
    that clears it on every node: call it once a revocation is committed."""

    def forget(_data: dict[str, Any]) -> None:
        cache.clear()

    bus.on(topic, forget)
    bus.on(RESUMED, forget)
    return lambda: bus.publish(topic, {})
