"""Room cards for run state changes and the formatting behind them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from thereyet.server.domain.cards import format_count, format_duration, run_card
from thereyet.server.domain.runs import Run, RunStatus

NOW = datetime(2026, 1, 5, 13, 0, tzinfo=UTC)


def make_run(**fields: Any) -> Run:
    values: dict[str, Any] = {
        "id": "r1",
        "job": "customer-export",
        "status": RunStatus.RUNNING,
        "created_at": NOW - timedelta(hours=4),
        "host": "host-3",
    }
    values.update(fields)
    return Run(**values)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


# --- format_duration / format_count ----------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (12, "12s"),
        (12.4, "12s"),
        (59.6, "1m"),
        (60, "1m"),
        (65, "1m05s"),
        (252, "4m12s"),
        (599, "9m59s"),
        (600, "10m"),
        (41 * 60 + 30, "41m"),
        (3600, "1h"),
        (3 * 3600 + 12 * 60 + 59, "3h12m"),
        (3 * 3600 + 30, "3h"),
        (2 * 86400 + 4 * 3600 + 600, "2d4h"),
        (3 * 86400, "3d"),
        (-5, "0s"),
        (float("nan"), "0s"),
        (float("inf"), "forever"),
    ],
)
def test_format_duration_is_short_and_drops_zero_parts(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0"),
        (950, "950"),
        (999, "999"),
        (12.5, "12.5"),
        (1000, "1k"),
        (12_345, "12.3k"),
        (123_456, "123k"),
        (999_960, "1M"),
        (1_234_567, "1.2M"),
        (3_400_000_000, "3.4G"),
        (-12_345, "-12.3k"),
    ],
)
def test_format_count_uses_suffixes_from_a_thousand(n: float, text: str) -> None:
    assert format_count(n) == text


# --- run_card -------------------------------------------------------------------


def test_started_card_names_job_and_host() -> None:
    run = make_run(status=RunStatus.QUEUED, started_at=NOW)
    assert (
        run_card(run, change=RunStatus.RUNNING, now=NOW) == "**customer-export** started on host-3"
    )


def test_started_card_without_host() -> None:
    run = make_run(host=None, started_at=NOW)
    card = run_card(run, change=RunStatus.RUNNING, now=NOW, was=RunStatus.QUEUED)
    assert card == "**customer-export** started"


def test_run_back_from_lost_says_it_is_back() -> None:
    saved = make_run(status=RunStatus.RUNNING, started_at=ago(hours=1))
    expected = "**customer-export** is back on host-3"
    assert run_card(saved, change=RunStatus.RUNNING, now=NOW, was=RunStatus.LOST) == expected
    unsaved = make_run(status=RunStatus.LOST, started_at=ago(hours=1))
    assert run_card(unsaved, change=RunStatus.RUNNING, now=NOW) == expected


def test_finished_card_gives_duration_host_and_count() -> None:
    run = make_run(
        status=RunStatus.SUCCEEDED,
        started_at=ago(hours=3, minutes=12),
        finished_at=NOW,
        done=1_234_567,
        total=1_234_567,
        unit="rows",
    )
    card = run_card(run, change=RunStatus.SUCCEEDED, now=NOW)
    assert card == "**customer-export** finished in 3h12m on host-3, 1.2M rows"


def test_finished_short_of_total_says_how_far_it_got() -> None:
    run = make_run(started_at=ago(minutes=41), done=950, total=12_000, unit="files")
    card = run_card(run, change=RunStatus.SUCCEEDED, now=NOW)
    assert card == "**customer-export** finished in 41m on host-3, 950 of 12k files"


def test_finished_without_progress_or_start_is_brief() -> None:
    run = make_run(host=None)
    assert run_card(run, change=RunStatus.SUCCEEDED, now=NOW) == "**customer-export** finished"
    counted = make_run(host=None, done=12)
    assert run_card(counted, change=RunStatus.SUCCEEDED, now=NOW).endswith("finished, 12 done")


def test_failed_card_gives_exit_error_and_last_three_lines() -> None:
    run = make_run(
        started_at=ago(minutes=41),
        exit_code=3,
        error="KeyError: 'id'",
        log_tail=[
            "step 1",
            "step 2",
            "",
            "exporting batch 7",
            "  ",
            "Traceback (most recent)",
            "KeyError: 'id'",
        ],
    )
    card = run_card(run, change=RunStatus.FAILED, now=NOW)
    assert card == (
        "**customer-export** failed after 41m on host-3: exit 3, `KeyError: 'id'`, "
        "last lines: `exporting batch 7 | Traceback (most recent)`"
    )


def test_failed_card_keeps_long_output_short_and_in_code() -> None:
    run = make_run(
        started_at=ago(seconds=30),
        error="boom `rm -rf` \n" + "x" * 1000,
        log_tail=["y" * 500, "line with `ticks`"],
    )
    card = run_card(run, change=RunStatus.FAILED, now=NOW)
    assert "\n" not in card
    assert len(card) < 700
    assert card.count("`") == 4  # two code spans, inner backticks replaced
    assert "boom 'rm -rf'" in card
    assert "…" in card


def test_failed_card_with_nothing_known_still_says_failed() -> None:
    run = make_run(host=None)
    assert run_card(run, change=RunStatus.FAILED, now=NOW) == "**customer-export** failed"


def test_cancelled_card_says_after_how_long() -> None:
    run = make_run(started_at=ago(minutes=5), finished_at=NOW)
    card = run_card(run, change=RunStatus.CANCELLED, now=NOW)
    assert card == "**customer-export** was cancelled after 5m on host-3"


def test_cancelled_before_start_says_so() -> None:
    run = make_run(status=RunStatus.QUEUED, host=None)
    card = run_card(run, change=RunStatus.CANCELLED, now=NOW)
    assert card == "**customer-export** was cancelled before it started"


def test_lost_card_says_when_it_last_heard_from_the_host() -> None:
    run = make_run(
        started_at=ago(hours=2),
        progress_at=ago(minutes=20),
        heartbeat_at=datetime(2026, 1, 5, 12, 42, tzinfo=UTC),
    )
    card = run_card(run, change=RunStatus.LOST, now=NOW)
    assert card == "**customer-export** lost: no word from host-3 since 12:42 UTC (18m ago)"


def test_lost_card_falls_back_to_progress_and_gives_date_on_another_day() -> None:
    run = make_run(host=None, progress_at=datetime(2026, 1, 4, 22, 10, tzinfo=UTC))
    card = run_card(run, change=RunStatus.LOST, now=NOW)
    assert card == "**customer-export** lost: no word since 2026-01-04 22:10 UTC (14h50m ago)"


def test_lost_card_without_any_time() -> None:
    card = run_card(make_run(), change=RunStatus.LOST, now=NOW)
    assert card == "**customer-export** lost: no word from host-3"


def test_queued_card() -> None:
    run = make_run(status=RunStatus.QUEUED)
    assert run_card(run, change=RunStatus.QUEUED, now=NOW) == "**customer-export** is queued"


def test_markdown_in_names_and_hosts_is_escaped() -> None:
    run = make_run(job="nightly_*backup*", host="<!here>\nbox", started_at=NOW)
    card = run_card(run, change=RunStatus.RUNNING, now=NOW, was=RunStatus.QUEUED)
    assert card == r"**nightly\_\*backup\*** started on \<!here\> box"


@pytest.mark.parametrize("change", list(RunStatus))
def test_every_card_is_one_line_starting_with_the_job(change: RunStatus) -> None:
    run = make_run(
        started_at=ago(hours=1),
        heartbeat_at=ago(minutes=3),
        error="multi\nline",
        log_tail=["a\nb"],
        done=5,
    )
    card = run_card(run, change=change, now=NOW)
    assert card.startswith("**customer-export** ")
    assert "\n" not in card
