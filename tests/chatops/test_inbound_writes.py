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
    assert github_post(client, hook, "push", GITHUB_PUSH, "d-10").json()["posted"] == 1
    assert len(messages(client, "ci")) == 2


def test_a_jenkins_build_becomes_a_run_on_every_backend(client):
    hook = integration(client, "jenkins")
    assert client.post(hook["url"], json=jenkins("STARTED")).status_code == 200
    assert client.post(hook["url"], json=jenkins("COMPLETED", "SUCCESS")).status_code == 200
    [run] = client.get("/api/v1/runs", params={"job": "jenkins-shop-build"}).json()["runs"]
    assert run["status"] == "succeeded"
