"""The job page's duration chart: one bar per finished run, oldest left, failed runs marked."""

from __future__ import annotations

import re

import httpx

from tests.web.conftest import sign_in


def _finished_run(api: httpx.Client, status: str) -> None:
    run = api.post("/api/v1/runs", json={"job": "nightly", "room": "ops"}).json()
    response = api.post(f"/api/v1/runs/{run['id']}/finish", json={"status": status})
    assert response.status_code == 200, response.text


def test_the_duration_chart_marks_failed_runs_in_order(web_hub):
    outcomes = ["succeeded", "failed", "succeeded", "failed", "failed"]
    for status in outcomes:
        _finished_run(web_hub.api, status)
    with httpx.Client(base_url=web_hub.url) as browser:
        sign_in(browser, "ana")
        html = browser.get("/jobs/nightly").text
    chart = html[html.index('<svg class="durations"') :]
    bars = re.findall(r'<rect class="(ok|bad)"', chart[: chart.index("</svg>")])
    assert bars == ["bad" if s == "failed" else "ok" for s in outcomes]
