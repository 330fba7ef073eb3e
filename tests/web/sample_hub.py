"""A hub with something on every page: the page checks and the screenshot gallery use it.

`fill(api)` reports, through the hub's own JSON API (an admin's `httpx.Client`), what a
team's morning looks like: a migration running, a percent-only reindex, a routine that
ran many times, a failed run that opened an incident, a room with code, quotes, lists
and run cards, a scheduled job and a share link. It returns the ids and paths a page
check needs.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

import httpx

NOTES = """Plan for tonight:

- export the **customers** table
- switch reads to the new cluster
- keep the old one for a week

> If the export stalls, page the DBA rotation.

```sql
SELECT count(*) FROM customers WHERE migrated_at IS NULL;
```
"""


@dataclass
class Sample:
    running: str  # a run in progress, with stats, logs and notes
    percent_only: str  # a run that reports only a percent
    failed: str  # a failed run that opened an incident
    share_path: str  # /share/<token> of the room "migration"
    paths: list[str]  # every page a signed-in admin can open


def _png() -> bytes:
    """A small real PNG (a blue bar), so image attachments show inline."""
    width, height = 48, 16
    rows = b"".join(b"\x00" + b"\x2f\x6f\xde" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


def _run(api: httpx.Client, **body: Any) -> str:
    return str(_ok(api.post("/api/v1/runs", json=body))["id"])


def _events(api: httpx.Client, run_id: str, *events: dict[str, Any]) -> None:
    numbered = [{"id": f"e{i}-{run_id[:6]}", **e} for i, e in enumerate(events)]
    _ok(api.post(f"/api/v1/runs/{run_id}/events", json={"events": numbered}))


def _finish(api: httpx.Client, run_id: str, status: str, **more: Any) -> None:
    _ok(api.post(f"/api/v1/runs/{run_id}/finish", json={"status": status, **more}))


def _routine(api: httpx.Client, times: int) -> None:
    for _ in range(times):
        run_id = _run(api, job="league-matches", room="ops", trigger="schedule", total=64)
        _events(api, run_id, {"type": "progress", "done": 64})
        _finish(api, run_id, "succeeded", exit_code=0)


def _paging(api: httpx.Client) -> None:
    """billing-sync failing opens an incident in the service "billing"."""
    _ok(api.put("/api/v1/oncall/services/billing", json={"room": "ops"}))
    _ok(
        api.put(
            "/api/v1/oncall/jobs/billing-sync", json={"service": "billing", "events": ["failed"]}
        )
    )


def fill(api: httpx.Client) -> Sample:
    """Report a busy morning to the hub behind `api` (an admin client)."""
    _ok(api.post("/api/v1/rooms", json={"name": "ops", "topic": "Nightly routines and on-call"}))
    _ok(api.post("/api/v1/rooms", json={"name": "migration", "topic": "Moving customers to pg16"}))
    _ok(api.post("/api/v1/rooms/migration/messages", json={"text": NOTES}))
    _ok(
        api.put(
            "/api/v1/jobs/league-matches/schedule",
            json={"schedule": "0 10 * * *", "timezone": "Europe/Paris", "room": "ops"},
        )
    )
    _routine(api, 5)
    _paging(api)
    running = _run(
        api, job="customer-export", room="migration", host="db-7", total=2_400_000, unit="rows"
    )
    _events(
        api,
        running,
        {"type": "progress", "done": 1_008_000},
        {"type": "stat", "name": "rows_per_s", "value": 4120.5},
        {"type": "stat", "name": "batches", "value": 252},
        {"type": "note", "text": "switching to batch size 4000"},
        {"type": "log", "text": "batch 251 committed (4000 rows)"},
        {"type": "log", "text": "batch 252 committed (4000 rows)"},
    )
    percent = _run(api, job="reindex-search", room="ops", host="search-2", total=100, unit="%")
    _events(api, percent, {"type": "progress", "done": 11})
    failed = _run(api, job="billing-sync", room="ops", host="app-3", total=12_000, unit="invoices")
    _events(api, failed, {"type": "progress", "done": 7200})
    _finish(api, failed, "failed", exit_code=3, error="upstream API answered 503 three times")
    _ok(
        api.post(
            "/api/v1/rooms/migration/attachments?name=progress.png&text=Where+we+are",
            content=_png(),
            headers={"Content-Type": "image/png"},
        )
    )
    share = _ok(api.post("/api/v1/shares", json={"kind": "room", "target": "migration"}))
    paths = [
        "/",
        f"/runs/{running}",
        f"/runs/{percent}",
        f"/runs/{failed}",
        "/jobs/league-matches",
        "/rooms",
        "/rooms/migration",
        "/rooms/ops",
        "/search?q=customers",
        "/shares",
        "/incidents",
        "/channels",
    ]
    return Sample(running, percent, failed, f"/share/{share['token']}", paths)
