"""A refused form in Chromium, on an admin page and on an on-call page: the reason
comes back on the form's own page, naming the field, and reads the same on both."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import browser_sign_in
from tests.web.pagecheck import VIEWPORTS

pytestmark = pytest.mark.browser
expect.set_options(timeout=10_000)

# Makes objects the pages showed a moment ago managed by a file (forms already open).
TEAM_FILE = """
[users.ana]
role = "operator"

[people.alice]
timezone = "Europe/Paris"
"""
MANAGED = "is managed by the configuration file team.toml: change it there and apply"


def _problem(page: Any) -> dict[str, Any]:
    """What the problem note says and how it looks: its field, its text, its colours."""
    note = page.locator("#problem")
    expect(note).to_be_visible()
    return {
        "role": note.get_attribute("role"),
        "class": note.get_attribute("class"),
        "field": note.locator("strong").inner_text(),
        "text": note.inner_text(),
        "look": note.evaluate(
            "e => { const s = getComputedStyle(e);"
            " return [s.color, s.backgroundColor, s.paddingLeft, s.borderRadius]; }"
        ),
    }


def test_a_refused_form_reads_the_same_on_an_admin_page_and_an_on_call_page(browser, web_hub):
    person = {"timezone": "UTC", "contact_methods": []}
    assert web_hub.api.put("/api/v1/oncall/people/alice", json=person).status_code < 300
    context = browser.new_context(base_url=web_hub.url, **VIEWPORTS["desktop"])
    try:
        admin, oncall = context.new_page(), context.new_page()
        browser_sign_in(admin, "boss")
        admin.goto("/admin/tokens")
        oncall.goto("/people/alice")

        # Bad input: the service's reason, naming the field.
        admin.fill("input[name=name]", "reader")
        admin.select_option("select[name=scope]", "read")
        admin.fill("input[name=jobs]", "backup")
        admin.get_by_role("button", name="Create token").click()
        oncall.fill("#hours-form input[name=timezone]", "Mars/Olympus")
        oncall.locator("#hours-form").get_by_role("button", name="Save hours").click()
        bad_admin, bad_oncall = _problem(admin), _problem(oncall)
        assert bad_admin["field"] == "scope" and bad_oncall["field"] == "timezone"
        assert bad_admin["text"].startswith("scope: only ingest tokens can be limited")
        assert bad_oncall["text"].startswith("timezone: ")
        expect(admin.locator("input[name=name]")).to_have_value("reader")  # kept to fix

        # A managed object: the forms were open before the file took the objects over.
        admin.goto("/admin/users")
        oncall.goto("/people/alice")
        applied = web_hub.api.post("/api/v1/config/apply", json={"files": {"team.toml": TEAM_FILE}})
        assert applied.status_code == 200, applied.text
        admin.select_option("select[aria-label='role of ana']", "admin")
        admin.locator("#user-ana").get_by_role("button", name="Change role").click()
        oncall.locator("#hours-form").get_by_role("button", name="Save hours").click()
        managed_admin, managed_oncall = _problem(admin), _problem(oncall)
        assert managed_admin["text"] == f"name: users.ana {MANAGED}"
        assert managed_oncall["text"] == f"name: people.alice {MANAGED}"

        looks = [p | {"field": "", "text": ""} for p in (bad_admin, bad_oncall)]
        looks += [p | {"field": "", "text": ""} for p in (managed_admin, managed_oncall)]
        assert all(look == looks[0] for look in looks), looks
        assert looks[0]["role"] == "alert" and looks[0]["class"] == "problem"
    finally:
        context.close()
    users = web_hub.api.get("/api/v1/users").json()["users"]
    assert {u["username"]: u["role"] for u in users}["ana"] == "operator"
    tokens = web_hub.api.get("/api/v1/tokens").json()["tokens"]
    assert "reader" not in [t["name"] for t in tokens]
