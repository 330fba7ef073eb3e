"""Scheduler lateness: routines every second on one hub node on PostgreSQL, against
a baseline hub run at the same time (by default the same code; `--baseline-src`
runs another source tree, e.g. a checkout of the code before a change).

    python bench/lateness.py --jobs 5 --seconds 30 --baseline-src /path/to/old/src

Each hub gets a fresh database and a local service that notes when each callback
arrives; lateness is arrival minus due time. It also counts the occurrences
called against those due, so a scheduler that skips shows it."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _hub import Recorder, running_hub, scratch_pg_database

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def measure(name: str, src: str | None, args: argparse.Namespace, out: dict[str, str]) -> None:
    recorder = Recorder()
    env = {"PYTHONPATH": src} if src else None
    with (
        scratch_pg_database(args.db) as db,
        tempfile.TemporaryDirectory() as data,
        running_hub(Path(data), db, env) as hub,
    ):
        target = {"kind": "http", "url": f"http://127.0.0.1:{recorder.port}/start"}
        for n in range(args.jobs):
            body = {"schedule": "every 1s", "target": target}
            hub.call("PUT", f"/api/v1/jobs/routine-{n}/schedule", body)
        start = time.time() + 3  # the first seconds are the set-up's
        time.sleep(args.seconds + 3)
        end = time.time() - 2  # calls due at the end may still be on their way
    recorder.close()
    late = sorted(
        a.wall - due
        for a in recorder.arrivals
        if start <= (due := datetime.fromisoformat(a.body["due_at"]).timestamp()) <= end
    )
    expected = args.jobs * len(range(int(start) + 1, int(end) + 1))
    p99 = late[int(len(late) * 0.99)] if late else float("nan")
    out[name] = (
        f"{len(late)} of {expected} called, p50 {statistics.median(late):.3f} s, p99 {p99:.3f} s"
    )
    out[name + ":p99"] = str(p99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=PG, help="a PostgreSQL server URL (databases are made)")
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--baseline-src", default=None, help="source tree of the baseline hub")
    args = parser.parse_args()
    out: dict[str, str] = {}
    threads = [
        threading.Thread(target=measure, args=("this", None, args, out)),
        threading.Thread(target=measure, args=("baseline", args.baseline_src, args, out)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"this tree: {out['this']}")
    print(f"baseline ({args.baseline_src or 'the same tree'}): {out['baseline']}")
    ratio = float(out["this:p99"]) / float(out["baseline:p99"])
    print(f"p99 ratio this/baseline: {ratio:.2f}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
