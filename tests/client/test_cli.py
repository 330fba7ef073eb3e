"""The client commands, run as real processes against a real hub."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.client.conftest import client_env
from tests.conftest import ADMIN_TOKEN
from thereyet.client.display import run_line

FAILING = """
import sys, time
for i in range(30):
    print(f"row {i}", flush=True)
print("420/1000", flush=True)
time.sleep(0.3)  # stdout and stderr are separate pipes: order them for the tail
print("giving up: disk full", file=sys.stderr, flush=True)
sys.exit(3)
"""


def thereyet_cli(env, *args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "thereyet.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_thereyet_run_on_a_failing_script_reports_its_exit_code_and_output_tail(live_hub, tmp_path):
    env = client_env(live_hub.url, live_hub.token, tmp_path)
    done = thereyet_cli(env, "run", "--job", "nightly", "--", sys.executable, "-c", FAILING)

    assert done.returncode == 3
    assert "row 29" in done.stdout  # the output still reaches the terminal
    assert "giving up: disk full" in done.stderr
    view = live_hub.run(live_hub.runs(job="nightly")[0]["id"])
    assert view["status"] == "failed"
    assert view["exit_code"] == 3
    assert view["trigger"] == "cli"
    assert view["error"].startswith("exit code 3")
    assert "giving up: disk full" in view["error"]
    assert view["log_tail"][-1] == "giving up: disk full"
    assert "row 29" in view["log_tail"]
    assert (view["progress"]["done"], view["progress"]["total"]) == (420, 1000)


@pytest.mark.slow
def test_thereyet_say_posts_a_message_and_status_lists_running_runs(live_hub, tmp_path):
    env = client_env(live_hub.url, live_hub.token, tmp_path)
    said = thereyet_cli(env, "say", "deploys", "web is live")
    assert said.returncode == 0, said.stderr
    assert [m["text"] for m in live_hub.messages("deploys")] == ["web is live"]

    live_hub.api.post("/api/v1/runs", json={"job": "backup", "total": 10})
    status = thereyet_cli(env, "status")
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("backup")
    as_json = json.loads(thereyet_cli(env, "status", "backup", "--json").stdout)
    assert [r["job"] for r in as_json] == ["backup"]
    assert thereyet_cli(env, "status", "nothing-such").stdout.strip() == (
        "no run of nothing-such is running"
    )


@pytest.mark.slow
def test_thereyet_watch_follows_a_run_until_it_ends(live_hub, tmp_path):
    env = client_env(live_hub.url, live_hub.token, tmp_path)
    run_id = live_hub.api.post("/api/v1/runs", json={"job": "watched", "total": 2}).json()["id"]
    events = [
        {"id": "l1", "type": "log", "text": "first step"},
        {"id": "p1", "type": "progress", "done": 2},
    ]
    live_hub.api.post(f"/api/v1/runs/{run_id}/events", json={"events": events})
    live_hub.api.post(f"/api/v1/runs/{run_id}/finish", json={"status": "succeeded"})

    watched = thereyet_cli(env, "watch", run_id, "--interval", "0.1")
    assert watched.returncode == 0, watched.stderr
    assert "first step" in watched.stdout
    assert watched.stdout.strip().endswith("run succeeded")


def test_thereyet_say_attaches_a_file(live_hub, tmp_path):
    env = client_env(live_hub.url, live_hub.token, tmp_path)
    shot = tmp_path / "graph.png"
    shot.write_bytes(b"\x89PNG")
    said = thereyet_cli(env, "say", "deploys", "latency after deploy", "--attach", str(shot))
    assert said.returncode == 0, said.stderr
    assert live_hub.messages("deploys")[-1]["data"]["attachment"]["name"] == "graph.png"


def test_not_configured_client_commands_say_so(tmp_path):
    env = client_env("", "", tmp_path)
    done = thereyet_cli(env, "status")
    assert done.returncode == 2
    assert "not configured" in done.stderr


def test_a_run_line_shows_bar_percent_counts_rate_eta_and_host():
    view = {
        "job": "export",
        "status": "running",
        "host": "db-1",
        "progress": {"done": 500, "total": 1000, "unit": "rows", "percent": 50.0},
        "rate": 12.5,
        "eta": {"text": "40s"},
    }
    line = run_line(view)
    assert "[##########..........]" in line
    assert " 50.0%" in line
    assert "500/1,000 rows" in line
    assert "12.5/s" in line
    assert "ETA 40s" in line
    assert "db-1" in line


@pytest.mark.slow
def test_say_to_an_unreachable_hub_spools_and_flush_delivers_it_later(thread_hub, tmp_path):
    env = client_env(thread_hub.url, ADMIN_TOKEN, tmp_path)
    thread_hub.stop()
    said = thereyet_cli(env, "say", "deploys", "said while the hub was away")
    assert said.returncode == 0, said.stderr
    assert list((tmp_path / "spool").rglob("*.json")), "nothing was spooled"

    thread_hub.start()
    flushed = thereyet_cli(env, "flush", "--timeout", "20")
    assert flushed.returncode == 0, flushed.stderr
    with httpx.Client(base_url=thread_hub.url, headers=as_token_header()) as api:
        texts = [m["text"] for m in api.get("/api/v1/rooms/deploys/messages").json()["messages"]]
    assert texts == ["said while the hub was away"]
    assert not list((tmp_path / "spool").rglob("*.json"))


def as_token_header() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
