"""Ping throughput: healthchecks-style pings/s against a no-database endpoint of the same hub.

Starts a real hub (`thereyet server`, SQLite with synchronous=FULL as shipped, or
--db PostgreSQL) and loads it with wrk (keep-alive connections, a Lua script
walking the checks' ping URLs, each wrk thread from its own place). Each
scenario measures in the same run, against the same process:

- checks: `GET /ping/<uuid>` round-robin over N checks (--checks, default 200
  and 100000), against `GET /api/v1/health` (writes nothing): pings/s, the
  ratio, and every 2xx ping checked as recorded (runs counted in the database
  before and after; none answered 5xx);
- slugs: 200 checks pinged by ping key and slug (/ping/<key>/<slug>), as above;
- history: one fresh check against one check with 100,000 past runs (ratio);
- burst: 10,000 scheduled checks ("* * * * *", --grace, default 60 s) all
  pinging at once at the top of a minute: the time until the last is
  recorded, and that no late or missed notice fired;
- outage (not in all): the burst when each check missed its occurrence before (the
  hub was down for it), so the monitor notes 10,000 misses as the pings come,
  against the plain burst in the same run: the time to answer all pings, and when
  the last missed notice was written.

Checks and past runs are written straight into the database while the hub is
stopped (through the same SQLAlchemy tables), so that seeding 100,000 of them
takes seconds rather than minutes. The per-check ping limit is raised for the
run (THEREYET_PING_RATE_PER_MINUTE) so that one check can be loaded at all, and
retention is off (THEREYET_KEEP_RUNS=0) so that the history stays.

    python bench/ping.py [--scenario checks|slugs|history|burst|outage|all] [--seconds 5]
                         [--connections 32] [--checks 200,100000] [--db URL]
                         [--src OTHER/src] [--analyze]

--src runs the hub from another source tree (say, a checkout of the previous
release), to compare two versions on the same machine in the same hour.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hub import HOST, Hub, running_hub, scratch_pg_database
from ping_load import burst, count_runs, last_notice, late_or_missed, seed_checks, seed_history

_LUA = """
local paths = {}
for line in io.lines(os.getenv("PING_PATHS")) do paths[#paths + 1] = line end
n = 0
setup_count = 0
function setup(thread)
  thread:set("n", setup_count * 7919)  -- each thread from its own place in the list
  setup_count = setup_count + 1
end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "non2xx": %d, "socket_errors": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f}\\n',
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def wrk(port: int, paths: list[str], seconds: float, connections: int, tmp: Path) -> dict[str, Any]:
    """Load `paths` with wrk for `seconds`; requests, non-2xx answers, rate and latencies."""
    listing = tmp / f"paths-{uuid.uuid4().hex}.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = tmp / "ping.lua"
    script.write_text(_LUA)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script)]
    command.append(f"http://{HOST}:{port}")
    env = {**os.environ, "PING_PATHS": str(listing)}
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    result["rate"] = (result["requests"] - result["non2xx"]) / result["seconds"]
    return result


def _line(name: str, r: dict[str, Any]) -> str:
    return (
        f"  {name:44} {r['rate']:7.0f} /s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
        f"  non-2xx {r['non2xx']}  socket errors {r['socket_errors']}"
    )


def _verify(url: str, before: int, result: dict[str, Any], connections: int) -> str:
    """Every 2xx ping recorded: wrk's count, give or take the pings in flight at its end."""
    recorded = count_runs(url) - before
    answered = result["requests"] - result["non2xx"]
    ok = answered <= recorded <= answered + connections and result["non2xx"] == 0
    return f"  verified: {answered} answered 2xx, {recorded} runs recorded: {'OK' if ok else 'MISMATCH'}"


def scenario_checks(args: argparse.Namespace, url: str, tmp: Path, n: int) -> None:
    data = tmp / f"checks-{n}"
    with running_hub(data, args.db_url):
        pass  # made and migrated
    uuids = seed_checks(url, n, prefix=f"check{n}")
    with running_hub(data, args.db_url) as hub:
        paths = [f"/ping/{u}" for u in uuids]
        _measure(args, hub, url, tmp, paths, f"{n} checks:", "GET /ping/<uuid>")


