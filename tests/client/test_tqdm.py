"""The tqdm drop-in reports like track()."""

from __future__ import annotations

import io

import thereyet
from thereyet.tqdm import tqdm


def test_the_tqdm_drop_in_draws_its_bar_and_reports_a_run(live_hub, sdk):
    out = io.StringIO()
    assert sum(1 for _ in tqdm(range(250), job="tqdm-export", file=out, mininterval=0)) == 250
    assert thereyet.flush(10)

    runs = live_hub.runs(job="tqdm-export")
    view = live_hub.run(runs[0]["id"])
    assert "250/250" in out.getvalue()
    assert view["status"] == "succeeded"
    assert (view["progress"]["done"], view["progress"]["total"]) == (250, 250)


def test_the_tqdm_drop_in_inside_a_run_reports_to_that_run(live_hub, sdk):
    with thereyet.run("outer") as run:
        bar = tqdm(total=10, file=io.StringIO())
        bar.update(4)
        bar.close()
    assert thereyet.flush(10)
    assert live_hub.run(run.id)["progress"]["done"] == 4
    assert live_hub.runs(job="tqdm") == []
