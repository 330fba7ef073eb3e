"""`thereyet status` says the ETA as a range, in the words the hub and chat use."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.client.conftest import client_env
from tests.client.test_cli import thereyet_cli
from thereyet.client.display import eta_text, run_line


def test_a_run_line_says_the_eta_as_a_range():
    view = {
        "job": "export",
        "status": "running",
        "progress": {"done": 500, "total": 1000, "unit": "rows", "percent": 50.0},
        "rate": 1.0,
        "eta": {"seconds": 480.0, "low": 420.0, "high": 540.0, "reason": None, "text": "x"},
    }
    assert "ETA about 7-9 min left" in run_line(view)


def test_a_stall_reason_and_an_unknown_eta_read_as_the_hub_says_them():
    stalled = {"seconds": 50.0, "low": 40.0, "high": 60.0, "reason": "no progress for 5 min"}
    assert eta_text(stalled) == "about 40-60s left (no progress for 5 min)"
    unknown = {"seconds": None, "low": None, "high": None, "text": "not enough data yet"}
    assert eta_text(unknown) == "not enough data yet"
    assert eta_text({"text": "succeeded", "seconds": 0}) == "succeeded"


def test_thereyet_status_shows_the_range_of_a_running_run(live_hub, tmp_path):
    now = datetime.now(UTC)
    start = now - timedelta(seconds=200)
    run = live_hub.api.post(
        "/api/v1/runs", json={"job": "export", "total": 1000, "started_at": start.isoformat()}
    ).json()
    events = [
        {
            "id": f"p{i}",
            "type": "progress",
            "done": 25.0 * i,
            "ts": (start + timedelta(seconds=10 * i)).isoformat(),
        }
        for i in range(1, 21)
    ]  # 500 of 1000 in 200 s: about 200 s left
    answer = live_hub.api.post(f"/api/v1/runs/{run['id']}/events", json={"events": events})
    assert answer.status_code == 200, answer.text
    status = thereyet_cli(client_env(live_hub.url, live_hub.token, tmp_path), "status", "export")
    assert status.returncode == 0, status.stderr
    said = re.search(r"ETA about (\d+)-(\d+) min left", status.stdout)
    assert said, status.stdout
    assert int(said[1]) <= 3 <= int(said[2])
    hub_text = live_hub.run(run["id"])["eta"]["text"]
    assert hub_text.startswith("about ") and hub_text.endswith(" min left")
