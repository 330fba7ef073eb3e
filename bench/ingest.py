"""Group-commit ingestion: progress events/s through the hub's batch endpoint.

Starts a real hub (`thereyet server`: SQLite in its data directory with
synchronous=FULL, as shipped), creates one run per load stream, and has client
processes post batches of progress events (unique ids and times, as the SDK sends)
to POST /api/v1/runs/{id}/events over keep-alive connections for a fixed time.
Only events in acknowledged (200) batches count.

Then the ceiling, in the same run: the very rows the hub stored are inserted
straight into a fresh database of the same schema, with the hub's own engine
settings (pragmas), by one process with executemany in large transactions.
The script prints both rates and their ratio.

    python bench/ingest.py [--seconds 10] [--batch 1000] [--clients 2] [--concurrency 4]
    python bench/ingest.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test

With --db, the hub and the ceiling use scratch databases created on that
PostgreSQL server and dropped afterwards. Everything stays on loopback, and
the load stops by itself after --seconds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hub import ADMIN_TOKEN, HOST, Hub, running_hub, scratch_pg_database

TARGET = 20_000  # events/s the hub must sustain on SQLite (issue 2)
CEILING_TX_ROWS = 50_000


# -- the load ----------------------------------------------------------------------


@dataclass
class StreamResult:
    acked: int = 0
    batches: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)


def _stamps(count: int) -> list[str]:
    """`count` distinct, increasing UTC times just before now, a microsecond apart."""
    first = time.time_ns() // 1000 - count
    prefixes: dict[int, str] = {}
    stamps = []
    for micros in range(first, first + count):
        second, fraction = divmod(micros, 1_000_000)
        if second not in prefixes:
            prefixes[second] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        stamps.append(f"{prefixes[second]}.{fraction:06d}Z")
    return stamps


def _body(start: int, batch: int) -> bytes:
    """A batch of progress events with unique ids and times, as the SDK sends them."""
    events = ",".join(
        f'{{"id":"p{n}","type":"progress","ts":"{ts}","done":{n},"total":1000000000}}'
        for n, ts in zip(range(start, start + batch), _stamps(batch), strict=True)
    )
    return f'{{"events":[{events}]}}'.encode()


def _stream(port: int, run_id: str, batch: int, start_at: float, stop_at: float) -> StreamResult:
    """Post batches to one run over one keep-alive connection until `stop_at`."""
    result = StreamResult()
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    path = f"/api/v1/runs/{run_id}/events"
    sent = 0
    time.sleep(max(0.0, start_at - time.time()))
    while time.time() < stop_at:
        body = _body(sent, batch)
        sent += batch
        began = time.perf_counter()
        try:
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            reply = response.read()
        except (OSError, http.client.HTTPException):
            result.failed += 1
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
            continue
        if response.status == 200 and json.loads(reply)["accepted"] == batch:
            result.acked += batch
            result.batches += 1
            result.latencies.append(time.perf_counter() - began)
        else:
            result.failed += 1
    conn.close()
    return result


def _client(
    port: int, run_ids: list[str], batch: int, start_at: float, stop_at: float, out: Any
) -> None:
    """One load-generating process: a thread and a connection per run."""
    results: list[StreamResult] = []

    def stream(run_id: str) -> None:
        results.append(_stream(port, run_id, batch, start_at, stop_at))

    threads = [threading.Thread(target=stream, args=(run_id,)) for run_id in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(results)


@dataclass
class Load:
    acked: int
    batches: int
    failed: int
    seconds: float
    latencies: list[float]
    hub_cpu: float | None  # CPU seconds the hub process used during the load

    @property
    def rate(self) -> float:
        return self.acked / self.seconds


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux), or None where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(hub: Hub, *, seconds: float, batch: int, clients: int, concurrency: int) -> Load:
    """Create a run per stream, spread the streams over `clients` processes, and post."""
    runs = [
        hub.call("POST", "/api/v1/runs", {"job": "bench-ingest"})
        for _ in range(clients * concurrency)
    ]
    run_ids = [run["id"] for run in runs]
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 1.0  # every process is up and waiting by then
    stop_at = start_at + seconds
    procs = [
        ctx.Process(
            target=_client, args=(hub.port, run_ids[i::clients], batch, start_at, stop_at, out)
        )
        for i in range(clients)
    ]
    for proc in procs:
        proc.start()
    time.sleep(max(0.0, start_at - time.time()))
    cpu_before = _cpu_seconds(hub.process.pid)
    results: list[StreamResult] = []
    for _ in procs:
        results.extend(out.get(timeout=seconds + 120))
    elapsed = time.time() - start_at  # until the last answer to a request sent in time
    cpu_after = _cpu_seconds(hub.process.pid)
    for proc in procs:
        proc.join()
    return Load(
        acked=sum(r.acked for r in results),
        batches=sum(r.batches for r in results),
        failed=sum(r.failed for r in results),
        seconds=elapsed,
        latencies=[x for r in results for x in r.latencies],
        hub_cpu=None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
    )


# -- the ceiling -------------------------------------------------------------------


def _stored_rows(url: str) -> tuple[list[Any], list[Any], list[tuple[Any, ...]]]:
    """The hub's jobs, runs, and progress events exactly as stored, oldest first."""
    from sqlalchemy import create_engine, select

    from thereyet.server.store.tables import jobs, runs

    engine = create_engine(url)
    data = "CAST(data AS TEXT)" if engine.dialect.name == "postgresql" else "data"
    query = (
        f"SELECT run_id, event_id, kind, ts, {data} FROM run_events "  # noqa: S608
        "WHERE kind = 'progress' ORDER BY seq"
    )
    with engine.connect() as conn:
        job_rows = [row._mapping for row in conn.execute(select(jobs))]
        run_rows = [row._mapping for row in conn.execute(select(runs))]
        events = [tuple(row) for row in conn.exec_driver_sql(query)]
    engine.dispose()
    return job_rows, run_rows, events


