"""One group of reports' SQL on PostgreSQL: how it was against how it is, alternated.

What RunService._report_many sends for a group of N runs that each reported progress:
before, a VALUES list of 5 placeholders a row for the events and an executemany of one
UPDATE a run; now, one INSERT ... SELECT FROM unnest and one UPDATE ... FROM unnest, the
columns as binary arrays. Prints the client's CPU and the wall time a group (medians of
6 rounds of 100 groups each), on temporary tables shaped like run_events and runs.

    python bench/report_group_sql.py [--runs 200] [--db postgresql://postgres@127.0.0.1/test]

(The VALUES list is prepared here after 5 groups, as every group has the same size; in
the hub each group size is a new statement.)
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

ROUNDS, GROUPS = 6, 100
_UPDATE_ONE = (
    "UPDATE r SET done = %s, rate = %s, progress_at = %s, eta = CAST(%s AS JSONB),"
    " updated_at = %s, version = version + 1 WHERE id = %s"
)
_INSERT_MANY = (
    "INSERT INTO e (run_id, event_id, kind, ts, data) SELECT a, b, k, t, CAST(d AS JSONB)"
    " FROM unnest(CAST(%b AS TEXT[]), CAST(%b AS TEXT[]), CAST(%b AS TEXT[]),"
    " CAST(%b AS TIMESTAMPTZ[]), CAST(%b AS TEXT[])) AS v(a, b, k, t, d)"
    " ON CONFLICT (run_id, event_id) DO NOTHING RETURNING run_id, event_id"
)
_UPDATE_MANY = (
    "UPDATE r SET done = v.c0, rate = v.c1, progress_at = v.c2, eta = CAST(v.c3 AS JSONB),"
    " updated_at = %b, version = r.version + 1 FROM unnest(CAST(%b AS DOUBLE PRECISION[]),"
    " CAST(%b AS DOUBLE PRECISION[]), CAST(%b AS TIMESTAMPTZ[]), CAST(%b AS TEXT[]),"
    " CAST(%b AS TEXT[])) AS v(c0, c1, c2, c3, id) WHERE r.id = v.id"
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=200, help="runs in a group")
    p.add_argument("--db", default="host=127.0.0.1 user=postgres dbname=test")
    args = p.parse_args()
    conn = psycopg.connect(args.db.replace("postgresql+psycopg://", "postgresql://"))
    cur = conn.cursor()
    cur.execute(
        "CREATE TEMP TABLE r (id text PRIMARY KEY, done float8, rate float8,"
        " progress_at timestamptz, eta jsonb, updated_at timestamptz, version int DEFAULT 0)"
    )
    cur.execute(
        "CREATE TEMP TABLE e (seq bigserial PRIMARY KEY, run_id text, event_id text, kind text,"
        " ts timestamptz, data jsonb, UNIQUE (run_id, event_id))"
    )
    ids = [uuid.uuid4().hex for _ in range(args.runs)]
    cur.executemany("INSERT INTO r (id) VALUES (%s)", [(i,) for i in ids])
    conn.commit()
    knots = [[i, i * 1.5] for i in range(40)]
    eta = json.dumps({"v": 1, "total": 100.0, "knots": knots, "last": [40.0, 60.0]})
    counter = itertools.count()

    def group() -> tuple[datetime, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        k, now = next(counter), datetime.now(UTC)
        events = [(i, f"p{k}", "progress", now, json.dumps({"done": k})) for i in ids]
        return now, events, [(float(k), 1.5, now, eta) for _ in ids]

    def before() -> None:
        now, events, updates = group()
        one = "(%s, %s, %s, %s, CAST(%s AS JSONB))"
        cur.execute(
            "INSERT INTO e (run_id, event_id, kind, ts, data) VALUES "  # noqa: S608
            + ", ".join([one] * len(events))
            + " ON CONFLICT (run_id, event_id) DO NOTHING RETURNING run_id, event_id",
            tuple(v for row in events for v in row),
        )
        cur.fetchall()
        cur.executemany(_UPDATE_ONE, [(*u, now, i) for u, i in zip(updates, ids, strict=True)])
        conn.commit()

    def after() -> None:
        now, events, updates = group()
        cur.execute(_INSERT_MANY, tuple(list(c) for c in zip(*events, strict=True)))
        cur.fetchall()
        columns = [list(c) for c in zip(*updates, strict=True)]
        cur.execute(_UPDATE_MANY, (now, *columns, ids))
        conn.commit()

    trees: dict[str, Callable[[], None]] = {"before": before, "after": after}
    seen: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    for f in trees.values():
        f()
    for _ in range(ROUNDS):
        for name, f in trees.items():
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(GROUPS):
                f()
            took = (time.process_time() - cpu, time.perf_counter() - wall)
            seen[name].append((took[0] / GROUPS * 1e3, took[1] / GROUPS * 1e3))
    medians = {}
    for name, figures in seen.items():
        cpu_ms = statistics.median(x[0] for x in figures)
        wall_ms = statistics.median(x[1] for x in figures)
        medians[name] = cpu_ms
        print(
            f"{name}: a group of {args.runs} runs: client CPU {cpu_ms:.2f} ms,"
            f" wall {wall_ms:.2f} ms (medians of {ROUNDS} rounds of {GROUPS})"
        )
    print(f"client CPU after / before: {medians['after'] / medians['before']:.2f}")


if __name__ == "__main__":
    main()
