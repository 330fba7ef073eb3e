"""The Integrations page in Debian's Chromium, as a phone and as a desktop: an admin makes
an Alertmanager integration from the form, a sender posts to the URL it showed, and the
delivery (and a refused one, with its error) is listed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.web.conftest import add_user, browser_sign_in, page_csrf, sign_in
from thereyet.server.app import create_app

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
FIRING = {
    "version": "4",
    "groupKey": '{}:{alertname="DiskFull"}',
    "status": "firing",
    "receiver": "thereyet",
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "critical"},
            "annotations": {"summary": "disk 97% full"},
            "startsAt": "2026-03-02T09:00:00Z",
            "fingerprint": "c0ffee",
        }
    ],
}


def _watch(page: Any) -> list[str]:
    """Console errors (CSP violations among them) the page reports."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def _no_horizontal_scroll(page: Any) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


@pytest.mark.parametrize("device", VIEWPORTS)
def test_an_integration_made_from_the_form_lists_what_its_sender_posts(
    browser: Any, web_hub: Any, device: str
):
    api = web_hub.api
    assert api.put("/api/v1/oncall/public-url", json={"public_url": web_hub.url}).is_success
    assert api.put("/api/v1/oncall/services/payments", json={}).is_success
    context = browser.new_context(base_url=web_hub.url, **VIEWPORTS[device])
    page = context.new_page()
    try:
        browser_sign_in(page, "boss")
        problems = _watch(page)  # on this page (the dashboard has its own tests)
        page.click("#menu summary")
        page.click("#menu a:has-text('Integrations')")
        expect(page.locator("h1")).to_have_text("Integrations")
        page.fill("input[name=name]", "prom")
        page.select_option("select[name=kind]", "alertmanager")
        page.select_option("select[name=service]", "payments")
        page.click("button:has-text('Create')")
        url = page.locator("#created-url").inner_text()
        assert url.startswith(f"{web_hub.url}/api/v1/alerts/") and url.endswith("/alertmanager")
        expect(page.locator("#created-example")).to_contain_text(f"- url: {url}")
        _no_horizontal_scroll(page)

        # The sender posts to the URL exactly as the page showed it, as Alertmanager would.
        assert httpx.post(url, json=FIRING).status_code == 200
        assert httpx.post(url, json={"version": "4"}).status_code == 422
        page.goto("/integrations")
        rows = page.locator("#integration-prom table.deliveries tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("422")
        expect(rows.nth(0)).to_contain_text("groupKey")
        expect(rows.nth(1)).to_contain_text("1 trigger")
        assert page.locator("body").inner_text().count(url.rsplit("/", 2)[1]) == 0  # no token
        _no_horizontal_scroll(page)

        page.click("#integration-prom button:has-text('Delete prom')")
        expect(page.locator("#integration-prom")).to_have_count(0)
        assert httpx.post(url, json=FIRING).status_code == 404
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


def test_a_bad_name_is_shown_on_the_form_and_nothing_is_made(browser: Any, web_hub: Any):
    context = browser.new_context(base_url=web_hub.url, **VIEWPORTS["phone"])
    page = context.new_page()
    try:
        browser_sign_in(page, "boss")
        page.goto("/integrations")
        page.fill("input[name=name]", "Bad Name")
        page.select_option("select[name=kind]", "slack")
        page.fill("input[name=room]", "ops")
        page.click("button:has-text('Create')")
        expect(page.locator("#problem")).to_contain_text("name")
        expect(page.locator("input[name=name]")).to_have_value("Bad Name")
        assert web_hub.api.get("/api/v1/integrations").json()["integrations"] == []
    finally:
        context.close()


def test_an_operator_cannot_open_the_integrations_page(web_hub: Any):
    with httpx.Client(base_url=web_hub.url) as person:
        sign_in(person, "ana")
        assert person.get("/integrations").status_code == 403
        assert "Integrations" not in person.get("/").text  # no link to it either


def test_an_integration_the_files_manage_is_shown_read_only(tmp_path: Any, clock: Any):
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path), clock)
    with TestClient(app) as client:
        files = {"team.toml": '[rooms.ops]\n[integrations.chat]\nkind = "slack"\nroom = "ops"\n'}
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert client.post("/api/v1/config/apply", json={"files": files}, headers=admin).is_success
        add_user(client, "boss", "admin")
        sign_in(client, "boss")
        shown = client.get("/integrations")
        assert "Managed by the configuration file <code>team.toml</code>" in shown.text
        assert "Delete chat" not in shown.text
        csrf = page_csrf(shown.text)
        refused = client.post("/integrations/chat/delete", data={"csrf": csrf})
        assert refused.status_code == 409 and refused.json()["file"] == "team.toml"
        assert [
            i["name"]
            for i in client.get("/api/v1/integrations", headers=admin).json()["integrations"]
        ] == ["chat"]
