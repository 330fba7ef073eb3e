"""Ping throughput: healthchecks-style pings/s against a plain endpoint of the same hub.

Starts a real hub (`thereyet server`, SQLite with synchronous=FULL as shipped, or
--db PostgreSQL), creates --checks jobs with ping URLs, then for --seconds has
--clients processes of --threads keep-alive connections each send
`GET /ping/<uuid>` (each ping records a finished run) round-robin over the
checks. In the same run, the same load is sent to `GET /api/v1/health`, an
endpoint of the same app that writes nothing. Prints both rates and the ratio.

    python bench/ping.py [--seconds 10] [--clients 2] [--threads 8] [--checks 200]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hub import HOST, running_hub, scratch_pg_database


def _load(port: int, paths: list[str], stop_at: float, out: Any, threads: int) -> None:
    """One load process: `threads` connections, each walking `paths` until stop_at."""
    counts: list[tuple[int, int, list[float]]] = []

    def worker(offset: int) -> None:
        ok = bad = 0
        latencies: list[float] = []
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        n = offset
        while time.time() < stop_at:
            path = paths[n % len(paths)]
            n += threads
            began = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                continue
            if response.status == 200:
                ok += 1
                latencies.append(time.perf_counter() - began)
            else:
                bad += 1
        conn.close()
        counts.append((ok, bad, latencies))

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put(counts)


def measure(
    port: int, paths: list[str], seconds: float, clients: int, threads: int
) -> dict[str, float]:
    out: Any = multiprocessing.Queue()
    stop_at = time.time() + seconds
    procs = [
        multiprocessing.Process(
            target=_load, args=(port, paths[i::clients] or paths, stop_at, out, threads)
        )
        for i in range(clients)
    ]
    began = time.time()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = max(time.time() - began, seconds)
    ok = sum(c[0] for r in results for c in r)
    bad = sum(c[1] for r in results for c in r)
    latencies = sorted(x for r in results for c in r for x in c[2])
    p99 = latencies[int(len(latencies) * 0.99)] if latencies else float("nan")
    return {
        "rate": ok / elapsed,
        "ok": ok,
        "errors": bad,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * p99,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--db", help="a PostgreSQL URL; a scratch database is made on its server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db:
            with scratch_pg_database(args.db) as url:
                return _run(Path(tmp), url, args)
        return _run(Path(tmp), None, args)


def _run(data_dir: Path, db: str | None, args: argparse.Namespace) -> int:
    with running_hub(data_dir, db) as hub:
        pings = [
            urlsplit(hub.call("PUT", f"/api/v1/jobs/check-{n:04d}/schedule", {})["ping_url"]).path
            for n in range(args.checks)
        ]
        base = measure(hub.port, ["/api/v1/health"], args.seconds, args.clients, args.threads)
        ping = measure(hub.port, pings, args.seconds, args.clients, args.threads)
    backend = "PostgreSQL" if db else "SQLite (synchronous=FULL)"
    print(
        f"hub on {backend}; {args.clients} client processes x {args.threads} connections; {args.seconds:.0f} s each"
    )
    for name, r in (
        ("GET /api/v1/health (writes nothing)", base),
        ("GET /ping/<uuid> (records a run)", ping),
    ):
        print(
            f"  {name:38} {r['rate']:8.0f} req/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}"
        )
    print(f"ratio ping / plain endpoint: {ping['rate'] / base['rate']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
