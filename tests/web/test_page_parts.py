"""The pure parts of the pages: status tones, folding routine cards, percent text, the nav."""

from __future__ import annotations

from thereyet.server.config import Settings
from thereyet.server.first_steps import first_steps
from thereyet.server.web.pages.folding import fold_routine
from thereyet.server.web.pages.nav import LINKS, navigation
from thereyet.server.web.pages.present import percent_text, run_display
from thereyet.server.web.pages.tones import tone


def card(i: int, job: str, run: str, status: str) -> dict:
    return {
        "id": i,
        "kind": "run",
        "created_at": f"2026-03-02T10:{i:02d}:00+00:00",
        "data": {"job": job, "run_id": run, "status": status},
    }


def said(i: int) -> dict:
    return {"id": i, "kind": "text", "created_at": f"2026-03-02T10:{i:02d}:00+00:00", "data": {}}


def test_the_most_urgent_word_of_a_state_sets_its_tone():
    assert tone("running") == "run"
    assert tone("running stalled") == "warn"
    assert tone("failed late") == "bad"
    assert tone("succeeded") == "ok"
    assert tone("cancelled") == "idle"
    assert tone("acknowledged") == "warn" and tone("resolved") == "ok"
    assert tone("") == "idle"


def test_the_admin_pages_words_have_the_same_tones_as_runs_and_incidents():
    # commands' executions, users, tokens and share links badge through the same table
    assert [tone(w) for w in ("refused", "expired", "disabled", "revoked")] == ["bad"] * 4
    assert tone("waiting") == tone("pending") == "warn"
    assert tone("done") == tone("active") == tone("succeeded") == "ok"
    assert tone("queued") == tone("new") == "idle"


def test_a_stretch_of_routine_cards_of_one_job_folds_into_one_line():
    messages = [said(0)]
    for n in range(4):
        messages += [card(1 + 2 * n, "league", f"r{n}", "running")]
        messages += [card(2 + 2 * n, "league", f"r{n}", "succeeded")]
    messages += [said(20)]
    items = fold_routine(messages)
    assert [i.get("folded", False) for i in items] == [False, True, False]
    fold = items[1]
    assert fold["job"] == "league" and fold["runs"] == 4 and fold["outcome"] == "all succeeded"
    assert fold["first"].startswith("2026-03-02T10:01") and fold["last"].startswith(
        "2026-03-02T10:08"
    )
    assert len(fold["messages"]) == 8


def test_a_failed_card_is_never_folded_away_and_short_stretches_stay_open():
    messages = [card(1, "league", "r1", "succeeded"), card(2, "league", "r2", "succeeded")]
    messages += [card(3, "league", "r3", "failed")]
    messages += [card(4, "league", "r4", "succeeded")]
    items = fold_routine(messages)
    assert [i["id"] for i in items] == [1, 2, 3, 4]


def test_cards_of_another_job_break_the_stretch():
    messages = [card(i, "a" if i % 2 else "b", f"r{i}", "succeeded") for i in range(1, 9)]
    assert not any(i.get("folded") for i in fold_routine(messages))


def test_a_fold_counts_runs_that_did_not_succeed():
    messages = [
        card(i, "sync", f"r{i}", "cancelled" if i == 2 else "succeeded") for i in range(1, 5)
    ]
    (fold,) = fold_routine(messages)
    assert fold["outcome"] == "3 of 4 succeeded"


def view(done, total, unit, status="running"):
    percent = None if done is None or not total else 100 * done / total
    return {
        "status": status,
        "rate": None,
        "elapsed": 5.0,
        "eta": {"text": ""},
        "flags": {},
        "progress": {"done": done, "total": total, "unit": unit, "percent": percent},
    }


def test_a_percent_only_job_reads_11_percent_not_11_of_100_percent():
    show = run_display(view(11, 100, "%"))["show"]
    assert show["percent"] == "11%" and show["amount"] == ""
    assert show["bar"] == 11


def test_amounts_and_fractions_of_a_percent_read_naturally():
    show = run_display(view(120, 400, "rows"))["show"]
    assert show["percent"] == "30%" and show["amount"] == "120 / 400 rows"
    assert percent_text(12.345) == "12.3%" and percent_text(None) == ""


def test_a_run_without_a_known_total_has_a_bar_without_a_value():
    show = run_display(view(120, None, "rows"))["show"]
    assert show["bar"] is None and show["percent"] == "" and show["amount"] == "120 rows"


def test_the_nav_shows_admins_every_link_and_marks_the_current_page():
    admin = navigation("/rooms/ops", is_admin=True)
    viewer = navigation("/rooms/ops", is_admin=False)
    every = [link.href for _title, links in admin["groups"] for link in links]
    assert sorted(every) == sorted(link.href for link in LINKS)
    assert "/shares" not in [link.href for _t, links in viewer["groups"] for link in links]
    assert [link.label for link in admin["main"] if link.current] == ["Rooms"]


def test_the_first_start_says_how_to_make_a_web_user_and_report_a_first_job():
    text = first_steps(Settings(host="127.0.0.1", port=8480))
    assert "thereyet user create" in text and "http://127.0.0.1:8480/login" in text
    assert "thereyet run --job hello" in text and "THEREYET_TOKEN" in text
