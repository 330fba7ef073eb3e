"""The inbound writes that lean on the database, on SQLite and PostgreSQL alike:
redeliveries dropped by a unique key, builds turned into runs."""

from __future__ import annotations

from tests.chatops.test_inbound_hooks import (
    GITHUB_PUSH,
    github_post,
    integration,
    jenkins,
    messages,
)


def test_a_github_redelivery_is_dropped_on_every_backend(client):
    hook = integration(client, "github")
    assert github_post(client, hook, "push", GITHUB_PUSH, "d-9").json()["duplicate"] is False
    again = github_post(client, hook, "push", GITHUB_PUSH, "d-9")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    # The same body under a new id is a captured delivery replayed (issue 11, finding 10).
    replayed = github_post(client, hook, "push", GITHUB_PUSH, "d-10")
    assert replayed.status_code == 200 and replayed.json()["duplicate"] is True
    other = {**GITHUB_PUSH, "after": "f" * 40}
    assert github_post(client, hook, "push", other, "d-11").json()["posted"] == 1
    assert len(messages(client, "ci")) == 2


def test_a_jenkins_build_becomes_a_run_on_every_backend(client):
    hook = integration(client, "jenkins")
    assert client.post(hook["url"], json=jenkins("STARTED")).status_code == 200
    assert client.post(hook["url"], json=jenkins("COMPLETED", "SUCCESS")).status_code == 200
    [run] = client.get("/api/v1/runs", params={"job": "jenkins-shop-build"}).json()["runs"]
    assert run["status"] == "succeeded"


def test_a_queued_jenkins_build_is_a_queued_run_that_starts_and_finishes(client):
    hook = integration(client, "jenkins")

    def run() -> dict:
        [found] = client.get("/api/v1/runs", params={"job": "jenkins-shop-build"}).json()["runs"]
        return dict(found)

    def cards() -> list[str]:
        return [m["text"] for m in messages(client, "ci") if m["author"] == "thereyet"]

    assert client.post(hook["url"], json=jenkins("QUEUED")).status_code == 200
    queued = run()
    assert (queued["status"], queued["started_at"]) == ("queued", None)
    assert queued["id"].startswith("build-") and cards() == []
    assert client.post(hook["url"], json=jenkins("QUEUED")).status_code == 200  # a repeat
    assert client.post(hook["url"], json=jenkins("STARTED")).status_code == 200
    started = run()
    assert (started["id"], started["status"]) == (queued["id"], "running")
    assert started["started_at"] == "2026-03-02T09:00:00Z"
    assert cards() == ["**jenkins-shop-build** started"]
    assert client.post(hook["url"], json=jenkins("QUEUED")).status_code == 200  # late: ignored
    assert run()["status"] == "running"
    assert client.post(hook["url"], json=jenkins("COMPLETED", "ABORTED")).status_code == 200
    assert client.post(hook["url"], json=jenkins("FINALIZED", "ABORTED")).status_code == 200
    ended = run()
    assert (ended["id"], ended["status"]) == (queued["id"], "cancelled")
    assert len(cards()) == 2


def test_a_queued_jenkins_build_that_never_started_can_still_finish(client):
    hook = integration(client, "jenkins")
    assert client.post(hook["url"], json=jenkins("QUEUED")).status_code == 200
    assert client.post(hook["url"], json=jenkins("COMPLETED", "NOT_BUILT")).status_code == 200
    [run] = client.get("/api/v1/runs", params={"job": "jenkins-shop-build"}).json()["runs"]
    assert run["status"] == "cancelled"
