"""The whole suite's scheduling (tests/long_first.py): under `--dist worksteal` every
worker starts on one of the tests marked `long`, whatever their place in the files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # four pytest processes

A_SUITE = """
import os
import pytest

def record(name):
    with open(os.environ["RAN"], "a") as log:
        log.write(f"{os.environ['PYTEST_XDIST_WORKER']} {name}\\n")

@pytest.mark.parametrize("n", range(40))
def test_short(n):
    record(f"short-{n}")

@pytest.mark.long
@pytest.mark.parametrize("n", range(4))
def test_long(n):
    record(f"long-{n}")
"""


def run_suite(folder: Path, *args: str) -> dict[str, list[str]]:
    """Run a 44-test suite with the plugin in `folder`; the tests each worker ran, in order."""
    (folder / "conftest.py").write_text('pytest_plugins = ["tests.long_first"]\n')
    (folder / "test_many.py").write_text(A_SUITE)
    ran = folder / "ran.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env |= {"RAN": str(ran), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    order: dict[str, list[str]] = defaultdict(list)
    for line in ran.read_text().splitlines():
        worker, name = line.split()
        order[worker].append(name)
    return order


def test_under_worksteal_each_worker_starts_on_a_long_test(tmp_path: Path):
    order = run_suite(tmp_path, "-n", "3", "--dist", "worksteal")
    assert sorted(order) == ["gw0", "gw1", "gw2"]
    firsts = [names[0] for names in order.values()]
    assert all(name.startswith("long-") for name in firsts), dict(order)
    assert len(set(firsts)) == 3
    assert sum(len(names) for names in order.values()) == 44


def test_another_dist_mode_keeps_pytests_order(tmp_path: Path):
    order = run_suite(tmp_path, "-n", "2", "--dist", "loadfile")
    [names] = order.values()  # one file: one worker runs it, in file order
    assert names == [f"short-{n}" for n in range(40)] + [f"long-{n}" for n in range(4)]
