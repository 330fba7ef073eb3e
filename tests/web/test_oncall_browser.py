"""The on-call pages in Debian's Chromium, as a phone and as a desktop, light and dark:
no sideways scroll, no console errors, no CSP violations, no serious or critical
accessibility problem (axe-core); and what people do on them, end to end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.servers import recording_server, serve, wait_for
from tests.web.conftest import WebHub, add_user, browser_sign_in
from tests.web.pagecheck import assert_page_ok, signed_in_state
from thereyet.server.app import create_app

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def monday_a_week_ago() -> str:
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    return (today - timedelta(days=today.weekday() + 7)).isoformat()


def build_team(api: httpx.Client, recorder_url: str) -> int:
    """People, two rotations, a policy, a service and an open incident; its id."""
    people = (("ana", "Europe/Paris"), ("bo", "America/New_York"), ("cy", "Asia/Tokyo"))
    for name, tz in people:
        methods = [{"name": "push", "url": f"json://{recorder_url}/{name}/push"}]
        body = {"timezone": tz, "contact_methods": methods}
        ok(api.put(f"/api/v1/oncall/people/{name}", json=body))
    start = monday_a_week_ago()
    for name, hours, who in (("primary", 168, ["ana", "bo"]), ("nights", 24, ["cy", "bo", "ana"])):
        body = {"timezone": "Europe/Paris", "start_date": start, "shift_hours": hours}
        ok(api.put(f"/api/v1/oncall/rotations/{name}", json=body | {"participants": who}))
    steps = [
        {"targets": [{"kind": "rotation", "name": "primary"}], "delay_minutes": 15},
        {"targets": [{"kind": "person", "name": "cy"}], "delay_minutes": 30},
    ]
    ok(api.put("/api/v1/oncall/policies/default", json={"steps": steps, "repeat": 1}))
    service = {"room": "ops", "policy": "default", "runbook_url": "https://wiki.example.com/pay"}
    ok(api.put("/api/v1/oncall/services/payments", json=service))
    incident = {"service": "payments", "summary": "card payments failing", "dedup_key": "cards"}
    opened = ok(api.post("/api/v1/incidents", json=incident))
    ok(api.post("/api/v1/incidents", json=incident))  # a second alert folds into the first
    return int(opened["id"])


@pytest.fixture(scope="module")
def team_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebHub, int]]:
    """One hub for the whole page matrix (it only reads): a team and an open incident."""
    folder = tmp_path_factory.mktemp("oncall-pages")
    app = create_app(make_settings(f"sqlite:///{folder / 'hub.db'}", folder))
    with (
        recording_server() as recorder,
        serve(app) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api,
    ):
        add_user(api, "boss", "admin")
        yield WebHub(url, api), build_team(api, recorder.url)


PAGES = [
    ("dashboard", "/"),  # its on-call block
    ("oncall", "/oncall"),
    ("rotation", "/oncall/rotations/primary"),
    ("people", "/people"),
    ("person", "/people/ana"),
    ("policies", "/policies"),
    ("policy", "/policies/default"),
    ("services", "/services"),
    ("service", "/services/payments"),
    ("incident", "/incidents/{incident}"),
    ("reports", "/reports"),
]


def open_page(context: Any) -> tuple[Any, list[str]]:
    """A tab that collects console errors, script errors and failed loads into the list
    it returns, and records CSP violations in window.__csp."""
    page = context.new_page()
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error":
            errors.append(message.text)

    def answered(response: Any) -> None:
        if response.status >= 400:
            errors.append(f"{response.status} {response.url}")

    page.on("console", console)
    page.on("response", answered)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(WATCH)
    return page, errors


@pytest.fixture(scope="module")
def boss_state(browser: Any, team_hub: tuple[WebHub, int]) -> dict[str, Any]:
    return signed_in_state(browser, team_hub[0].url, "boss")


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[name for name, _ in PAGES])
def test_every_on_call_page_fits_is_clean_and_accessible(browser, team_hub, boss_state, name, path):
    hub, incident = team_hub
    assert_page_ok(browser, hub.url, path.format(incident=incident), state=boss_state)


# -- what people do --------------------------------------------------------------------------


@pytest.fixture
def team(web_hub: WebHub) -> Iterator[tuple[WebHub, int, Any]]:
    with recording_server() as recorder:
        yield web_hub, build_team(web_hub.api, recorder.url), recorder


def test_an_operator_acknowledges_an_incident_from_its_page_on_a_phone(browser, team):
    hub, incident, _recorder = team
    context = browser.new_context(base_url=hub.url, **PHONE)
    try:
        page, errors = open_page(context)
        browser_sign_in(page, "ana")  # the operator
        page.goto(f"/incidents/{incident}")
        button = page.get_by_role("button", name="Acknowledge")
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44, "too small for a thumb"
        button.tap()
        expect(page.locator("#incident-status")).to_have_text("acknowledged")
        expect(page.locator("#timeline")).to_contain_text("acknowledged by ana")
        assert page.get_by_role("button", name="Acknowledge").count() == 0
        assert ok(hub.api.get(f"/api/v1/incidents/{incident}"))["acknowledged_by"] == "ana"
        assert errors == []
    finally:
        context.close()


def test_an_override_created_on_the_rotation_page_changes_who_is_on_call_now(browser, team):
    hub, _incident, _recorder = team
    before = ok(hub.api.get("/api/v1/oncall/rotations/primary"))["on_call"]
    cover = "cy" if before != "cy" else "bo"
    context = browser.new_context(base_url=hub.url, **DESKTOP)
    try:
        page, errors = open_page(context)
        browser_sign_in(page, "boss")
        page.goto("/oncall")
        expect(page.locator("#rotation-primary .oc-who")).to_have_text(before)
        page.goto("/oncall/rotations/primary")
        now = datetime.now(ZoneInfo("Europe/Paris"))
        form = page.locator("#override-form")
        form.get_by_label("Person").select_option(cover)
        form.get_by_label("From").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        form.get_by_label("Until").fill((now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
        form.get_by_label("Note").fill(f"{before} is ill")
        form.get_by_role("button", name="Create override").click()
        expect(page.locator("#override-list")).to_contain_text(f"{before} is ill")
        page.goto("/oncall")
        expect(page.locator("#rotation-primary .oc-who")).to_have_text(cover)
        expect(page.locator("#overrides-now")).to_contain_text(cover)
        assert errors == []
    finally:
        context.close()


def test_a_test_sent_to_a_contact_method_arrives_at_the_recorder(browser, team):
    hub, _incident, recorder = team
    context = browser.new_context(base_url=hub.url, **DESKTOP)
    try:
        page, errors = open_page(context)
        browser_sign_in(page, "boss")
        page.goto("/people/cy")
        page.locator("#method-push").get_by_role("button", name="Send a test").click()
        expect(page.locator("#tested")).to_contain_text("push")

        def arrived() -> dict[str, Any] | None:
            return next(
                (r for r in recorder.requests if r["path"] == "/cy/push" and r["json"]), None
            )

        got = wait_for(arrived, timeout=30, what="the test message at the recorder")
        assert got["json"]["title"] == "thereyet: test message"
        assert "sent by boss" in got["json"]["message"]

        def shown_sent() -> bool:
            page.reload()
            return page.locator("#method-push .badge", has_text=re.compile("^sent$")).count() > 0

        wait_for(shown_sent, timeout=30, what="the delivery shown as sent on the page")
        assert errors == []
    finally:
        context.close()
