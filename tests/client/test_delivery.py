"""Nothing reported is lost: hub restarts, spooling at exit, delivery by the next process."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from tests.client.conftest import LiveHub, _api, client_env
from tests.conftest import ADMIN_TOKEN
from tests.servers import wait_for
from thereyet.client.config import Config
from thereyet.client.runs import Run
from thereyet.client.sender import Backoff, Sender

JOB_SCRIPT = """
import thereyet
with thereyet.run("spooled", room="night", total=300) as run:
    for i in thereyet.track(range(300)):
        if i % 100 == 0:
            run.log(f"at {i}")
    run.note("all rows done")
"""


@pytest.mark.slow
def test_the_hub_killed_mid_run_and_restarted_gets_every_event_once(hub_process, tmp_path):
    config = Config(
        url=hub_process.url,
        token=ADMIN_TOKEN,
        spool_dir=tmp_path / "spool",
        progress_interval=0.05,
        send_interval=0.02,
        timeout=2.0,
    )
    sender = Sender(config, backoff=Backoff(base=0.05, cap=0.2))
    sender.start()
    run = Run("survivor", total=600, sender=sender)

    def write(lines: range) -> None:
        for i in lines:
            run.log(f"line {i}")
            run.advance()

    def hub_has_progress() -> bool:
        with _api(hub_process.url) as api:
            answer = api.get(f"/api/v1/runs/{run.id}")
            return answer.status_code == 200 and (answer.json()["progress"]["done"] or 0) > 0

    write(range(0, 200))
    wait_for(hub_has_progress, what="the first reports to arrive")
    hub_process.kill()  # mid-run: reports keep coming while the hub is gone
    write(range(200, 400))
    wait_for(lambda: sender.failures > 0, what="the sender to meet the outage")
    hub_process.start()
    write(range(400, 600))
    run.finish()
    assert sender.close(30)

    with _api(hub_process.url) as api:
        view = api.get(f"/api/v1/runs/{run.id}").json()
        events, after = [], 0
        while page := api.get(f"/api/v1/runs/{run.id}/events?after={after}&limit=1000").json()[
            "events"
        ]:
            events += page
            after = page[-1]["seq"]
    logs = [e["text"] for e in events if e["type"] == "log"]
    assert sorted(logs, key=lambda t: int(t.split()[1])) == [f"line {i}" for i in range(600)]
    assert len({e["id"] for e in events}) == len(events)
    assert view["status"] == "succeeded"
    assert (view["progress"]["done"], view["progress"]["total"]) == (600, 600)


def _job_while_the_hub_is_down(thread_hub, tmp_path) -> dict[str, str]:
    env = client_env(thread_hub.url, ADMIN_TOKEN, tmp_path)
    thread_hub.stop()
    first = subprocess.run(
        [sys.executable, "-c", JOB_SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )
    assert first.returncode == 0, first.stderr
    assert "spooled" in first.stderr
    assert len(list((tmp_path / "spool").glob("*.json"))) == 1
    thread_hub.start()
    return env


@pytest.mark.slow
def test_reports_spooled_at_exit_are_delivered_by_thereyet_flush(thread_hub, tmp_path):
    env = _job_while_the_hub_is_down(thread_hub, tmp_path)
    second = subprocess.run(
        [sys.executable, "-m", "thereyet.cli.main", "flush"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 0, second.stderr
    assert list((tmp_path / "spool").iterdir()) == []
    with _api(thread_hub.url) as api:
        _assert_spooled_run_arrived(LiveHub(thread_hub.url, ADMIN_TOKEN, api))


@pytest.mark.slow
def test_reports_spooled_at_exit_are_delivered_by_the_next_job(thread_hub, tmp_path):
    env = _job_while_the_hub_is_down(thread_hub, tmp_path)
    nxt = "import thereyet\nfor _ in thereyet.track(range(3), job='next-job'): pass\n"
    second = subprocess.run(
        [sys.executable, "-c", nxt], env=env, capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 0, second.stderr
    assert list((tmp_path / "spool").iterdir()) == []
    with _api(thread_hub.url) as api:
        live_hub = LiveHub(thread_hub.url, ADMIN_TOKEN, api)
        _assert_spooled_run_arrived(live_hub)
        assert live_hub.runs(job="next-job")[0]["status"] == "succeeded"


def _assert_spooled_run_arrived(live_hub) -> None:
    runs = live_hub.runs(job="spooled")
    assert len(runs) == 1
    view = live_hub.run(runs[0]["id"])
    assert view["status"] == "succeeded"
    assert (view["progress"]["done"], view["progress"]["total"]) == (300, 300)
    assert view["log_tail"] == ["at 0", "at 100", "at 200"]
    assert "all rows done" in [m["text"] for m in live_hub.messages("night")]


def test_a_spool_for_another_hub_is_left_alone(live_hub, sdk_config, tmp_path):
    other = dataclasses.replace(sdk_config, url="http://127.0.0.1:9")
    sender = Sender(other)
    Run("elsewhere", sender=sender).finish()
    assert sender.spool_rest() == 1
    assert Sender(sdk_config).load_spool() == 0
    assert len(list(sdk_config.spool_dir.glob("*.json"))) == 1
