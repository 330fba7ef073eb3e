"""The short memory of checked secrets: one load per key, however many ask at once."""

from __future__ import annotations

import asyncio
import threading

from thereyet.server.services.cache import RecentlyChecked


def test_callers_asking_for_one_key_at_once_share_one_load():
    cache: RecentlyChecked[str] = RecentlyChecked(seconds=60)
    loads: list[str] = []
    release = threading.Event()

    def load() -> str:
        loads.append("read")
        release.wait(10)
        return "principal"

    async def main() -> list[str | None]:
        callers = [asyncio.create_task(cache.get_or_load_soon("k", load)) for _ in range(50)]
        await asyncio.sleep(0)  # each caller runs to its first wait: all on the one load
        release.set()
        found = await asyncio.gather(*callers)
        found.append(await cache.get_or_load_soon("k", load))  # remembered now
        return found

    assert asyncio.run(main()) == ["principal"] * 51
    assert loads == ["read"]


def test_nothing_found_is_not_remembered_and_a_cancelled_caller_spoils_nothing():
    cache: RecentlyChecked[str] = RecentlyChecked(seconds=60)
    answers = iter([None, "second"])

    async def main() -> tuple[str | None, str | None]:
        first = await cache.get_or_load_soon("k", lambda: next(answers))
        impatient = asyncio.create_task(cache.get_or_load_soon("k", lambda: next(answers)))
        patient = asyncio.create_task(cache.get_or_load_soon("k", lambda: "unused"))
        await asyncio.sleep(0)
        impatient.cancel()
        return first, await patient

    assert asyncio.run(main()) == (None, "second")


def test_a_load_under_way_while_something_is_forgotten_is_answered_not_remembered():
    cache: RecentlyChecked[str] = RecentlyChecked(seconds=60)

    def load_read_before_a_revocation() -> str:
        cache.clear()  # a revocation commits meanwhile
        return "token"

    assert cache.get_or_load("k", load_read_before_a_revocation) == "token"
    assert cache.get("k") is None
    assert cache.get_or_load("k", lambda: "token") == "token"
    assert cache.get("k") == "token"
