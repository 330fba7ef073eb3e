"""Time some of the test suite on this checkout against the same tests of another
commit, in the same run, and print the ratio.

    python bench/suite.py --base main tests/api tests/web/test_pages.py

The baseline is the base commit's files (`git archive`, so no work tree is touched)
in a temporary directory, made a repository of its own; both run `python -m pytest -q -n WORKERS --dist worksteal`
(as scripts/test runs the whole suite, without coverage) on the given paths, one
after the other, at the same `nice`. Each prints its wall time, the CPU time of
pytest and everything it started (workers, hubs), and the load average at its start
and end: other work on the machine moves the figures, so compare within one run.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(label: str, checkout: Path, paths: list[str], workers: int) -> tuple[float, float]:
    """Run the tests in `checkout`; its (wall seconds, CPU seconds)."""
    env = os.environ | {"PYTHONPATH": str(checkout / "src")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-n", str(workers), "--dist", "worksteal", *paths]
    print(f"{label}: load {loadavg()} at the start", flush=True)
    cpu, began = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - began, children_cpu() - cpu
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"{label}: {wall:.0f} s wall, {cpu:.0f} s CPU; {summary}", flush=True)
    print(f"{label}: load {loadavg()} at the end", flush=True)
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-2000:], sep="\n")
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="test paths, as given to pytest")
    parser.add_argument("--base", default="main", help="the baseline commit (default: main)")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="thereyet-suite-base-") as folder:
        base = Path(folder)
        archive = subprocess.run(
            ["git", "archive", args.base], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
        for git in (["init", "-q"], ["add", "-A"]):  # tests/test_scripts.py lists its files
            subprocess.run(["git", *git], cwd=base, check=True)
        before = timed(f"base ({args.base})", base, args.paths, args.workers)
        after = timed("this checkout", ROOT, args.paths, args.workers)
    print(f"ratio (this / base): wall {after[0] / before[0]:.2f}, CPU {after[1] / before[1]:.2f}")


if __name__ == "__main__":
    main()
