"""Seeding and checking for bench/ping.py: checks and past runs written straight into
the hub's database, the runs recorded, the notices fired, and a burst of pings."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, func, insert, select

from thereyet.server.domain import monitoring as rules
from thereyet.server.domain.monitoring import Limits, ScheduleState
from thereyet.server.domain.schedules import parse_schedule
from thereyet.server.store.tables import job_events, jobs, runs

HOST = "127.0.0.1"


def seed_checks(
    url: str,
    count: int,
    *,
    prefix: str,
    schedule: str | None = None,
    grace: float | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Make `count` jobs with ping URLs (and a schedule, if given); their ping uuids."""
    now = now or datetime.now(UTC)
    watch: dict[str, Any] = {}
    if schedule is not None:
        parsed = parse_schedule(schedule, None)
        due = parsed.next_after(now)
        alert = rules.alert_at(parsed, Limits(grace=grace), due, ScheduleState.OK)
        watch = {"schedule": schedule, "grace": grace, "due_at": due, "alert_at": alert}
        watch["schedule_state"] = ScheduleState.OK.value
    uuids = [str(uuid.uuid4()) for _ in range(count)]
    rows = [
        {
            "name": f"{prefix}-{n:06d}",
            "title": f"{prefix} {n}",
            "description": "",
            "created_at": now,
            "ping_uuid": u,
            **watch,
        }
        for n, u in enumerate(uuids)
    ]
    engine = create_engine(url)
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(jobs), rows[start : start + 5000])
    engine.dispose()
    return uuids


def seed_history(url: str, ping_uuid: str, count: int) -> None:
    """Give the check `count` finished runs, one a minute, ending a minute ago."""
    engine = create_engine(url)
    end = datetime.now(UTC) - timedelta(minutes=1)
    with engine.begin() as conn:
        job_id = conn.execute(select(jobs.c.id).where(jobs.c.ping_uuid == ping_uuid)).scalar()
        rows: list[dict[str, Any]] = []
        for n in range(count):
            at = end - timedelta(minutes=count - n)
            rows.append(
                {
                    "id": uuid.uuid4().hex,
                    "job_id": job_id,
                    "status": "succeeded",
                    "created_at": at,
                    "updated_at": at,
                    "trigger": "ping",
                    "started_at": at,
                    "finished_at": at + timedelta(seconds=1),
                    "stats": {},
                    "log_tail": [],
                }
            )
            if len(rows) == 10_000:
                conn.execute(insert(runs), rows)
                rows = []
        if rows:
            conn.execute(insert(runs), rows)
    engine.dispose()


def count_runs(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = int(conn.execute(select(func.count()).select_from(runs)).scalar() or 0)
    engine.dispose()
    return found


def late_or_missed(url: str) -> dict[str, int]:
    """How many late and missed notices the monitor wrote (job events)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        query = (
            select(job_events.c.kind, func.count())
            .where(job_events.c.kind.in_(["late", "missed"]))
            .group_by(job_events.c.kind)
        )
        found = {kind: int(n) for kind, n in conn.execute(query)}
    engine.dispose()
    return {"late": found.get("late", 0), "missed": found.get("missed", 0)}


def last_notice(url: str) -> float:
    """When the last missed notice was written (Unix time)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        query = select(func.max(job_events.c.ts)).where(job_events.c.kind == "missed")
        last = conn.execute(query).scalar_one()
    engine.dispose()
    return float(last.replace(tzinfo=last.tzinfo or UTC).timestamp())


def burst(port: int, paths: list[str], *, connections: int) -> dict[str, Any]:
    """Send each path once over `connections` keep-alive connections, as fast as they go."""
    return asyncio.run(_burst(port, paths, connections))


async def _burst(port: int, paths: list[str], connections: int) -> dict[str, Any]:
    began = time.monotonic()
    pending = list(reversed(paths))
    last = 0.0
    non200 = 0

    async def connection() -> None:
        nonlocal last, non200
        reader, writer = await asyncio.open_connection(HOST, port)
        while pending:
            path = pending.pop()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            non200 += status_line.split()[1] != b"200"
            last = time.monotonic() - began
        writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return {"last_answer_s": last, "non200": non200}
