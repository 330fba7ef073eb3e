"""The whole suite's scheduling (tests/long_first.py): under `--dist worksteal` every
worker starts on a file of tests marked `long`, whatever their place in the suite."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # four pytest processes

RECORD = """
import os
import pytest

def record(name):
    with open(os.environ["RAN"], "a") as log:
        log.write(f"{os.environ['PYTEST_XDIST_WORKER']} {name}\\n")
"""
SHORT = """
@pytest.mark.parametrize("n", range(40))
def test_short(n):
    record(f"short-{n}")
"""
LONG = """
@pytest.mark.long
@pytest.mark.parametrize("n", range({count}))
def test_long(n):
    record(f"{name}-{{n}}")
"""
FILES = {  # the long tests come last in pytest's order
    "test_a_short.py": SHORT,
    "test_b_long.py": LONG.format(count=2, name="b"),
    "test_c_long.py": LONG.format(count=1, name="c"),
    "test_d_long.py": LONG.format(count=1, name="d"),
}


def run_suite(folder: Path, *args: str) -> list[tuple[str, str]]:
    """Run a 44-test suite with the plugin in `folder`; (worker, test) as they began."""
    (folder / "conftest.py").write_text('pytest_plugins = ["tests.long_first"]\n')
    for name, tests in FILES.items():
        (folder / name).write_text(RECORD + tests)
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
    return [(worker, name) for worker, name in map(str.split, ran.read_text().splitlines())]


def test_under_worksteal_each_worker_starts_on_a_long_file_kept_together(tmp_path: Path):
    order: dict[str, list[str]] = defaultdict(list)
    for worker, name in run_suite(tmp_path, "-n", "3", "--dist", "worksteal"):
        order[worker].append(name)
    assert sorted(order) == ["gw0", "gw1", "gw2"]
    firsts = sorted(names[: 2 if names[0] == "b-0" else 1] for names in order.values())
    assert firsts == [["b-0", "b-1"], ["c-0"], ["d-0"]], dict(order)
    assert sum(len(names) for names in order.values()) == 44


def test_another_dist_mode_keeps_pytests_order(tmp_path: Path):
    ran = [name for _, name in run_suite(tmp_path, "-n", "2", "--dist", "load")]
    assert len(ran) == 44
    assert all(name.startswith("short-") for name in ran[:20]), ran  # pytest's order: last
