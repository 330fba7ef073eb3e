"""SQLite is one node: a second `thereyet server` on the same SQLite file is refused,
while commands such as `thereyet token create` still work beside the running hub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.nodes import REPO
from tests.servers import HubProcess

pytestmark = pytest.mark.slow


def _thereyet(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "thereyet.cli.main", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def test_a_second_server_on_the_same_sqlite_file_is_refused_and_a_killed_one_is_not(
    tmp_path: Path,
):
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    first = HubProcess(tmp_path / "a", db=db, name="node-a").start()
    try:
        second = _thereyet("server", "--db", db, "--port", "0")
        assert second.returncode == 1
        assert f"(pid {first.process.pid})" in second.stderr
        assert "SQLite is for a single node" in second.stderr
        assert "docs/scale-out.md" in second.stderr
        token = _thereyet("token", "create", "--db", db, "--scope", "read")
        assert token.returncode == 0, token.stderr
        first.kill()  # kill -9 leaves the lock file behind, but not the lock
        first.start()
    finally:
        first.kill()
