"""The jobs, job, commands, channels, users and tokens pages in Debian's Chromium.

Every page as a phone (390x844) and as a desktop, light and dark: no horizontal
scroll, no console error, no CSP violation, and axe-core finds nothing serious
or critical. Then what people do there: make a token and use it with curl, a
viewer kept out, a disabled user's session ending. Screenshots go to
$THEREYET_SCREENSHOTS when it is set (else to the test's temporary directory).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.servers import missing, wait_for
from tests.web.conftest import add_user, browser_sign_in

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 860}}
PAGES = ("/jobs", "/jobs/backup", "/commands", "/channels", "/admin/users", "/admin/tokens")
# Recorded before any page script runs; the CSP blocks, the page reports.
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def _finished(api: httpx.Client, job: str, status: str) -> None:
    run = api.post("/api/v1/runs", json={"job": job, "room": "ops", "host": "db1"}).json()
    api.post(f"/api/v1/runs/{run['id']}/progress", json={"done": 5, "total": 10})
    answer = api.post(f"/api/v1/runs/{run['id']}/finish", json={"status": status})
    assert answer.status_code == 200, answer.text


def _fill(api: httpx.Client) -> None:
    """A hub with something on every page: runs, a schedule, a channel, a token, a command."""
    for status in ("succeeded", "failed", "succeeded", "succeeded", "failed", "succeeded"):
        _finished(api, "backup", status)
    _finished(api, "league-matches-with-a-rather-long-name", "succeeded")
    api.put(
        "/api/v1/jobs/backup/schedule",
        json={"schedule": "0 3 * * *", "limits": {"grace": 600}},
    )
    api.patch("/api/v1/jobs/backup", json={"runbook_url": "https://wiki.example.com/backup"})
    api.post("/api/v1/channels", json={"name": "ops-hook", "url": "json://127.0.0.1:9/hook"})
    api.post("/api/v1/tokens", json={"name": "ci", "scope": "ingest", "jobs": ["backup"]})
    api.post("/api/v1/rooms/ops/messages", json={"text": "!help"})
    add_user(api, "vic", "viewer")


def _context(browser: Any, url: str, device: dict[str, Any], scheme: str) -> Any:
    context = browser.new_context(base_url=url, color_scheme=scheme, **device)
    context.add_init_script(WATCH_CSP)
    return context


def _screenshot_dir(tmp_path: Path) -> Path:
    chosen = Path(os.environ.get("THEREYET_SCREENSHOTS") or tmp_path)
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


def _serious_axe_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _check_page(page: Any, path: str) -> list[str]:
    """Open `path`; return what is wrong with it (empty when all is well)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    answer = page.goto(path)
    assert answer is not None and answer.status == 200, (path, answer and answer.status)
    page.wait_for_load_state("load")
    problems = [f"{path}: console: {e}" for e in errors]
    problems += [f"{path}: CSP: {v}" for v in page.evaluate("window.__csp")]
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        problems.append(f"{path}: scrolls sideways by {overflow}px")
    problems += [f"{path}: axe: {v}" for v in _serious_axe_violations(page)]
    return problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_every_admin_page_fits_has_no_errors_and_passes_axe(
    browser, web_hub, tmp_path, device, scheme
):
    _fill(web_hub.api)
    context = _context(browser, web_hub.url, PHONE if device == "phone" else DESKTOP, scheme)
    shots = _screenshot_dir(tmp_path)
    try:
        page = context.new_page()
        browser_sign_in(page, "boss")
        problems: list[str] = []
        for path in PAGES:
            problems += _check_page(page, path)
            name = path.strip("/").replace("/", "-")
            page.screenshot(path=str(shots / f"{name}-{device}-{scheme}.png"), full_page=True)
        assert not problems, "\n".join(problems)
    finally:
        context.close()


CURL = ("curl", "-s", "-w", "\n%{http_code}", "-H", "Content-Type: application/json")


def _curl_post_run(url: str, token: str, body: str) -> tuple[str, str]:
    """POST a run with curl as a person would; (status code, body)."""
    answer = subprocess.run(
        [*CURL, "-H", f"Authorization: Bearer {token}", "-d", body, f"{url}/api/v1/runs"],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    text, _, code = answer.stdout.rpartition("\n")
    return code, text


def test_a_token_made_in_the_browser_works_with_curl(browser, web_hub):
    if shutil.which("curl") is None:
        missing("curl is not installed")
    context = _context(browser, web_hub.url, PHONE, "light")
    try:
        page = context.new_page()
        browser_sign_in(page, "boss")
        page.goto("/admin/tokens")
        page.fill("input[name=name]", "deploy-bot")
        page.select_option("select[name=scope]", "ingest")
        page.fill("input[name=jobs]", "deploy")
        page.click("button:has-text('Create token')")
        expect(page.locator("#new-token")).to_contain_text("shown only once")
        token = page.inner_text("#new-token-value").strip()
        assert re.fullmatch(r"ty_[0-9a-f]+_[\w-]+", token), token
        page.reload()  # a reload sends the form again or shows the list: never the secret twice
        assert token not in page.content()
    finally:
        context.close()
    code, body = _curl_post_run(web_hub.url, token, '{"job": "deploy", "total": 3}')
    assert code == "201" and '"job":"deploy"' in body, body
    refused, _ = _curl_post_run(web_hub.url, token, '{"job": "other"}')
    assert refused == "403"  # the token names one job


def test_a_viewer_sees_no_ping_url_and_gets_the_403_page_for_admin_pages(browser, web_hub):
    add_user(web_hub.api, "vic", "viewer")
    web_hub.api.put("/api/v1/jobs/backup/schedule", json={"schedule": "0 3 * * *"})
    context = _context(browser, web_hub.url, PHONE, "light")
    try:
        page = context.new_page()
        browser_sign_in(page, "vic")
        page.goto("/jobs/backup")
        expect(page.locator("#schedule")).to_contain_text("0 3 * * *")
        assert "/ping/" not in page.content()
        assert page.locator("a[href='/admin/users']").count() == 0
        answer = page.goto("/admin/users")
        assert answer is not None and answer.status == 403
        expect(page.locator("main h1")).to_have_text("403 · Not allowed")
        expect(page.locator("main")).to_contain_text("a viewer may not manage users")
    finally:
        context.close()


def test_disabling_a_user_from_the_page_ends_their_session_and_live_stream(browser, web_hub):
    ana = _context(browser, web_hub.url, PHONE, "light")
    boss = _context(browser, web_hub.url, DESKTOP, "light")
    try:
        ana_page = ana.new_page()
        browser_sign_in(ana_page, "ana")  # on the dashboard, its live stream open
        expect(ana_page.locator("#live-state")).to_be_hidden()
        boss_page = boss.new_page()
        browser_sign_in(boss_page, "boss")
        boss_page.goto("/admin/users")
        boss_page.locator("#user-ana button:has-text('Disable')").click()
        expect(boss_page.locator("#user-ana")).to_contain_text("disabled")
        # Her stream ends at once and cannot come back: the page says it is reconnecting.
        expect(ana_page.locator("#live-state")).to_be_visible()
        ana_page.goto("/jobs")
        wait_for(lambda: "/login" in ana_page.url, 10, what="ana sent to sign in again")
    finally:
        ana.close()
        boss.close()