def scenario_slugs(args: argparse.Namespace, url: str, tmp: Path) -> None:
    """200 checks pinged by ping key and slug (`/ping/<key>/<slug>`), as the checks."""
    data = tmp / "slugs"
    with running_hub(data, args.db_url):
        pass
    seed_checks(url, 200, prefix="slug")
    with running_hub(data, args.db_url) as hub:
        key = hub.call("POST", "/api/v1/ping-keys", {"name": "bench"})["key"]
        paths = [f"/ping/{key}/slug-{i:06d}" for i in range(200)]
        _measure(args, hub, url, tmp, paths, "200 checks by slug:", "GET /ping/<key>/<slug>")


def _measure(
    args: argparse.Namespace, hub: Hub, url: str, tmp: Path, paths: list[str], title: str, form: str
) -> None:
    """Pings to `paths` against the endpoint that writes nothing, warm, in the same hub;
    every 2xx ping checked as recorded."""
    _warm(hub, paths, tmp, args)
    if args.analyze:
        analyze(url)
    base = wrk(hub.port, ["/api/v1/health"], args.seconds, args.connections, tmp)
    before = count_runs(url)
    ping = wrk(hub.port, paths, args.seconds, args.connections, tmp)
    time.sleep(1)
    print(title)
    print(_line("GET /api/v1/health (writes nothing)", base))
    print(_line(f"{form} (records a run)", ping))
    print(_verify(url, before, ping, args.connections))
    print(f"  ratio ping / no-database endpoint: {ping['rate'] / base['rate']:.2f}")


def scenario_history(args: argparse.Namespace, url: str, tmp: Path) -> None:
    data = tmp / "history"
    with running_hub(data, args.db_url):
        pass
    fresh, old = seed_checks(url, 2, prefix="history")
    seed_history(url, old, 100_000)
    with running_hub(data, args.db_url) as hub:
        _warm(hub, [f"/ping/{fresh}", f"/ping/{old}"], tmp, args)
        rates: dict[str, list[float]] = {}
        for name, u in (("fresh", fresh), ("old", old), ("fresh", fresh), ("old", old)):
            before = count_runs(url)
            r = wrk(hub.port, [f"/ping/{u}"], args.seconds, args.connections, tmp)
            time.sleep(1)
            label = "no past runs" if name == "fresh" else "100,000 past runs"
            print(_line(f"one check, {label}", r))
            print(_verify(url, before, r, args.connections))
            rates.setdefault(name, []).append(r["rate"])
        ratio = sum(rates["old"]) / sum(rates["fresh"])
        print(f"  ratio 100,000 past runs / none: {ratio:.2f}")


def scenario_burst(args: argparse.Namespace, url: str, tmp: Path) -> None:
    print(f"burst: 10,000 checks (grace {args.grace:.0f} s) pinging at the top of a minute")
    _burst_at_top(args, url, tmp / "burst", missed=False)


def scenario_outage(args: argparse.Namespace, url: str, tmp: Path) -> None:
    """The burst as the monitor notes that each check missed the occurrence before (the
    hub was down for it), against the plain burst in the same run."""
    print("outage: the burst, without and with the checks' last occurrence missed")
    times = []
    for missed in (False, True):  # each on a database of its own
        data = tmp / f"outage-{missed}"
        if args.db:
            with scratch_pg_database(args.db) as own:
                args.db_url = own
                times.append(_burst_at_top(args, own, data, missed=missed))
            args.db_url = url
        else:
            own = f"sqlite:///{data / 'thereyet.db'}"
            times.append(_burst_at_top(args, own, data, missed=missed))
    print(f"  ratio, time to answer all, missed / plain: {times[1] / times[0]:.2f}")


