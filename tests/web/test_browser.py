"""The pages in a real browser (Debian's Chromium, headless, driven by Playwright)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import thereyet
from tests.conftest import ADMIN_TOKEN
from tests.web.conftest import browser_sign_in
from thereyet.client import state

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)


@pytest.fixture
def sdk(web_hub):
    state.reset()
    thereyet.configure(
        url=web_hub.url, token=ADMIN_TOKEN, progress_interval=0.05, send_interval=0.05
    )
    yield
    state.reset()


def bar_width(page, run_id: str) -> float:
    value = page.get_attribute(f"#run-{run_id} [data-f=bar]", "value")
    return float(value) if value else 0.0


def test_a_run_started_by_the_sdk_appears_and_its_bar_advances_without_a_reload(
    signed_in_page, web_hub, sdk
):
    page = signed_in_page
    page.goto("/")
    page.evaluate("window.notReloaded = true")
    with thereyet.run("customer-export", room="migration") as run:
        run.progress(100, 1000)
        run_id = run.id
        page.wait_for_selector(f"#run-{run_id}", timeout=10_000)
        expect(page.locator(f"#run-{run_id} [data-f=percent]")).to_have_text("10%")
        first = bar_width(page, run_id)
        run.progress(600, 1000)
        expect(page.locator(f"#run-{run_id} [data-f=percent]")).to_have_text("60%")
        assert bar_width(page, run_id) > first
    page.wait_for_selector(f"#run-{run_id}", state="detached", timeout=10_000)
    assert page.locator("#finished tr").first.inner_text().startswith("customer-export")
    assert page.evaluate("window.notReloaded") is True


def test_a_message_posted_in_one_browser_appears_live_in_another(browser, web_hub, request):
    web_hub.api.post("/api/v1/rooms", json={"name": "ops"})
    first = browser.new_context(base_url=web_hub.url).new_page()
    second = browser.new_context(base_url=web_hub.url).new_page()
    request.addfinalizer(first.context.close)
    request.addfinalizer(second.context.close)
    browser_sign_in(first, "ana")
    browser_sign_in(second, "boss")
    first.goto("/rooms/ops")
    second.goto("/rooms/ops")
    second.evaluate("window.notReloaded = true")
    first.fill("textarea[name=text]", "deploy **done**, all green")
    first.click("button:has-text('Send')")
    second.wait_for_selector("#messages li:has-text('deploy done, all green')", timeout=10_000)
    assert (
        second.inner_html("#messages li:last-child .msg-body").count("<strong>done</strong>") == 1
    )
    assert second.evaluate("window.notReloaded") is True


def test_a_message_with_a_script_renders_as_text(signed_in_page, web_hub):
    web_hub.api.post("/api/v1/rooms", json={"name": "ops"})
    page = signed_in_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    evil = '<script>alert("x")</script> <img src=x onerror="alert(1)"> [click](javascript:alert(2))'
    web_hub.api.post("/api/v1/rooms/ops/messages", json={"text": evil})
    page.goto("/rooms/ops")
    body = page.locator("#messages li:last-child .msg-body")
    assert "<script>" in body.inner_text()
    assert page.locator("#messages script").count() == 0
    assert page.locator("#messages img").count() == 0
    assert page.locator("#messages a[href^='javascript']").count() == 0
    page.fill("textarea[name=text]", evil)
    page.click("button:has-text('Send')")
    expect(page.locator("#messages li")).to_have_count(2)
    page.click("#messages li:last-child .msg-body")
    assert dialogs == []


def test_the_phone_layout_has_no_horizontal_scroll(browser, web_hub, sdk):
    context = browser.new_context(
        base_url=web_hub.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    browser_sign_in(page, "ana")
    long_name = "a-very-long-job-name-that-could-push-the-layout-sideways-on-a-phone"
    with thereyet.run(long_name, room="migration") as run:
        run.progress(5, 10)
        run.stat("rows_per_s", 123456.7)
        run.log("x" * 400)
        thereyet.flush()
        for path in (
            "/",
            f"/runs/{run.id}",
            f"/jobs/{long_name}",
            "/rooms",
            "/rooms/migration",
            "/search?q=anything",
        ):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
    context.close()


def test_a_share_link_shows_the_room_read_only_and_stops_when_revoked(browser, web_hub, request):
    web_hub.api.post("/api/v1/rooms", json={"name": "migration"})
    web_hub.api.post("/api/v1/rooms/migration/messages", json={"text": "halfway there"})
    admin = browser.new_context(base_url=web_hub.url).new_page()
    request.addfinalizer(admin.context.close)
    browser_sign_in(admin, "boss")
    admin.goto("/rooms/migration")
    admin.click("summary:has-text('Export and share')")
    admin.click("button:has-text('share link')")
    link = admin.get_attribute("#new-share", "href")
    assert link and link.startswith("/share/")

    visitor = browser.new_context(base_url=web_hub.url).new_page()
    request.addfinalizer(visitor.context.close)
    visitor.goto(link)
    assert visitor.locator("#messages").inner_text().count("halfway there") == 1
    assert visitor.locator("form#say").count() == 0
    assert visitor.locator("textarea").count() == 0
    web_hub.api.post("/api/v1/rooms/migration/messages", json={"text": "90% now"})
    visitor.wait_for_selector("#messages li:has-text('90% now')", timeout=10_000)

    admin.goto("/shares")
    admin.click("button:has-text('Revoke')")
    admin.wait_for_selector("text=revoked")
    response = visitor.goto(link)
    assert response is not None and response.status == 404
