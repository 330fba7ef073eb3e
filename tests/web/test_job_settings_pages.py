"""An admin sets a job's title, runbook and schedule from its page, or adds a job from /jobs."""

from __future__ import annotations

import httpx
import pytest

from tests.web.conftest import page_csrf, problem_on, sign_in

HTML = {"Accept": "text/html"}


@pytest.fixture
def admin(web_hub):
    with httpx.Client(base_url=web_hub.url, headers=HTML) as client:
        sign_in(client, "boss")
        yield client


def _post(client: httpx.Client, page_path: str, action: str, **fields: str) -> httpx.Response:
    csrf = page_csrf(client.get(page_path).text)
    return client.post(action, data={"csrf": csrf, **fields}, follow_redirects=False)


def _job(web_hub, name: str = "backup") -> dict:
    return web_hub.api.get(f"/api/v1/jobs/{name}").json()


def test_an_admin_sets_title_description_and_runbook_from_the_job_page(web_hub, admin):
    web_hub.api.post("/api/v1/jobs", json={"name": "backup"})
    answer = _post(
        admin,
        "/jobs/backup",
        "/jobs/backup/about",
        title="Nightly backup",
        description="Copies the database to the bucket",
        runbook_url="https://wiki.example.com/backup",
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/jobs/backup"
    job = _job(web_hub)
    assert (job["title"], job["runbook_url"]) == (
        "Nightly backup",
        "https://wiki.example.com/backup",
    )
    page = admin.get("/jobs/backup").text
    assert "Copies the database to the bucket" in page and 'rel="noopener">runbook<' in page


def test_a_bad_runbook_link_is_refused_naming_the_field_and_nothing_changes(web_hub, admin):
    web_hub.api.post("/api/v1/jobs", json={"name": "backup", "title": "Backup"})
    answer = _post(
        admin, "/jobs/backup", "/jobs/backup/about", title="Renamed", runbook_url="javascript:x"
    )
    assert answer.status_code == 422
    assert problem_on(answer.text).startswith("runbook_url: runbook_url")
    assert _job(web_hub)["title"] == "Backup"


def test_an_admin_schedules_a_job_from_its_page_and_sees_its_next_occurrences(web_hub, admin):
    web_hub.api.post("/api/v1/jobs", json={"name": "backup"})
    answer = _post(
        admin, "/jobs/backup", "/jobs/backup/schedule", schedule="30 2 * * *", timezone="UTC"
    )
    assert answer.status_code == 303
    page = admin.get("/jobs/backup").text
    schedule = page[page.index('id="schedule"') :].split("</dl>")[0]
    assert "30 2 * * * (UTC)" in schedule and schedule.count("02:30 UTC") == 3
    bad = _post(admin, "/jobs/backup", "/jobs/backup/schedule", schedule="61 * * * *")
    assert bad.status_code == 422 and problem_on(bad.text).startswith("schedule: ")
    assert web_hub.api.get("/api/v1/jobs/backup/schedule").json()["schedule"] == "30 2 * * *"


def test_only_admins_get_the_settings_forms_and_may_post_them(web_hub):
    web_hub.api.post("/api/v1/jobs", json={"name": "backup", "title": "Backup"})
    with httpx.Client(base_url=web_hub.url, headers=HTML) as ana:
        sign_in(ana, "ana")
        page = ana.get("/jobs/backup").text
        assert 'id="job-settings"' not in page and 'id="new-job"' not in ana.get("/jobs").text
        csrf = page_csrf(page)
        refused = ana.post("/jobs/backup/about", data={"csrf": csrf, "title": "Mine"})
        assert refused.status_code == 403
    assert _job(web_hub)["title"] == "Backup"


def test_a_job_managed_by_a_file_shows_its_file_and_refuses_the_forms(web_hub, admin):
    files = {"jobs.toml": '[jobs.backup]\nschedule = "0 3 * * *"\n'}
    applied = web_hub.api.post("/api/v1/config/apply", json={"files": files})
    assert applied.status_code == 200, applied.text
    page = admin.get("/jobs/backup").text
    assert 'id="managed"' in page and "<code>jobs.toml</code>" in page
    assert 'id="job-settings"' not in page
    refused = _post(admin, "/jobs/backup", "/jobs/backup/schedule", schedule="")
    assert refused.status_code == 409
    assert "jobs.backup is managed by the configuration file jobs.toml" in problem_on(refused.text)
    assert web_hub.api.get("/api/v1/jobs/backup/schedule").json()["schedule"] == "0 3 * * *"


def test_an_admin_adds_a_job_from_the_jobs_page(web_hub, admin):
    answer = _post(admin, "/jobs", "/jobs", name="billing", title="Monthly billing")
    assert answer.status_code == 303 and answer.headers["location"] == "/jobs/billing"
    assert _job(web_hub, "billing")["title"] == "Monthly billing"
    listed = admin.get("/jobs").text
    assert 'id="job-billing"' in listed and 'class="badge tone-idle">new<' in listed
    again = _post(admin, "/jobs", "/jobs", name="billing")
    assert again.status_code == 409 and problem_on(again.text).startswith("name: job")
    bad = _post(admin, "/jobs", "/jobs", name="Not A Name")
    assert bad.status_code == 422 and problem_on(bad.text).startswith("name: ")
