"""Ingestion with 1, 2 and 3 hub nodes on one PostgreSQL database.

    python bench/scale_out.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/scale_out.py --db ... --nodes 1-,1,2,3 --seconds 30 --batch 1 --streams 64

`1-` is one node with its bus bridge turned off (THEREYET_BUS_BRIDGE=0): what the
bridge costs a node that publishes every update for the others.

For each node count, in the same run: a scratch database, that many real
`thereyet server` nodes on it, one running run per load stream, and the streams
spread over the nodes (stream i posts to node i mod N, each on its own keep-alive
connection, as fast as it is answered; what bench/ingest.py posts, per stream).
Only events in acknowledged batches count. The first count is the baseline: every
other is printed as its ratio to it. With --batch 1 a request is one progress
event (what a thousand SDKs reporting once a second send); with --batch 1000 a
request is what one fast SDK sends.

Printed per count: events/s acknowledged, request latency p50/p99, the CPU the
nodes and PostgreSQL used (cores), and the load average. Everything stays on
loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hub import running_nodes, scratch_pg_database
from ingest import StreamResult, _cpu_seconds, _stream


def _client(
    pairs: list[tuple[int, str]], batch: int, start_at: float, stop_at: float, out: Any
) -> None:
    """One load process: a thread and a connection per (node port, run id)."""
    results: list[StreamResult] = []
    threads = [
        threading.Thread(
            target=lambda p=port, r=run: results.append(_stream(p, r, batch, start_at, stop_at))
        )
        for port, run in pairs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(results)


def _postgres_cpu() -> float:
    """CPU seconds used so far by every PostgreSQL server process (Linux)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            fields = text.rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass
class Result:
    nodes: str  # "2"; "1-": one node, bridge off
    acked: int
    failed: int
    seconds: float
    latencies: list[float]
    nodes_cpu: float
    postgres_cpu: float
    loadavg: str
    notify_payloads: int  # NOTIFY payloads all nodes sent (no dashboards: run updates only)
    notify_bytes: int

    @property
    def rate(self) -> float:
        return self.acked / self.seconds


def measure(db_url: str, spec: str, args: argparse.Namespace) -> Result:
    count = int(spec.rstrip("-"))
    env = {"THEREYET_BUS_BRIDGE": "0"} if spec.endswith("-") else {}
    with (
        tempfile.TemporaryDirectory(prefix="thereyet-bench-") as tmp,
        scratch_pg_database(db_url) as db,
        running_nodes(Path(tmp), db, count, env) as nodes,
    ):
        runs = [
            nodes.front.call("POST", "/api/v1/runs", {"job": f"scale-{i % 20}", "total": 1e9})
            for i in range(args.streams)
        ]
        pairs = [(nodes.hubs[i % count].port, run["id"]) for i, run in enumerate(runs)]
        ctx = multiprocessing.get_context("fork")
        out = ctx.Queue()
        start_at = time.time() + 1.0
        stop_at = start_at + args.seconds
        procs = [
            ctx.Process(
                target=_client, args=(pairs[i :: args.clients], args.batch, start_at, stop_at, out)
            )
            for i in range(args.clients)
        ]
        for proc in procs:
            proc.start()
        time.sleep(max(0.0, start_at - time.time()))
        cpu = [_cpu_seconds(pid) or 0.0 for pid in nodes.pids]
        pg_cpu = _postgres_cpu()
        results: list[StreamResult] = []
        for _ in procs:
            results.extend(out.get(timeout=args.seconds + 120))
        elapsed = time.time() - start_at
        nodes_cpu = sum(
            (_cpu_seconds(pid) or 0.0) - before for pid, before in zip(nodes.pids, cpu, strict=True)
        )
        pg_cpu = _postgres_cpu() - pg_cpu
        health = [hub.call("GET", "/api/v1/health") for hub in nodes.hubs]
        bridges = [h.get("bus_counts", {"payloads": 0, "bytes": 0}) for h in health]
        for proc in procs:
            proc.join()
    return Result(
        nodes=spec if env else str(count),
        acked=sum(r.acked for r in results),
        failed=sum(r.failed for r in results),
        seconds=elapsed,
        latencies=sorted(x for r in results for x in r.latencies),
        nodes_cpu=nodes_cpu / elapsed,
        postgres_cpu=pg_cpu / elapsed,
        loadavg=" ".join(f"{x:.1f}" for x in os.getloadavg()),
        notify_payloads=sum(b["payloads"] for b in bridges),
        notify_bytes=sum(b["bytes"] for b in bridges),
    )


def _line(result: Result, base: Result) -> str:
    lat = result.latencies or [0.0]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return (
        f"| {result.nodes} | {result.rate:,.0f} | {result.rate / base.rate:.2f} | "
        f"{statistics.median(lat) * 1000:.0f} ms | {p99 * 1000:.0f} ms | {result.failed} | "
        f"{result.nodes_cpu:.2f} | {result.postgres_cpu:.2f} | "
        f"{result.notify_payloads / result.seconds:,.0f} ({result.notify_bytes / result.seconds / 1000:,.0f} kB/s) | "
        f"{result.loadavg} |"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--db", required=True, help="a PostgreSQL URL (scratch databases are made there)"
    )
    p.add_argument(
        "--nodes", default="1,2,3", help="node counts, the first is the baseline (1-: bridge off)"
    )
    p.add_argument("--seconds", type=float, default=30.0, help="load time per count")
    p.add_argument("--batch", type=int, default=1, help="events a request")
    p.add_argument("--streams", type=int, default=64, help="runs posting at once")
    p.add_argument("--clients", type=int, default=2, help="load processes")
    args = p.parse_args(argv)
    counts = args.nodes.split(",")
    print(f"machine: {os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.1f}")
    print(f"{args.streams} streams x batches of {args.batch}, {args.seconds:g} s per count, "
          f"{args.clients} load processes, the streams spread straight over the nodes")  # fmt: skip
    results: list[Result] = []
    for count in counts:
        results.append(measure(args.db, count, args))
        print(f"{count} node(s): {results[-1].rate:,.0f} events/s", flush=True)
    print()
    print(
        "| nodes | events/s | ratio to 1st | p50 | p99 | failed | nodes' CPU (cores) | PostgreSQL CPU (cores) | NOTIFY/s (bytes) | load avg at end |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        print(_line(result, results[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