def _burst_at_top(args: argparse.Namespace, url: str, data: Path, *, missed: bool) -> float:
    """10,000 checks on "* * * * *" pinged at once at the top of a minute; with `missed`,
    made a minute earlier, so that the monitor notes then that each missed the occurrence
    before. Print and return the time until the last ping was answered."""
    with running_hub(data, args.db_url):
        pass
    # The checks wait for the first top of a minute after they are made: seeding and
    # starting the hub must be done before it, or the pings would come a minute after
    # the occurrence they wait for and find it missed. So seed early in a minute.
    now = datetime.now(UTC)
    if now.second > 20:
        time.sleep(60.5 - now.second - now.microsecond / 1e6)
        now = datetime.now(UTC)
    made = now - timedelta(minutes=1) if missed else now
    uuids = seed_checks(
        url, 10_000, prefix="cron", schedule="* * * * *", grace=args.grace, now=made
    )
    top = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)  # the pings' time
    with running_hub(data, args.db_url) as hub:
        if datetime.now(UTC) >= top:
            raise SystemExit("burst: seeding and starting the hub took past the minute's top")
        before, notices_before = count_runs(url), late_or_missed(url)
        wait = (top - datetime.now(UTC)).total_seconds()
        time.sleep(max(0.0, wait))
        result = burst(hub.port, [f"/ping/{u}" for u in uuids], connections=args.connections)
        label = "the last occurrence missed" if missed else "plain"
        print(
            f"  {label}: all answered (an answer means recorded) {result['last_answer_s']:.2f} s"
            f" after the first was sent; {result['non200']} not 200"
        )
        time.sleep(args.grace + 15)  # past the grace and a monitor tick or two
        notices = late_or_missed(url)
        noted = {k: notices[k] - notices_before[k] for k in notices}
        recorded = count_runs(url) - before
        print(f"  {recorded} runs recorded; late or missed notices: {noted}")
        if missed:
            print(
                f"  the last missed notice written {last_notice(url) - top.timestamp():.2f} s after the top"
            )
    return float(result["last_answer_s"])


def _warm(hub: Hub, paths: list[str], tmp: Path, args: argparse.Namespace) -> None:
    """A short run first, so that both endpoints are measured warm."""
    wrk(hub.port, paths[:1000], 1, args.connections, tmp)
    wrk(hub.port, ["/api/v1/health"], 1, args.connections, tmp)


def analyze(url: str) -> None:
    """Gather the planner's statistics, as PostgreSQL's autovacuum does within a minute or
    so of a table's growth (and SQLite's ANALYZE, which the hub never runs by itself)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario",
        default="all",
        choices=["checks", "slugs", "history", "burst", "outage", "all"],
    )
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--checks", default="200,100000")
    parser.add_argument("--grace", type=float, default=60, help="the burst's checks' grace")
    parser.add_argument("--db", help="a PostgreSQL URL; a scratch database is made on its server")
    parser.add_argument("--src", help="run the hub from this source tree (PYTHONPATH)")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="checks: ANALYZE the database after the warm-up (as autovacuum would, later)",
    )
    args = parser.parse_args()
    os.environ.update(
        THEREYET_PING_RATE_PER_MINUTE="10000000",
        THEREYET_PING_BURST="1000000",
        THEREYET_KEEP_RUNS="0",
    )
    if args.src:
        os.environ["PYTHONPATH"] = str(Path(args.src).resolve())
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.db:
            with scratch_pg_database(args.db) as url:
                _run(Path(tmp), url, url, args)
        else:
            _run(Path(tmp), None, None, args)
    print(f"load average at end: {os.getloadavg()}")
    return 0


def _run(tmp: Path, db_url: str | None, url: str | None, args: argparse.Namespace) -> None:
    args.db_url = db_url
    backend = "PostgreSQL" if db_url else "SQLite (synchronous=FULL)"
    print(
        f"hub on {backend}; wrk, 2 threads, {args.connections} connections, {args.seconds} s each"
    )
    print(f"hub source: {args.src or 'this checkout'}")

    def db(name: str) -> str:
        return url or f"sqlite:///{tmp / name / 'thereyet.db'}"

    if args.scenario in ("checks", "all"):
        for n in (int(x) for x in args.checks.split(",")):
            scenario_checks(args, db(f"checks-{n}"), tmp, n)
    if args.scenario in ("slugs", "all"):
        scenario_slugs(args, db("slugs"), tmp)
    if args.scenario in ("history", "all"):
        scenario_history(args, db("history"), tmp)
    if args.scenario in ("burst", "all"):
        scenario_burst(args, db("burst"), tmp)
    if args.scenario == "outage":
        scenario_outage(args, db("outage"), tmp)


if __name__ == "__main__":
    sys.exit(main())
