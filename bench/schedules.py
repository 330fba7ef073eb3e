"""100,000 schedules: how late routines start, and what the scheduler costs.

Builds a hub database holding --schedules jobs, each with a daily cron line (UTC)
and an HTTP callback target on a local sink; --per-minute of them fall due in
each of the next --minutes whole minutes, the rest are spread over the rest of
the day. Starts a real hub (`thereyet server`) on it and records, for every
callback the sink receives, its delay after the due time (start jitter: the hub
claims the occurrence, creates the run, and calls the service). Measures the
hub process's CPU seconds per minute of wall time over the window, and in the
same run an idle hub's (an empty database, same flags) over --idle-seconds.

    python bench/schedules.py [--schedules 100000] [--per-minute 100] [--minutes 2]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hub import Recorder, running_hub
from ingest import _cpu_seconds


def build_database(url: str, count: int, per_minute: int, minutes: int, sink_port: int) -> datetime:
    """Write `count` scheduled jobs straight into a fresh hub database; return the first due."""
    from sqlalchemy import insert

    from thereyet.server.store.engine import make_engines
    from thereyet.server.store.migrate import upgrade
    from thereyet.server.store.tables import jobs

    engines = make_engines(url)
    upgrade(engines.write)
    now = datetime.now(UTC)
    first = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)
    window = [first + timedelta(minutes=m) for m in range(minutes)]
    # Keep every other schedule well away from the measured window (and from the
    # time it takes to build this database), so only the window's jobs fall due.
    quiet_from, quiet_to = now - timedelta(minutes=10), window[-1] + timedelta(minutes=10)

    def clear(hour: int, minute: int) -> bool:
        for day in (now.date(), now.date() + timedelta(days=1)):
            at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
            if quiet_from <= at <= quiet_to:
                return False
        return True

    others = [(h, m) for h in range(24) for m in range(60) if clear(h, m)]
    rng = random.Random(5)
    times = [(at.hour, at.minute) for at in window for _ in range(per_minute)]
    times += [rng.choice(others) for _ in range(count - len(times))]
    target = {"kind": "http", "url": f"http://127.0.0.1:{sink_port}/start", "headers": {}}
    rows = []
    for n, (hour, minute) in enumerate(times):
        due = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if due <= now:
            due += timedelta(days=1)
        rows.append(
            {
                "name": f"routine-{n:06d}",
                "title": f"Routine {n}",
                "description": "",
                "created_at": now,
                "schedule": f"{minute} {hour} * * *",
                "target": target,
                "ping_uuid": str(uuid.uuid4()),
                "due_at": due,
                "schedule_state": "ok",
            }
        )
    with engines.write.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(jobs), rows[start : start + 5000])
    engines.dispose()
    return first


def cpu_per_minute(pid: int, seconds: float) -> float:
    before = _cpu_seconds(pid) or 0.0
    time.sleep(seconds)
    return ((_cpu_seconds(pid) or 0.0) - before) * 60 / seconds


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schedules", type=int, default=100_000)
    parser.add_argument("--per-minute", type=int, default=100)
    parser.add_argument("--minutes", type=int, default=2)
    parser.add_argument("--idle-seconds", type=float, default=60)
    args = parser.parse_args()
    sink = Recorder(status=204)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            with running_hub(data / "idle") as idle:
                time.sleep(2)
                idle_cpu = cpu_per_minute(idle.process.pid, args.idle_seconds)
            url = f"sqlite:///{data / 'busy' / 'thereyet.db'}"
            (data / "busy").mkdir()
            began = time.time()
            first = build_database(url, args.schedules, args.per_minute, args.minutes, sink.port)
            print(f"wrote {args.schedules} schedules in {time.time() - began:.1f} s", flush=True)
            with running_hub(data / "busy", url) as hub:
                time.sleep(max(0.0, first.timestamp() - time.time() - 1))
                window = args.minutes * 60.0
                busy_cpu = cpu_per_minute(hub.process.pid, window + 3)
                time.sleep(2)
    finally:
        sink.close()
    delays = sorted(
        arrival.wall
        - datetime.fromisoformat(arrival.body["due_at"].replace("Z", "+00:00")).timestamp()
        for arrival in sink.arrivals
    )
    expected = args.per_minute * args.minutes
    print(
        f"hub on SQLite (synchronous=FULL); {args.schedules} daily schedules, {args.per_minute} due in each of {args.minutes} minutes"
    )
    print(f"  started {len(delays)} of {expected} due occurrences")
    if delays:

        def pct(p: float) -> float:
            return delays[min(len(delays) - 1, int(len(delays) * p))]

        print(
            f"  start jitter (callback received - due): p50 {pct(0.5):.3f} s  p99 {pct(0.99):.3f} s  max {delays[-1]:.3f} s"
        )
    print(
        f"  hub CPU per minute of wall time: busy {busy_cpu:.2f} s, idle hub {idle_cpu:.2f} s, ratio {busy_cpu / max(idle_cpu, 1e-9):.1f}"
    )
    return 0 if len(delays) == expected else 1


if __name__ == "__main__":
    sys.exit(main())
