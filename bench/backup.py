"""Backup and restore of a large hub, and what an online backup costs ingestion.

Builds a hub database with --events run events (default 1,000,000, in 1,000
runs) and --attachment-mb megabytes of attachments (default 100, 1 MB each) by
bulk inserts, then, with a real hub (`thereyet server`) serving it:

1. ingestion without a backup: clients post batches of progress events to
   POST /api/v1/runs/{id}/events for --seconds; events/s acknowledged;
2. ingestion during `thereyet backup` of the same database (the same clients,
   for as long as the backup takes); events/s, and the backup's seconds;
3. `thereyet restore` of that archive into a new, empty hub; seconds.

It prints the rates, their ratio (during / without) and both durations.

    python bench/backup.py [--events 1000000] [--attachment-mb 100] [--seconds 10]
    python bench/backup.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test

With --db the hub and the restore use scratch databases on that PostgreSQL
server, dropped afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hub import ADMIN_TOKEN, HOST, Hub, running_hub, scratch_pg_database

RUNS = 1000
ROWS_PER_TX = 50_000


def build(url: str, events: int, attachment_mb: int) -> None:
    """Fill a new hub database quickly: bulk inserts, large transactions."""
    from sqlalchemy import insert, text

    from thereyet.server.store.engine import make_engines
    from thereyet.server.store.migrate import upgrade
    from thereyet.server.store.tables import attachments, jobs, rooms, run_events, runs

    engine = make_engines(url, sqlite_synchronous="OFF").write
    upgrade(engine)
    now = datetime.now(UTC)
    per_run = max(events // RUNS, 1)
    with engine.begin() as conn:
        conn.execute(insert(rooms).values(id=1, name="ops", title="Ops", topic="", created_at=now))
        conn.execute(
            insert(jobs).values(id=1, name="bulk", title="Bulk", description="", created_at=now)
        )
        conn.execute(insert(runs), [_run(f"bulk-{n:04d}", now) for n in range(RUNS)])
    batch: list[dict[str, object]] = []
    for n in range(RUNS * per_run):
        run, i = divmod(n, per_run)
        data = {"done": i, "total": per_run, "unit": "rows"}
        batch.append(
            {
                "run_id": f"bulk-{run:04d}",
                "event_id": f"e{i}",
                "kind": "progress",
                "ts": now,
                "data": data,
            }
        )
        if len(batch) == ROWS_PER_TX:
            with engine.begin() as conn:
                conn.execute(insert(run_events), batch)
            batch = []
    with engine.begin() as conn:
        if batch:
            conn.execute(insert(run_events), batch)
        for n in range(attachment_mb):
            content = os.urandom(1024 * 1024)
            conn.execute(
                insert(attachments).values(
                    id=uuid.uuid4().hex,
                    run_id=f"bulk-{n % RUNS:04d}",
                    room_id=None,
                    name=f"dump-{n}.bin",
                    content_type="application/octet-stream",
                    size=len(content),
                    sha256="0" * 64,
                    content=content,
                    created_at=now,
                )
            )
        if conn.dialect.name == "postgresql":
            # The ids above were given explicitly: the hub's own inserts continue after them.
            for table in ("rooms", "jobs"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 2, false)")
                )
    engine.dispose()


def _run(run_id: str, now: datetime) -> dict[str, object]:
    return {
        "id": run_id,
        "job_id": 1,
        "status": "succeeded",
        "created_at": now,
        "updated_at": now,
        "stats": {},
        "log_tail": [],
        "started_at": now,
        "finished_at": now,
    }


def _post(stop: threading.Event, port: int, run_id: str, counts: list[int]) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    n = 0
    while not stop.is_set():
        events = [
            {"id": f"{uuid.uuid4().hex}", "type": "progress", "done": n + i} for i in range(200)
        ]
        conn.request(
            "POST", f"/api/v1/runs/{run_id}/events", json.dumps({"events": events}), headers
        )
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            counts.append(len(events))
        n += 200
    conn.close()


@contextlib.contextmanager
def load(hub: Hub, clients: int = 2) -> Iterator[list[int]]:
    """Clients posting progress events while the block runs; yields the acknowledged counts."""
    run = hub.call("POST", "/api/v1/runs", {"job": "live", "room": "ops"})
    stop, counts = threading.Event(), []
    threads = [
        threading.Thread(target=_post, args=(stop, hub.port, run["id"], counts))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    try:
        yield counts
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)


def cli(*args: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "thereyet.cli.main", *args], check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--attachment-mb", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--db", help="a PostgreSQL URL (default: SQLite files)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="thereyet-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        base = Path(tmp)
        source = stack.enter_context(scratch_pg_database(args.db)) if args.db else None
        target = stack.enter_context(scratch_pg_database(args.db)) if args.db else None
        data = base / "hub"
        data.mkdir()
        url = source or f"sqlite:///{data / 'thereyet.db'}"
        started = time.monotonic()
        build(url, args.events, args.attachment_mb)
        print(
            f"built: {args.events:,} events, {args.attachment_mb} MB of attachments in {time.monotonic() - started:.1f} s"
        )
        where = ["--db", source] if source else ["--data-dir", str(data)]
        archive = base / "hub.tgz"
        with running_hub(data, source) as hub:
            with load(hub) as counts:
                time.sleep(args.seconds)
                without = sum(counts) / args.seconds
            with load(hub) as counts:
                backup_seconds = cli("backup", str(archive), *where)
                during = sum(counts) / backup_seconds
        into = ["--db", target] if target else ["--data-dir", str(base / "restored")]
        restore_seconds = cli("restore", str(archive), *into)
        size = archive.stat().st_size / 1e6
        print(
            f"backup: {backup_seconds:.1f} s ({size:.0f} MB archive); restore: {restore_seconds:.1f} s"
        )
        print(f"ingestion without a backup: {without:,.0f} events/s")
        print(f"ingestion during the backup: {during:,.0f} events/s")
        print(f"ratio (during / without): {during / without:.2f}")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
