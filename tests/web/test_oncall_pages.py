"""The on-call pages over HTTP, on SQLite and PostgreSQL, with the hub's clock held still:
what they say, the forms that change things, what each role may do, bad input."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.web.conftest import add_user, page_csrf, problem_on, sign_in
from thereyet.server.clock import FakeClock
from thereyet.server.web.pages.times import work_days_text

# The clock fixture starts at Monday 2 March 2026, 09:00 UTC (10:00 in Paris).
PARIS_WEEKLY = {
    "timezone": "Europe/Paris",
    "start_date": "2026-03-02",
    "handoff": "09:00",
    "shift_hours": 168,
    "participants": ["ana", "bo"],
}


def ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def text_of(page: str) -> str:
    """What a person reads: tags dropped, entities decoded, spaces squeezed."""
    spaced = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    return re.sub(r" ([:,;)])", r"\1", spaced)


@pytest.fixture
def team(client: TestClient) -> TestClient:
    """ana (Paris) and bo (New York) on a weekly rotation, a policy paging it, a service."""
    for name, tz in (("ana", "Europe/Paris"), ("bo", "America/New_York")):
        ok(
            client.put(
                f"/api/v1/oncall/people/{name}",
                json={
                    "timezone": tz,
                    "contact_methods": [{"name": "push", "url": f"json://127.0.0.1:9/{name}"}],
                },
            )
        )
    ok(client.put("/api/v1/oncall/rotations/primary", json=PARIS_WEEKLY))
    step = {"targets": [{"kind": "rotation", "name": "primary"}], "delay_minutes": 15}
    ok(client.put("/api/v1/oncall/policies/default", json={"steps": [step]}))
    ok(client.put("/api/v1/oncall/services/payments", json={"room": "ops", "policy": "default"}))
    return client


ROLES = {"boss": "admin", "ops": "operator", "vic": "viewer"}


def as_person(client: TestClient, username: str) -> str:
    """Make the web user `username` (boss, ops or vic: their role), sign `client`'s cookie
    jar in as them; return a page's CSRF token."""
    add_user(client, username, ROLES[username])
    client.cookies.clear()
    sign_in(client, username)
    return page_csrf(client.get("/oncall").text)


def test_on_call_now_names_who_is_on_call_until_the_handover_and_who_is_next(
    team: TestClient, clock: FakeClock
):
    as_person(team, "vic")
    now = text_of(team.get("/oncall").text)
    assert "ana Until Mon 9 Mar 09:00 (in 6 d 23 h, Europe/Paris) Next bo" in now
    clock.advance(days=7)
    later = text_of(team.get("/oncall").text)
    assert "bo Until Mon 16 Mar 09:00 (in 6 d 23 h, Europe/Paris) Next ana" in later


def test_the_dashboard_shows_who_is_on_call_at_a_glance(team: TestClient):
    as_person(team, "vic")
    glance = re.search(r'<section [^>]*id="oc-glance".*?</section>', team.get("/").text, re.S)
    assert glance, "no on-call block on the dashboard"
    assert "primary: ana · hands over in 6 d 23 h to bo" in text_of(glance.group(0))


