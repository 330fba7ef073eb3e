"""Real hub nodes for lease tests (the suite's launcher, tests.servers.HubProcess) on
one PostgreSQL database, any of them armed with a fault point (THEREYET_FAULT) where
it kills itself."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tests.nodes import fresh_pg_database
from tests.servers import HubProcess


def died_by_fault(node: HubProcess, timeout: float = 30) -> str:
    """Wait for a node armed with a fault point to kill itself; the log line naming it."""
    assert node.process is not None
    node.process.wait(timeout)
    assert node.process.returncode == -signal.SIGKILL, node.output()
    lines = [line for line in node.output().splitlines() if "fault point" in line]
    assert lines, node.output()
    return lines[-1]


def call(node: HubProcess, method: str, path: str, json: Any = None) -> Any:
    """A request as admin that must answer 2xx; its JSON body."""
    status, found = node.request(method, path, json, timeout=60)
    assert status < 300, f"{method} {path}: {status} {found}"
    return found


@contextmanager
def nodes(db: str, root: Path, *names: str) -> Iterator[list[HubProcess]]:
    """Nodes (not yet started) on `db`; every one still running is killed at the end."""
    made = [HubProcess(root / name, db=db, name=name) for name in names]
    try:
        yield made
    finally:
        for node in made:
            node.kill()


@contextmanager
def scratch_databases(count: int) -> Iterator[list[str]]:
    """`count` fresh PostgreSQL databases (at THEREYET_TEST_PG_URL), dropped at the end."""
    with ExitStack() as stack:
        yield [stack.enter_context(fresh_pg_database()) for _ in range(count)]
