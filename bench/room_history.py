"""A room with 100,000 messages: how fast its page opens, and scrolling back by pages.

    python bench/room_history.py [--messages 100000] [--repeats 30] [--db URL]

Starts a real hub (`thereyet server`, SQLite in a temp dir, or --db PostgreSQL),
makes two rooms and a web user, stops it, writes the messages straight into the
database (through the same SQLAlchemy tables, so seeding takes seconds; a tenth
are run cards), and starts it again. Then, signed in as a person with a session
cookie, on loopback:

- opens `/rooms/big` (--messages messages) and `/rooms/small` (100 messages, the
  baseline) in turn, --repeats times each: median and p90, and the ratio;
- scrolls back from the newest page of `/rooms/big` the way the page's script
  does (`/rooms/big/older?before=<id>`, following `X-Older`), 20 pages, and asks
  for the oldest page directly: median and worst time per page.

Times are taken by the client around each request on loopback: the server's time
plus a loopback round trip. It exits 1 if opening the big room takes 300 ms or
more at the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _hub import ADMIN_TOKEN, HOST, Hub, running_hub, scratch_pg_database

from thereyet.server.store.tables import messages, rooms

PASSWORD = "bench password, long enough"
LIMIT_MS = 300.0


def seed(url: str, room: str, count: int) -> None:
    """`count` messages in `room`, one a second, ending now: a tenth are run cards."""
    engine = create_engine(url)
    start = datetime.now(UTC) - timedelta(seconds=count)
    with engine.begin() as conn:
        room_id = conn.execute(select(rooms.c.id).where(rooms.c.name == room)).scalar_one()
        rows = []
        for n in range(count):
            card = n % 10 == 0
            rows.append(
                {
                    "room_id": room_id,
                    "created_at": start + timedelta(seconds=n),
                    "author": "thereyet" if card else f"person-{n % 7}",
                    "kind": "run" if card else "text",
                    "body": f"**nightly-{n % 3}** succeeded" if card else f"message {n}: all good",
                    "data": {"run_id": f"r{n}", "job": f"nightly-{n % 3}", "status": "succeeded"}
                    if card
                    else {},
                }
            )
            if len(rows) == 10_000:
                conn.execute(insert(messages), rows)
                rows = []
        if rows:
            conn.execute(insert(messages), rows)
    engine.dispose()


def sign_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    form = client.get("/login")
    csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf": csrf})
    assert answer.status_code in (200, 303), answer.text[:300]
    return client


def timed(client: httpx.Client, path: str) -> tuple[float, httpx.Response]:
    began = time.perf_counter()
    response = client.get(path, headers={"Accept": "text/html"})
    elapsed = (time.perf_counter() - began) * 1000
    assert response.status_code == 200, f"{path}: {response.status_code}"
    return elapsed, response


def p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


def opening(client: httpx.Client, repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"small": [], "big": []}
    for _ in range(3):  # warm both up: the first request pays for imports and caches
        timed(client, "/rooms/small")
        timed(client, "/rooms/big")
    for _ in range(repeats):
        for room in ("small", "big"):
            times[room].append(timed(client, f"/rooms/{room}")[0])
    return times


def scrolling(client: httpx.Client, first_before: str, pages: int) -> list[float]:
    times, before = [], first_before
    for _ in range(pages):
        elapsed, response = timed(client, f"/rooms/big/older?before={before}")
        times.append(elapsed)
        before = response.headers["X-Older"]
        assert before, "the room ended early"
    return times


def measure(hub: Hub, db_url: str, args: argparse.Namespace) -> bool:
    base = f"http://{HOST}:{hub.port}"
    client = sign_in(base)
    try:
        times = opening(client, args.repeats)
        page = client.get("/rooms/big").text
        first_before = page.split('data-older="/rooms/big/older?before=', 1)[1].split('"', 1)[0]
        scroll = scrolling(client, first_before, 20)
        oldest, _ = timed(client, "/rooms/big/older?before=150")
    finally:
        client.close()
    small, big = statistics.median(times["small"]), statistics.median(times["big"])
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"database: {db_url.split('@')[-1]}; load average {load}")
    print(
        f"open /rooms/small (100 messages, baseline): median {small:.1f} ms, p90 {p90(times['small']):.1f} ms"
    )
    print(
        f"open /rooms/big ({args.messages:,} messages):  median {big:.1f} ms, p90 {p90(times['big']):.1f} ms"
    )
    print(f"ratio big/small: {big / small:.2f}")
    print(
        f"scroll back 20 pages of 100: median {statistics.median(scroll):.1f} ms, "
        f"worst {max(scroll):.1f} ms; the oldest page: {oldest:.1f} ms"
    )
    ok = big < LIMIT_MS
    print(f"{'OK' if ok else 'FAIL'}: the big room opens in {big:.1f} ms (limit {LIMIT_MS:.0f} ms)")
    return ok


def prepare(hub: Hub) -> None:
    for name in ("big", "small"):
        hub.call("POST", "/api/v1/rooms", {"name": name})
    hub.call("POST", "/api/v1/users", {"username": "bench", "password": PASSWORD, "role": "viewer"})


def run(data_dir: Path, db: str | None, args: argparse.Namespace) -> bool:
    url = db or f"sqlite:///{data_dir / 'thereyet.db'}"
    with running_hub(data_dir, db) as hub:
        prepare(hub)
    began = time.monotonic()
    seed(url, "big", args.messages)
    seed(url, "small", 100)
    print(f"seeded {args.messages:,} messages in {time.monotonic() - began:.1f} s")
    with running_hub(data_dir, db) as hub:
        return measure(hub, url, args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--db", help="a PostgreSQL URL (a scratch database is made on it)")
    args = parser.parse_args()
    assert ADMIN_TOKEN
    with tempfile.TemporaryDirectory() as tmp:
        if args.db:
            with scratch_pg_database(args.db) as db:
                ok = run(Path(tmp), db, args)
        else:
            ok = run(Path(tmp), None, args)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