def test_an_override_from_the_rotation_page_changes_who_is_on_call_now(team: TestClient):
    csrf = as_person(team, "boss")
    answer = team.post(
        "/oncall/rotations/primary/overrides",
        data={
            "csrf": csrf,
            "person": "bo",
            "starts_at": "2026-03-02T08:00",  # Paris time: 07:00 UTC, before now
            "ends_at": "2026-03-03T12:00",
            "note": "ana at the dentist",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert ok(team.get("/api/v1/oncall/rotations/primary"))["on_call"] == "bo"
    rotation = text_of(team.get("/oncall/rotations/primary").text)
    assert "On call now: bo Until Tue 3 Mar 12:00" in rotation
    assert "Next ana" in rotation
    assert "ana at the dentist" in rotation


def test_a_swap_from_the_rotation_page_exchanges_two_shifts(team: TestClient):
    csrf = as_person(team, "boss")
    page = team.get("/oncall/rotations/primary").text
    options = re.findall(r'<option value="([^"]+)"', page)
    first, second = options[0], options[1]  # this week's shift (ana) and the next (bo)
    answer = team.post(
        "/oncall/rotations/primary/swaps",
        data={"csrf": csrf, "first": first, "second": second},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    view = ok(team.get("/api/v1/oncall/rotations/primary?days=14"))
    assert view["on_call"] == "bo"
    assert [s["person"] for s in view["upcoming"][:2]] == ["bo", "ana"]


def test_an_override_ending_before_it_starts_is_refused_naming_the_field(team: TestClient):
    csrf = as_person(team, "boss")
    answer = team.post(
        "/oncall/rotations/primary/overrides",
        data={
            "csrf": csrf,
            "person": "bo",
            "starts_at": "2026-03-03T08:00",
            "ends_at": "2026-03-02T08:00",
        },
    )
    assert answer.status_code == 422
    assert problem_on(answer.text) == "ends_at: ends_at must be after starts_at"
    assert ok(team.get("/api/v1/oncall/rotations/primary"))["overrides"] == []


@pytest.mark.parametrize(
    ("path", "form", "problem"),
    [
        (
            "/oncall/rotations/primary/overrides",
            {"person": "bo", "starts_at": "tomorrow", "ends_at": "2026-03-03T08:00"},
            "starts_at: starts_at must be a date and time (YYYY-MM-DDTHH:MM)",
        ),
        (
            "/oncall/rotations",
            {"name": "night", "timezone": "Mars/Olympus", "start_date": "2026-03-02"}
            | {"handoff": "09:00", "shift_hours": "24", "participants": "ana"},
            "timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            "/oncall/rotations",
            {"name": "night", "timezone": "UTC", "start_date": "2026-03-02"}
            | {"handoff": "09:00", "shift_hours": "a day", "participants": "ana"},
            "shift_hours: shift_hours must be a whole number",
        ),
        (
            "/policies",
            {"name": "loud", "targets_0": "rotation:primary pager:all", "delay_0": "5"},
            "steps.0.targets: 'pager:all' is not a target: "
            "write rotation:NAME, person:NAME or channel:NAME",
        ),
        (
            "/policies",
            {"name": "loud", "targets_0": "person:nobody", "delay_0": "5"},
            "steps.0.targets.0.name: no person named 'nobody'",
        ),
        (
            "/services",
            {"name": "web", "runbook_url": "javascript:alert(1)"},
            "runbook_url: runbook_url must be an http:// or https:// URL with a host",
        ),
        (
            "/people",
            {"name": "cy", "timezone": "UTC", "work_start": "18:00", "work_end": "09:00"},
            "work_end: work_start must be before work_end",
        ),
        (
            "/people/ana/methods",
            {"method": "pager", "url": "not a url"},
            "contact_methods: contact method must be an Apprise URL Apprise knows",
        ),
    ],
)
def test_a_bad_form_value_is_answered_with_the_page_naming_the_field(
    team: TestClient, path: str, form: dict[str, str], problem: str
):
    csrf = as_person(team, "boss")
    before = [ok(team.get(f"/api/v1/oncall/{kind}")) for kind in ("rotations", "policies")]
    answer = team.post(path, data={"csrf": csrf, **form}, headers={"Accept": "text/html"})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert problem_on(answer.text) == problem
    after = [ok(team.get(f"/api/v1/oncall/{kind}")) for kind in ("rotations", "policies")]
    assert after == before


def test_a_viewer_reads_every_on_call_page_but_gets_no_forms_and_may_not_post(
    team: TestClient,
):
    csrf = as_person(team, "vic")
    for path in ("/oncall", "/oncall/rotations/primary", "/people", "/people/ana"):
        page = team.get(path)
        assert page.status_code == 200, path
        assert '<form method="post" action="/oncall' not in page.text
        assert "Send a test" not in page.text
    for path in ("/policies", "/policies/default", "/services", "/services/payments", "/reports"):
        assert team.get(path).status_code == 200, path
    refused = team.post(
        "/oncall/rotations/primary/overrides",
        data={"csrf": csrf, "person": "bo", "starts_at": "2026-03-02T08:00"},
    )
    assert refused.status_code == 403
    assert ok(team.get("/api/v1/oncall/rotations/primary"))["overrides"] == []


def test_an_operator_acknowledges_but_may_not_change_the_rotation(team: TestClient):
    opened = ok(team.post("/api/v1/incidents", json={"service": "payments", "summary": "down"}))
    csrf = as_person(team, "ops")
    acked = team.post(
        f"/incidents/{opened['id']}",
        data={"csrf": csrf, "action": "acknowledge", "back": "incident"},
        follow_redirects=False,
    )
    assert (acked.status_code, acked.headers["location"]) == (303, f"/incidents/{opened['id']}")
    assert ok(team.get(f"/api/v1/incidents/{opened['id']}"))["acknowledged_by"] == "ops"
    page = text_of(team.get(f"/incidents/{opened['id']}").text)
    assert "acknowledged by ops" in page
    refused = team.post("/people/ana/methods/push/test", data={"csrf": csrf})
    assert refused.status_code == 403


def test_reassigning_pages_the_chosen_person_and_the_timeline_says_who_did_it(
    team: TestClient,
):
    opened = ok(team.post("/api/v1/incidents", json={"service": "payments", "summary": "down"}))
    csrf = as_person(team, "ops")
    answer = team.post(
        f"/incidents/{opened['id']}",
        data={"csrf": csrf, "action": "reassign", "person": "bo", "back": "incident"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    view = ok(team.get(f"/api/v1/incidents/{opened['id']}"))
    assert [p["person"] for p in view["pages"]] == ["ana", "bo"]
    assert [d["method"] for d in view["pages"][1]["deliveries"]] == ["push"]
    assert view["status"] == "triggered"
    page = text_of(team.get(f"/incidents/{opened['id']}").text)
    assert "paged step 1: ana" in page
    assert "reassigned to bo by ops" in page
    unknown = team.post(
        f"/incidents/{opened['id']}",
        data={"csrf": csrf, "action": "reassign", "person": "nobody"},
        headers={"Accept": "text/html"},
    )
    assert unknown.status_code == 422
    assert "no person named &#39;nobody&#39;" in unknown.text


def test_the_report_counts_out_of_hours_pages_in_each_persons_own_time_zone(
    team: TestClient,
):
    # 09:00 UTC: 10:00 for ana in Paris (working hours), 04:00 for bo in New York (not).
    opened = ok(team.post("/api/v1/incidents", json={"service": "payments", "summary": "down"}))
    as_person(team, "ops")
    csrf = page_csrf(team.get(f"/incidents/{opened['id']}").text)
    team.post(
        f"/incidents/{opened['id']}", data={"csrf": csrf, "action": "reassign"} | {"person": "bo"}
    )
    report = team.get("/reports?month=2026-03&target=0")
    rows = {
        text_of(r).split()[0]: text_of(r).split()
        for r in re.findall(r"<tr class=.*?</tr>", report.text, re.S)
    }
    assert rows["ana"][:5] == ["ana", "Europe/Paris", "1", "1", "0"]
    assert rows["bo"][:6] == ["bo", "America/New_York", "1", "0", "1", "over"]
    assert 'href="/api/v1/oncall/reports/2026-03/csv?target=0"' in report.text
    csv = team.get("/api/v1/oncall/reports/2026-03/csv?target=0")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "bo" in csv.text


def test_a_month_that_is_not_a_month_is_refused_naming_the_field(team: TestClient):
    as_person(team, "vic")
    answer = team.get("/reports?month=2026-13", headers={"Accept": "text/html"})
    assert answer.status_code == 422
    assert "month must be YYYY-MM, like 2026-03" in answer.text


def test_a_test_to_an_unknown_contact_method_is_refused_and_nothing_is_queued(
    team: TestClient,
):
    csrf = as_person(team, "boss")
    answer = team.post("/people/ana/methods/pager/test", data={"csrf": csrf})
    assert answer.status_code == 422
    assert problem_on(answer.text) == "method: ana has no contact method 'pager'"
    assert ok(team.get("/api/v1/deliveries?channel=@ana/push"))["deliveries"] == []


def test_a_contact_method_added_from_the_page_keeps_the_others_and_their_rules(
    team: TestClient,
):
    csrf = as_person(team, "boss")
    added = team.post(
        "/people/ana/methods",
        data={"csrf": csrf, "method": "sms", "url": "json://127.0.0.1:9/sms", "after_minutes": "5"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    ana = ok(team.get("/api/v1/oncall/people/ana"))
    assert [m["name"] for m in ana["contact_methods"]] == ["push", "sms"]
    assert ana["rules"] == [
        {"method": "push", "after_minutes": 0},
        {"method": "sms", "after_minutes": 5},
    ]
    removed = team.post("/people/ana/methods/push/delete", data={"csrf": csrf})
    assert removed.status_code == 200  # the redirect, followed
    ana = ok(team.get("/api/v1/oncall/people/ana"))
    assert [m["name"] for m in ana["contact_methods"]] == ["sms"]
    assert ana["rules"] == [{"method": "sms", "after_minutes": 5}]


TEAM_FILE = """
[rooms.ops]

[people.alice]
timezone = "Europe/Paris"
contact_methods = { email = "mailto://alice@example.com" }

[rotations.managed]
timezone = "UTC"
start_date = 2026-01-05
participants = ["alice"]

[escalation_policies.filed]
steps = [{ targets = [{ kind = "rotation", name = "managed" }] }]

[services.filed]
room = "ops"
policy = "filed"
"""


def test_objects_from_configuration_files_show_read_only_with_their_file(team: TestClient):
    ok(team.post("/api/v1/config/apply", json={"files": {"team.toml": TEAM_FILE}}))
    csrf = as_person(team, "boss")
    person = team.get("/people/alice").text
    assert "Managed by the configuration file team.toml" in text_of(person)
    assert 'action="/people/alice/hours"' not in person
    assert "Send a test" in person  # a test changes nothing in the file
    rotation = team.get("/oncall/rotations/managed").text
    assert "Managed by the configuration file team.toml" in text_of(rotation)
    assert 'action="/oncall/rotations/managed"' not in rotation
    for path in ("/policies/filed", "/services/filed"):
        page = team.get(path).text
        assert "Managed by the configuration file team.toml" in text_of(page), path
        assert f'action="{path}"' not in page, path
    refused = team.post(
        "/people/alice/hours",
        data={"csrf": csrf, "timezone": "UTC", "work_start": "08:00", "work_end": "16:00"},
    )
    assert refused.status_code == 409
    assert "managed by the configuration file team.toml" in problem_on(refused.text)
    assert ok(team.get("/api/v1/oncall/people/alice"))["timezone"] == "Europe/Paris"
    service = team.post("/services/filed", data={"csrf": csrf, "room": "elsewhere"})
    assert service.status_code == 409
    services = ok(team.get("/api/v1/oncall/services"))["services"]
    assert {s["name"]: s["room"] for s in services}["filed"] == "ops"


def test_a_form_without_the_pages_csrf_token_changes_nothing(team: TestClient):
    as_person(team, "boss")
    answer = team.post(
        "/oncall/rotations/primary/overrides",
        data={"csrf": "forged", "person": "bo", "starts_at": "2026-03-02T08:00"}
        | {"ends_at": "2026-03-03T08:00"},
    )
    assert answer.status_code == 403
    assert ok(team.get("/api/v1/oncall/rotations/primary"))["overrides"] == []


def test_pages_for_what_does_not_exist_answer_404(team: TestClient):
    as_person(team, "vic")
    for path in ("/oncall/rotations/nope", "/people/nope", "/policies/nope", "/services/nope"):
        assert team.get(path).status_code == 404, path
    assert team.get("/incidents/999").status_code == 404


@pytest.mark.parametrize(
    ("days", "said"),
    [
        ([0, 1, 2, 3, 4], "Mon\u2013Fri"),
        ([0, 1, 2, 5], "Mon\u2013Wed, Sat"),
        ([5, 6], "Sat, Sun"),
        ([], "no days"),
    ],
)
def test_working_days_read_as_ranges(days: list[int], said: str):
    assert work_days_text(days) == said


def test_an_admin_sets_up_on_call_from_the_forms_alone(team: TestClient):
    csrf = as_person(team, "boss")

    def post(path: str, **form: str | list[str]) -> str:
        answer = team.post(path, data={"csrf": csrf, **form}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        return str(answer.headers["location"])

    hours = {"timezone": "Asia/Tokyo", "work_start": "10:00", "work_end": "18:00"}
    assert post("/people", name="cy", work_days=["0", "1", "2"], **hours) == "/people/cy"
    post("/people/cy/methods", method="push", url="json://127.0.0.1:9/cy", after_minutes="0")
    rotation = {"timezone": "Asia/Tokyo", "start_date": "2026-03-02", "handoff": "10:00"}
    location = post(
        "/oncall/rotations", name="night", shift_hours="24", participants=["cy", "bo"], **rotation
    )
    assert location == "/oncall/rotations/night"
    policy = {"targets_0": "rotation:night", "delay_0": "10", "targets_1": "person:ana"}
    assert post("/policies", name="nightly", repeat="2", **policy) == "/policies/nightly"
    service = {"room": "night-ops", "policy": "nightly", "require_runbook": "on"}
    assert post("/services", name="batch", **service | {"runbook_url": "https://wiki/b"})
    cy = ok(team.get("/api/v1/oncall/people/cy"))
    assert (cy["timezone"], cy["work_days"], cy["work_start"]) == ("Asia/Tokyo", [0, 1, 2], "10:00")
    night = ok(team.get("/api/v1/oncall/rotations/night"))
    assert (night["participants"], night["shift_hours"]) == (["cy", "bo"], 24)
    [nightly] = [p for p in ok(team.get("/api/v1/oncall/policies"))["policies"] if p["repeat"]]
    assert [(s["targets"], s["delay_minutes"]) for s in nightly["steps"]] == [
        ([{"kind": "rotation", "name": "night"}], 10),
        ([{"kind": "person", "name": "ana"}], 15),
    ]
    [batch] = [
        s for s in ok(team.get("/api/v1/oncall/services"))["services"] if s["name"] == "batch"
    ]
    assert (batch["policy"], batch["require_runbook"], batch["room"]) == (
        "nightly",
        True,
        "night-ops",
    )
