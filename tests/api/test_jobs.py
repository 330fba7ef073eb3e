"""Jobs made and changed through the API: title, description and runbook link."""

from __future__ import annotations

import pytest

from tests.api.test_auth import make_token
from tests.conftest import as_token


def test_a_job_is_made_with_its_runbook_and_shown_with_it(client):
    body = {"name": "nightly-backup", "runbook_url": "https://wiki.example.com/backup"}
    made = client.post("/api/v1/jobs", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["runbook_url"] == "https://wiki.example.com/backup"
    assert made.json()["title"] == "Nightly backup"
    shown = client.get("/api/v1/jobs/nightly-backup").json()
    assert shown["runbook_url"] == "https://wiki.example.com/backup"
    again = client.post("/api/v1/jobs", json={"name": "nightly-backup"})
    assert again.status_code == 409 and again.json()["field"] == "name"


def test_patch_changes_only_what_it_names_and_null_removes_the_runbook(client):
    assert client.post("/api/v1/runs", json={"job": "export", "room": "ops"}).status_code == 201
    changed = client.patch(
        "/api/v1/jobs/export",
        json={"runbook_url": "http://runbooks.internal/export", "title": "Customer export"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["rooms"] == ["ops"] and changed.json()["run_count"] == 1
    described = client.patch("/api/v1/jobs/export", json={"description": "Nightly CSV"}).json()
    assert described["runbook_url"] == "http://runbooks.internal/export"
    assert described["title"] == "Customer export"
    assert described["description"] == "Nightly CSV"
    cleared = client.patch("/api/v1/jobs/export", json={"runbook_url": None}).json()
    assert cleared["runbook_url"] is None and cleared["title"] == "Customer export"
    listed = {j["name"]: j for j in client.get("/api/v1/jobs").json()["jobs"]}
    assert listed["export"]["description"] == "Nightly CSV"


@pytest.mark.parametrize(
    "url,reason",
    [
        ("ftp://wiki/backup", "http:// or https://"),
        ("wiki.example.com/backup", "http:// or https://"),
        ("https://", "with a host"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https://wiki/a b", "spaces"),
        ("https://wiki/" + "x" * 2000, "at most 2000 characters"),
    ],
)
def test_a_bad_runbook_url_is_refused_naming_the_field(client, url, reason):
    assert client.post("/api/v1/jobs", json={"name": "backup"}).status_code == 201
    response = client.patch("/api/v1/jobs/backup", json={"runbook_url": url})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "runbook_url"
    assert reason in response.json()["error"]
    made = client.post("/api/v1/jobs", json={"name": "other", "runbook_url": url})
    assert made.status_code == 422 and made.json()["field"] == "runbook_url"
    assert client.get("/api/v1/jobs/backup").json()["runbook_url"] is None
    assert "other" not in [j["name"] for j in client.get("/api/v1/jobs").json()["jobs"]]


def test_other_bad_job_changes_name_their_field(client):
    assert client.post("/api/v1/jobs", json={"name": "backup"}).status_code == 201
    for body, field in (
        ({"title": None}, "title"),
        ({"title": ""}, "title"),
        ({"surprise": 1}, "surprise"),
        ({"runbook_url": 5}, "runbook_url"),
    ):
        response = client.patch("/api/v1/jobs/backup", json=body)
        assert response.status_code == 422, body
        assert response.json()["field"] == field, body
    bad_name = client.post("/api/v1/jobs", json={"name": "Not A Name"})
    assert bad_name.status_code == 422 and bad_name.json()["field"] == "name"
    missing = client.patch("/api/v1/jobs/ghost", json={"runbook_url": "https://wiki/x"})
    assert missing.status_code == 404


def test_only_admins_change_jobs(client):
    assert client.post("/api/v1/jobs", json={"name": "backup"}).status_code == 201
    for scope in ("read", "ingest"):
        headers = as_token(client, make_token(client, scope))
        body = {"runbook_url": "https://evil.example.com"}
        assert client.patch("/api/v1/jobs/backup", json=body, headers=headers).status_code == 403
        made = client.post("/api/v1/jobs", json={"name": "mine"}, headers=headers)
        assert made.status_code == 403
    assert client.get("/api/v1/jobs/backup").json()["runbook_url"] is None
