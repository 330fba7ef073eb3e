"""Start the suite's longest tests first, a file of them on each worker, so they run beside
the rest instead of after it (a pytest plugin, loaded by tests/conftest.py).

A test marked `long` runs for minutes, mostly waiting on the processes it starts
(a soak, a minute of escalation, a clean install). Under `pytest-xdist --dist
worksteal` (scripts/test), each worker is first handed one consecutive share of the
collected tests and runs it from the front, while idle workers steal from the back of
the others' shares. So the long tests are dealt round-robin, a file at a time, to the
front of each share: every worker starts on one, and what is left over is balanced
by stealing. Any other run (one process, another --dist mode) keeps pytest's order."""

from __future__ import annotations

import itertools
from typing import Any

import pytest


def shares(count: int, workers: int) -> list[int]:
    """The sizes of the consecutive shares worksteal first hands `workers` workers."""
    sizes = []
    left = count
    for k in range(workers):
        size = left // (workers - k)
        sizes.append(size)
        left -= size
    return sizes


def long_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """`items` reordered so that each worker's share begins with its long tests.

    The long tests of one file are kept together, in their order, on one worker: the
    two-node soaks of one file each assert that a loaded machine keeps up, and would
    slow each other down side by side."""
    files: dict[object, list[pytest.Item]] = {}
    for item in items:
        if item.get_closest_marker("long"):
            files.setdefault(item.path, []).append(item)
    if not files or workers < 2:
        return items
    rest = iter([item for item in items if not item.get_closest_marker("long")])
    dealt: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for n, tests in enumerate(files.values()):
        dealt[n % workers] += tests
    ordered: list[pytest.Item] = []
    for size, first in zip(shares(len(items), workers), dealt, strict=True):
        ordered += first
        ordered += itertools.islice(rest, max(0, size - len(first)))
    ordered += rest
    return ordered


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "long: runs for minutes; the whole suite starts it first (tests/long_first.py)"
    )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Tell each xdist worker the run's --dist mode (a worker's own options say "no")."""
    node.workerinput["long_first_dist"] = node.config.getoption("dist")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    worker: dict[str, Any] = getattr(config, "workerinput", {})
    if worker.get("long_first_dist") == "worksteal":
        items[:] = long_first(items, int(worker["workercount"]))
