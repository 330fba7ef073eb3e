"""A real hub process with real agent processes for each test (tests/agents/harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents.harness import AgentHub


@pytest.fixture
def agent_hub(tmp_path: Path) -> Iterator[AgentHub]:
    hub = AgentHub.start(tmp_path)
    try:
        yield hub
    finally:
        hub.close()