def ceiling(source_url: str, target_url: str) -> tuple[int, float]:
    """Insert the hub's progress rows straight into a fresh database: (rows, seconds)."""
    from sqlalchemy import insert

    from thereyet.server.store.engine import make_engines
    from thereyet.server.store.migrate import upgrade
    from thereyet.server.store.tables import jobs, runs

    job_rows, run_rows, events = _stored_rows(source_url)
    engines = make_engines(target_url)  # the hub's own engine: same pragmas, same BEGIN
    upgrade(engines.write)
    with engines.write.begin() as conn:
        conn.execute(insert(jobs), [dict(row) for row in job_rows])
        conn.execute(insert(runs), [dict(row) for row in run_rows])
    raw = engines.write.raw_connection()
    try:
        seconds = _insert_straight(raw, events, postgres=engines.dialect == "postgresql")
    finally:
        raw.close()
        engines.dispose()
    return len(events), seconds


def _insert_straight(raw: Any, rows: list[tuple[Any, ...]], *, postgres: bool) -> float:
    values = "%s, %s, %s, %s, CAST(%s AS JSONB)" if postgres else "?, ?, ?, ?, ?"
    sql = f"INSERT INTO run_events (run_id, event_id, kind, ts, data) VALUES ({values})"  # noqa: S608
    cursor = raw.cursor()
    began = time.perf_counter()
    for start in range(0, len(rows), CEILING_TX_ROWS):
        if not postgres:
            cursor.execute("BEGIN IMMEDIATE")  # the hub's SQLite connections are in autocommit
        cursor.executemany(sql, rows[start : start + CEILING_TX_ROWS])
        if postgres:
            raw.commit()
        else:
            cursor.execute("COMMIT")
    seconds = time.perf_counter() - began
    cursor.close()
    return seconds


# -- the run -------------------------------------------------------------------------


def _machine() -> str:
    cpu = platform.processor() or "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"
    )


def _load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


@dataclass
class Trial:
    """One load on a fresh hub, then the ceiling for the rows it stored."""

    load: Load
    rows: int
    ceiling_seconds: float

    @property
    def ceiling_rate(self) -> float:
        return self.rows / self.ceiling_seconds


