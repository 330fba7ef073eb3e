"""Fixtures for several real hub nodes (see tests/nodes.py): a fresh PostgreSQL database
per test, and a balancer that must exist under CI."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import _pg_unavailable
from tests.nodes import Balancer, fresh_pg_database
from tests.servers import missing


@pytest.fixture
def nodes_db() -> Iterator[str]:
    """A new, empty PostgreSQL database for the nodes of one test."""
    reason = _pg_unavailable()
    if reason:
        if os.environ.get("THEREYET_REQUIRE_PG") == "1":
            pytest.fail(reason)
        missing(reason)
    with fresh_pg_database() as url:
        yield url


def need_balancer(kind: str) -> None:
    """Skip (fail under CI) unless Debian's `kind` (nginx, haproxy) is installed."""
    reason = Balancer.available(kind)
    if reason:
        missing(reason)
