"""The server-rendered SVG charts: a job's durations with axes, and a win/loss sparkline."""

from __future__ import annotations

import re

from thereyet.server.web.pages.charts import Point, durations_chart, nice_top, sparkline


def test_the_duration_axis_tops_at_a_round_duration_at_least_the_longest_run():
    assert nice_top(0.3) == 2
    assert nice_top(95) == 120
    assert nice_top(3600) == 3600
    assert nice_top(50_000) == 86400
    assert nice_top(90_000) == 2 * 86400


def test_the_duration_chart_has_a_labelled_duration_axis_and_dated_time_axis():
    points = [
        Point("2026-03-01T03:00:00Z", 95.0, True),
        Point("2026-03-02T03:00:00Z", 40.0, False),
        Point("2026-03-03T03:00:00Z", 60.0, True),
    ]
    svg = durations_chart(points)
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]+)</text>', svg)
    assert ticks == ["0", "1m", "2m", "03-01 03:00", "03-02 03:00", "03-03 03:00"]
    assert 'aria-label="durations of the last 3 finished runs, 1 failed"' in svg
    assert "style=" not in svg  # the pages' CSP forbids inline styles


def test_a_failed_run_is_marked_by_a_shape_not_only_its_colour():
    svg = durations_chart([Point("2026-03-01T03:00:00Z", 10, True), Point("x", 5, False)])
    assert svg.count('class="bad mark"') == 1
    assert re.search(r"<title>[^<]*, failed</title>", svg)


def test_no_finished_run_says_so_instead_of_an_empty_chart():
    assert "No finished runs yet" in durations_chart([])


def test_the_sparkline_puts_successes_up_failures_down_and_live_runs_on_the_line():
    svg = sparkline(["succeeded", "failed", "lost", "running", "cancelled"])
    marks = re.findall(r'<rect class="(\w+)" x="\d+" y="([\d.]+)"', svg)
    assert marks == [
        ("ok", "0.0"),
        ("bad", "10.0"),
        ("bad", "10.0"),
        ("live", "8.5"),
        ("other", "8.5"),
    ]
    assert 'aria-label="last 5 runs: 1 succeeded, 2 failed"' in svg
    assert "style=" not in svg


def test_a_job_without_runs_has_no_sparkline_but_says_so():
    assert sparkline([]) == '<span class="muted">no runs</span>'
    assert 'aria-label="last run: 1 succeeded, 0 failed"' in sparkline(["succeeded"])
