"""A real hub (store, writer, fake clock) on each backend, for the people services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from tests.conftest import make_settings
from thereyet.server.clock import FakeClock
from thereyet.server.hub import Hub


class CountingHasher(PasswordHasher):
    """Cheap argon2id parameters for tests, and a count of the checks made."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def core_hub(db_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Hub]:
    opened = Hub.open(make_settings(db_url, tmp_path), clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()
