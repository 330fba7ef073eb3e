"""A real hub process with real agent processes for each test (tests/agents/harness.py),
and scratch PostgreSQL databases for tests with hub nodes of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents.harness import AgentHub
from tests.nodes import fresh_pg_database


@pytest.fixture
def agent_hub(tmp_path: Path) -> Iterator[AgentHub]:
    hub = AgentHub.start(tmp_path)
    try:
        yield hub
    finally:
        hub.close()


@pytest.fixture
def node_database(pg_database: str) -> Iterator[str]:
    """An empty PostgreSQL database for this test's hub nodes, on the server of the
    session's database (skipped, or failed under CI, without one), dropped afterwards."""
    with fresh_pg_database(pg_database) as url:
        yield url