def trial(args: argparse.Namespace) -> Trial:
    with tempfile.TemporaryDirectory(prefix="thereyet-bench-") as tmp:
        data_dir = Path(tmp) / "hub"
        if args.db:
            with scratch_pg_database(args.db) as hub_db, scratch_pg_database(args.db) as raw_db:
                load = _run_load(data_dir, hub_db, args)
                rows, seconds = ceiling(hub_db, raw_db)
        else:
            load = _run_load(data_dir, None, args)
            hub_db = f"sqlite:///{data_dir / 'thereyet.db'}"
            rows, seconds = ceiling(hub_db, f"sqlite:///{Path(tmp) / 'ceiling.db'}")
    if rows != load.acked:
        print(f"warning: the hub stored {rows:,} progress events but acknowledged {load.acked:,}")
    return Trial(load, rows, seconds)


def _run_load(data_dir: Path, db: str | None, args: argparse.Namespace) -> Load:
    with running_hub(data_dir, db) as hub:
        return drive(
            hub,
            seconds=args.seconds,
            batch=args.batch,
            clients=args.clients,
            concurrency=args.concurrency,
        )


def _trial_line(number: int, t: Trial) -> str:
    load = t.load
    latencies = sorted(load.latencies) or [0.0]
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    cpu = ""
    if load.hub_cpu:
        cpu = (
            f", hub on {load.hub_cpu / load.seconds:.2f} cores"
            f" ({load.hub_cpu / load.acked * 1e6:.0f} us of CPU an event)"
        )
    return (
        f"run {number}: hub {load.rate:,.0f} events/s ({load.acked:,} acknowledged in"
        f" {load.seconds:.1f} s, {load.failed} failed; latency p50 {p50:.0f} ms,"
        f" p99 {p99:.0f} ms{cpu}); ceiling {t.ceiling_rate:,.0f} events/s;"
        f" ratio {load.rate / t.ceiling_rate:.2f}"
    )


def _summary(trials: list[Trial], args: argparse.Namespace) -> bool:
    """Print the best of the runs; return whether the target was met (or does not apply)."""
    hub = max(t.load.rate for t in trials)
    top = max(t.ceiling_rate for t in trials)
    backend = "PostgreSQL (scratch database)" if args.db else "SQLite, WAL, synchronous=FULL"
    print(f"machine:  {_machine()}; load average before: {args.load_average}")
    print(f"backend:  {backend}")
    print(
        f"load:     {args.clients} client processes x {args.concurrency} keep-alive connections,"
        f" batches of {args.batch} progress events, {args.seconds:g} s a run"
    )
    print(f"hub:      {hub:,.0f} events/s (best of {len(trials)})")
    print(
        f"ceiling:  {top:,.0f} events/s: the rows the hub stored, inserted straight by one"
        f" process (executemany, {CEILING_TX_ROWS:,} rows a transaction; best of {len(trials)})"
    )
    print(f"ratio:    hub / ceiling = {hub / top:.2f}")
    if args.db:
        return True
    print(f"target:   {TARGET:,} events/s on SQLite: {'met' if hub >= TARGET else 'MISSED'}")
    return hub >= TARGET


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load time (default 10)")
    parser.add_argument(
        "--batch", type=int, default=1000, help="events a request, as the SDK sends (default 1000)"
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes (default 2)")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="requests in flight per client (default 4)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs, each on a fresh hub; the best counts"
    )
    parser.add_argument("--db", help="a PostgreSQL URL: run there (scratch databases) instead")
    args = parser.parse_args(argv)
    if not (0 < args.seconds <= 600 and 0 < args.batch <= 5000 and 0 < args.repeat <= 10):
        parser.error("--seconds must be in (0, 600], --batch in [1, 5000], --repeat in [1, 10]")
    if args.clients < 1 or args.concurrency < 1:
        parser.error("--clients and --concurrency must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 if the hub missed its target on SQLite."""
    args = _parse(argv)
    args.load_average = _load_average()
    trials = []
    for number in range(1, args.repeat + 1):
        trials.append(trial(args))
        print(_trial_line(number, trials[-1]), flush=True)
    return 0 if _summary(trials, args) else 1


if __name__ == "__main__":
    sys.exit(main())
