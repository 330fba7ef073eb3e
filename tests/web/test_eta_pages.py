"""The ETA's range on the dashboard and the run page, and the job's ETA accuracy, in
Chromium. The hub keeps real time, so the runs report with times in the past."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

RANGE = re.compile(r"^about \d+-\d+ min left$")


def replay(api, job: str, seconds: float, upto: float, *, finish: bool) -> str:
    """A run of 1,000 units that started `seconds` ago at a steady pace, reported
    every 10 s up to `upto` of its total; finished (succeeded) now if `finish`."""
    start = datetime.now(UTC) - timedelta(seconds=seconds)
    run = api.post(
        "/api/v1/runs", json={"job": job, "total": 1000, "started_at": start.isoformat()}
    ).json()
    steps = int(seconds // 10)
    events = [
        {
            "id": f"p{i}",
            "type": "progress",
            # Reports come a little early or late, as they do: every other one is ahead.
            "done": round(upto * 1000 * (i + 0.5 * (i % 2) * (i < steps)) / steps, 3),
            "ts": (start + timedelta(seconds=10 * i)).isoformat(),
        }
        for i in range(1, steps + 1)
    ]
    assert api.post(f"/api/v1/runs/{run['id']}/events", json={"events": events}).status_code == 200
    if finish:
        api.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "succeeded"})
    return str(run["id"])


def test_the_dashboard_and_run_page_show_the_eta_range_and_follow_progress(signed_in_page, web_hub):
    page = signed_in_page
    run_id = replay(web_hub.api, "export", 300, 0.5, finish=False)  # 5 min for half: ~5 left
    page.goto("/")
    eta = page.locator(f"#run-{run_id} [data-f=eta]")
    expect(eta).to_have_text(RANGE)
    page.goto(f"/runs/{run_id}")
    expect(page.locator(f"#run-{run_id} [data-f=eta]")).to_have_text(RANGE)
    low, high = map(
        int, re.findall(r"\d+", page.locator(f"#run-{run_id} [data-f=eta]").inner_text())
    )
    assert low <= 5 <= high
    page.evaluate("window.notReloaded = true")
    done = {"id": "last", "type": "progress", "done": 990}
    web_hub.api.post(f"/api/v1/runs/{run_id}/events", json={"events": [done]})
    expect(page.locator(f"#run-{run_id} [data-f=percent]")).to_have_text("99%")
    expect(page.locator(f"#run-{run_id} [data-f=eta]")).not_to_have_text(RANGE)
    assert page.evaluate("window.notReloaded") is True


def test_the_job_page_shows_how_right_its_etas_were(signed_in_page, web_hub):
    runs = [
        replay(web_hub.api, "nightly", seconds, 1.0, finish=True) for seconds in (200, 220, 240)
    ]
    page = signed_in_page
    page.goto("/jobs/nightly")
    expect(page.locator("#eta-accuracy")).to_have_text(
        re.compile(r"^off by \d+% \(median of 3 runs\), range held \d+%$")
    )
    rows = page.locator("#eta-scores tbody tr")
    expect(rows).to_have_count(3)
    newest = rows.first
    expect(newest.locator("a")).to_have_attribute("href", f"/runs/{runs[-1]}")
    expect(newest).to_contain_text("(was ")
    newest.locator("a").click()
    said = page.locator("#eta-said")
    expect(said).to_contain_text(re.compile(r"at 25%: \S+ left \(was \S+\); at 50%"))
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/jobs/nightly")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, f"the job page scrolls sideways on a phone ({width}px)"
