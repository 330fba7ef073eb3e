"""What a person sees and does on the pages, in Debian's Chromium: rooms open at the
newest message and scroll back, run cards carry live bars, share links show live
runs, the run page reads as a story, the nav fits a phone."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.web.conftest import browser_sign_in
from tests.web.pagecheck import VIEWPORTS

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


def new_run(api, job: str, room: str, **body) -> str:
    response = api.post("/api/v1/runs", json={"job": job, "room": room, **body})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def report(api, run_id: str, *events: dict) -> None:
    numbered = [{"id": uuid.uuid4().hex, **e} for e in events]
    response = api.post(f"/api/v1/runs/{run_id}/events", json={"events": numbered})
    assert response.status_code < 300, response.text


def signed_in(browser, web_hub, request, username="ana", phone=False):
    options = VIEWPORTS["phone"] if phone else {}
    page = browser.new_context(base_url=web_hub.url, **options).new_page()
    request.addfinalizer(page.context.close)
    browser_sign_in(page, username)
    return page


def test_a_room_opens_at_its_newest_message_and_loads_older_ones_on_scroll(
    browser, web_hub, request
):
    web_hub.api.post("/api/v1/rooms", json={"name": "busy"})
    for n in range(230):
        web_hub.api.post("/api/v1/rooms/busy/messages", json={"text": f"message number {n}"})
    page = signed_in(browser, web_hub, request)
    page.goto("/rooms/busy")
    expect(page.locator("#messages li.msg")).to_have_count(100)
    newest = page.locator("#messages li.msg", has_text="message number 229")
    expect(newest).to_be_in_viewport()
    page.mouse.wheel(0, -100_000)
    expect(page.locator("#messages li.msg")).to_have_count(200)
    expect(page.locator("#messages li.msg", has_text="message number 129")).to_be_in_viewport()
    page.mouse.wheel(0, -100_000)
    expect(page.locator("#messages li.msg")).to_have_count(230)
    expect(page.locator("#older")).to_be_hidden()
    texts = page.locator("#messages li.msg .msg-body").all_inner_texts()
    assert texts == [f"message number {n}" for n in range(230)]


def test_a_run_card_links_to_its_run_and_its_bar_moves_live(browser, web_hub, request):
    run_id = new_run(web_hub.api, "customer-export", "migration", total=1000, unit="rows")
    page = signed_in(browser, web_hub, request)
    page.goto("/rooms/migration")
    card = page.locator(f"#messages li[data-card-run='{run_id}']")
    expect(card.locator("a.card-link")).to_have_attribute("href", f"/runs/{run_id}")
    report(web_hub.api, run_id, {"type": "progress", "done": 250})
    expect(card.locator("progress")).to_have_attribute("value", "25")
    report(web_hub.api, run_id, {"type": "progress", "done": 700})
    expect(card.locator("progress")).to_have_attribute("value", "70")
    expect(page.locator(f"#active #run-{run_id} [data-f=percent]")).to_have_text("70%")


def test_a_share_link_shows_the_rooms_runs_with_live_bars(browser, web_hub, request):
    run_id = new_run(web_hub.api, "customer-export", "migration", total=200, unit="rows")
    share = web_hub.api.post("/api/v1/shares", json={"kind": "room", "target": "migration"})
    visitor = browser.new_context(base_url=web_hub.url).new_page()
    request.addfinalizer(visitor.context.close)
    visitor.goto(f"/share/{share.json()['token']}")
    row = visitor.locator(f"#active #run-{run_id}")
    expect(row.locator("[data-f=job]")).to_have_text("customer-export")
    assert row.locator("a").count() == 0  # a visitor has no run page to go to
    report(web_hub.api, run_id, {"type": "progress", "done": 50})
    expect(row.locator("progress")).to_have_attribute("value", "25")
    second = new_run(web_hub.api, "reindex", "migration", total=100, unit="%")
    report(web_hub.api, second, {"type": "progress", "done": 11})
    expect(visitor.locator(f"#active #run-{second} [data-f=percent]")).to_have_text("11%")
    expect(visitor.locator(f"#active #run-{second} [data-f=amount]")).to_have_text("")


def test_the_run_page_lists_changes_and_notes_not_stats_and_its_log_follows(
    browser, web_hub, request
):
    run_id = new_run(web_hub.api, "export", "ops", total=100)
    stats = [{"type": "stat", "name": "rows_per_s", "value": n} for n in range(50)]
    lines = [{"type": "log", "text": f"line {n}"} for n in range(200)]
    report(web_hub.api, run_id, *stats, {"type": "note", "text": "switching batches"}, *lines)
    page = signed_in(browser, web_hub, request)
    page.goto(f"/runs/{run_id}")
    timeline = page.locator("#timeline li")
    expect(timeline).to_have_count(2)  # running, and the note
    expect(timeline.nth(1)).to_contain_text("switching batches")
    expect(page.locator("#stats tbody tr")).to_have_count(1)
    expect(page.locator("#stats tbody th")).to_have_text("rows_per_s")
    log = page.locator("#log")
    at_bottom = "el => el.scrollTop + el.clientHeight >= el.scrollHeight - 4"
    assert log.evaluate(at_bottom)
    report(web_hub.api, run_id, *[{"type": "log", "text": f"later {n}"} for n in range(5)])
    expect(log).to_contain_text("later 4")
    assert log.evaluate(at_bottom)
    started = page.locator("dl.facts time").first
    assert "UTC" in (started.get_attribute("title") or "")
    assert "ago" in started.inner_text()


def test_a_failed_run_links_to_the_incident_it_opened(browser, web_hub, request):
    web_hub.api.put("/api/v1/oncall/services/billing", json={"room": "ops"})
    web_hub.api.put(
        "/api/v1/oncall/jobs/billing-sync", json={"service": "billing", "events": ["failed"]}
    )
    run_id = new_run(web_hub.api, "billing-sync", "ops")
    web_hub.api.post(f"/api/v1/runs/{run_id}/finish", json={"status": "failed", "error": "503"})
    incident = web_hub.api.get("/api/v1/incidents").json()["incidents"][0]
    page = signed_in(browser, web_hub, request)
    page.goto(f"/runs/{run_id}")
    link = page.locator("#run-incident a")
    expect(link).to_have_attribute("href", f"/incidents/{incident['id']}")
    link.click()
    page.wait_for_url(f"**/incidents/{incident['id']}")
    expect(page.locator("#incident-status")).to_have_text("triggered")


def test_a_file_is_sent_with_the_caption_typed_before_upload(browser, web_hub, request):
    web_hub.api.post("/api/v1/rooms", json={"name": "ops"})
    page = signed_in(browser, web_hub, request)
    page.goto("/rooms/ops")
    expect(page.locator("#upload")).to_be_hidden()
    page.set_input_files(
        "input[type=file]", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hi"}]
    )
    expect(page.locator("#upload")).to_be_visible()
    expect(page.locator("#upload-name")).to_have_text("notes.txt")
    page.fill("#upload-caption", "the plan for tonight")
    page.click("#upload-send")
    last = page.locator("#messages li.msg").last
    expect(last.locator(".msg-body")).to_have_text("the plan for tonight")
    expect(last.locator(".msg-file a")).to_have_text("notes.txt (2 bytes)")
    expect(page.locator("#upload")).to_be_hidden()


def test_progress_bars_draw_without_the_script(browser, web_hub, request):
    run_id = new_run(web_hub.api, "export", "ops", total=1000)
    report(web_hub.api, run_id, {"type": "progress", "done": 420})
    context = browser.new_context(base_url=web_hub.url, java_script_enabled=False)
    request.addfinalizer(context.close)
    page = context.new_page()
    browser_sign_in(page, "ana")
    page.goto("/")
    bar = page.locator(f"#run-{run_id} progress")
    assert bar.get_attribute("value") == "42.0" or bar.get_attribute("value") == "42"
    assert bar.evaluate("el => el.position") == pytest.approx(0.42)
    assert page.locator("[style]").count() == 0


def test_a_missing_page_keeps_the_navigation(browser, web_hub, request):
    page = signed_in(browser, web_hub, request)
    response = page.goto("/rooms/no-such-room")
    assert response is not None and response.status == 404
    expect(page.locator("nav.main-nav a", has_text="Rooms")).to_be_visible()
    expect(page.locator("main h1")).to_contain_text("404")


def test_on_a_phone_the_nav_takes_at_most_two_lines_and_its_menu_holds_every_page(
    browser, web_hub, request
):
    page = signed_in(browser, web_hub, request, username="boss", phone=True)
    page.goto("/")
    header = page.locator("header.top").bounding_box()
    assert header is not None and header["height"] < 100, header
    page.click("#menu summary")
    panel = page.locator(".menu-panel")
    expect(panel.locator("a", has_text="Share links")).to_be_visible()
    expect(panel.locator("button", has_text="Sign out")).to_be_visible()
    box = panel.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()


def test_a_fresh_hub_teaches_how_to_add_people_and_report_a_first_job(browser, web_hub, request):
    page = signed_in(browser, web_hub, request)
    page.goto("/")
    welcome = page.locator("#welcome")
    expect(welcome).to_contain_text("thereyet user create")
    expect(welcome).to_contain_text(f"THEREYET_URL={web_hub.url}")
    expect(welcome).to_contain_text("thereyet run --job hello")
    new_run(web_hub.api, "hello", "ops")
    page.goto("/")
    expect(page.locator("#welcome")).to_have_count(0)
