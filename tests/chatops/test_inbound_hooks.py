"""Inbound integrations with the payloads the real tools send, and what they refuse."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.chatops.conftest import messages, texts
from tests.conftest import ADMIN_TOKEN, make_settings
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock

_CLOCK = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
_ROOMS = itertools.count(1)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One hub (SQLite) for the module: payload shapes do not depend on the backend, and
    test_inbound_writes.py runs the writes that do (deliveries, runs) on both."""
    data_dir = tmp_path_factory.mktemp("inbound")
    app = create_app(make_settings(f"sqlite:///{data_dir / 'hub.db'}", data_dir), _CLOCK)
    with TestClient(app, raise_server_exceptions=False) as shared:
        shared.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        yield shared


@pytest.fixture
def clock() -> FakeClock:
    return _CLOCK


@pytest.fixture
def room() -> str:
    """A room of this test's own in the shared hub."""
    return f"ci-{next(_ROOMS)}"


def integration(client: TestClient, fmt: str, room: str = "ci", **extra: Any) -> dict[str, Any]:
    name = f"{fmt}-{room}"
    response = client.post(
        "/api/v1/integrations", json={"name": name, "format": fmt, "room": room, **extra}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def github_sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# -- Slack-compatible ---------------------------------------------------------------------

ALERTMANAGER_SLACK = {
    "channel": "#ops",
    "username": "Alertmanager",
    "attachments": [
        {
            "title": "[FIRING:1] DiskFull",
            "title_link": "http://am.local/#/alerts?receiver=hub",
            "text": "Disk / on db-1 is 97% full",
            "fallback": "[FIRING:1] DiskFull | http://am.local",
            "color": "danger",
            "mrkdwn_in": ["fallback", "pretext", "text"],
        }
    ],
}


def test_a_slack_attachment_is_rendered_and_firing_and_resolved_share_a_thread(client, room):
    hook = integration(client, "slack", room)
    response = client.post(hook["url"], json=ALERTMANAGER_SLACK)
    assert (response.status_code, response.text) == (200, "ok")
    resolved = json.loads(json.dumps(ALERTMANAGER_SLACK).replace("FIRING:1", "RESOLVED"))
    resolved["attachments"][0]["color"] = "good"
    assert client.post(hook["url"], json=resolved).status_code == 200
    first, second = messages(client, room)
    assert first["author"] == hook["name"]
    assert "**[[FIRING:1] DiskFull](http://am.local/#/alerts?receiver=hub)**" in first["text"]
    assert "Disk / on db-1 is 97% full" in first["text"]
    assert first["data"]["color"] == "danger" and second["data"]["color"] == "good"
    assert first["data"]["thread"] == second["data"]["thread"] == "slack:DiskFull"


def test_slack_form_posts_fields_and_blocks_are_read_as_text(client, room):
    hook = integration(client, "slack", room)
    payload = {
        "text": "Deploy <https://ci.local/1|#1> done",
        "attachments": [{"fields": [{"title": "env", "value": "prod", "short": True}]}],
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Release 2.3"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "All *green*"}},
            {"type": "divider"},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "by ci"}]},
        ],
    }
    response = client.post(hook["url"], data={"payload": json.dumps(payload)})
    assert response.status_code == 200, response.text
    [text] = texts(client, room)
    assert text.splitlines() == [
        "Deploy [#1](https://ci.local/1) done",
        "- env: prod",
        "**Release 2.3**",
        "All *green*",
        "---",
        "by ci",
    ]


def test_the_mattermost_path_without_a_format_is_slack(client, room):
    hook = integration(client, "slack", room)
    token = hook["url"].rsplit("/", 1)[1]
    assert client.post(f"/hooks/{token}", json={"text": "hi from apprise"}).status_code == 200
    assert texts(client, room) == ["hi from apprise"]


@pytest.mark.parametrize(
    ("body", "kwargs", "field"),
    [
        (b"{not json", {"headers": {"content-type": "application/json"}}, "body"),
        (b"", {"headers": {"content-type": "application/json"}}, "body"),
        (b"[1, 2]", {"headers": {"content-type": "application/json"}}, "body"),
        (b'{"username": "x"}', {"headers": {"content-type": "application/json"}}, "text"),
        (
            b'{"attachments": "no"}',
            {"headers": {"content-type": "application/json"}},
            "attachments",
        ),
        (b"text=hi", {"headers": {"content-type": "application/x-www-form-urlencoded"}}, "payload"),
        (b"\xff\xfe", {"headers": {"content-type": "application/json"}}, "body"),
    ],
)
def test_a_broken_slack_body_is_a_4xx_naming_the_field_and_a_note_for_the_owner(
    client, room, body, kwargs, field
):
    hook = integration(client, "slack", room)
    response = client.post(hook["url"], content=body, **kwargs)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    [note] = messages(client, room)
    assert note["author"] == "thereyet" and note["data"]["refused"] is True
    assert note["text"].startswith(f"admin: integration **{hook['name']}** refused a delivery")
    [listed] = [
        i
        for i in client.get("/api/v1/integrations").json()["integrations"]
        if i["name"] == hook["name"]
    ]
    assert listed["rejected"] == 1 and listed["last_error"].startswith(field)


def test_refusals_are_noted_in_the_room_at_most_every_ten_minutes(client, room, clock):
    hook = integration(client, "slack", room)
    for _ in range(3):
        assert client.post(hook["url"], content=b"{").status_code == 422
    assert len(messages(client, room)) == 1
    clock.advance(minutes=10)
    assert client.post(hook["url"], content=b"{").status_code == 422
    assert len(messages(client, room)) == 2
    listed = client.get("/api/v1/integrations").json()["integrations"]
    assert [i["rejected"] for i in listed if i["name"] == hook["name"]] == [4]


def test_an_unknown_token_or_the_wrong_format_is_404_and_writes_nothing(client, room):
    hook = integration(client, "slack", room)
    token = hook["url"].rsplit("/", 1)[1]
    assert client.post("/hooks/slack/nope", json={"text": "x"}).status_code == 404
    assert client.post(f"/hooks/github/{token}", json={"text": "x"}).status_code == 404
    assert client.post(f"/hooks/nosuch/{token}", json={"text": "x"}).status_code == 404
    assert messages(client, room) == []


# -- GitHub -----------------------------------------------------------------------------

REPO = {"full_name": "acme/shop", "html_url": "https://github.com/acme/shop"}
GITHUB_PUSH = {
    "ref": "refs/heads/main",
    "before": "a" * 40,
    "after": "b" * 40,
    "compare": "https://github.com/acme/shop/compare/aaaaaaa...bbbbbbb",
    "commits": [
        {"id": "b" * 40, "message": "Fix checkout totals\n\nLong body", "author": {"name": "Ann"}},
    ],
    "pusher": {"name": "ann", "email": "ann@example.com"},
    "repository": REPO,
    "sender": {"login": "ann"},
}
GITHUB_PR = {
    "action": "opened",
    "number": 42,
    "pull_request": {
        "number": 42,
        "title": "Faster search",
        "html_url": "https://github.com/acme/shop/pull/42",
        "user": {"login": "ann"},
        "merged": False,
    },
    "repository": REPO,
    "sender": {"login": "ann"},
}
GITHUB_WORKFLOW = {
    "action": "completed",
    "workflow_run": {
        "id": 30433642,
        "name": "CI",
        "head_branch": "main",
        "status": "completed",
        "conclusion": "failure",
        "html_url": "https://github.com/acme/shop/actions/runs/30433642",
    },
    "repository": REPO,
    "sender": {"login": "ann"},
}


def github_post(client, hook, event, payload, delivery="d-1", secret=None):
    body = json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": delivery,
        "x-hub-signature-256": github_sign(secret or hook["secret"], body),
    }
    return client.post(hook["url"], content=body, headers=headers)


def test_github_push_pull_request_and_workflow_run_are_posted(client, room):
    hook = integration(client, "github", room)
    assert github_post(client, hook, "push", GITHUB_PUSH, "d-1").status_code == 200
    assert github_post(client, hook, "pull_request", GITHUB_PR, "d-2").status_code == 200
    closed = {**GITHUB_PR, "action": "closed"}
    closed["pull_request"] = {**GITHUB_PR["pull_request"], "merged": True}
    assert github_post(client, hook, "pull_request", closed, "d-3").status_code == 200
    assert github_post(client, hook, "workflow_run", GITHUB_WORKFLOW, "d-4").status_code == 200
    push, opened, merged, workflow = messages(client, room)
    assert push["text"].startswith("**ann** pushed 1 commit to acme/shop `main`")
    assert "`bbbbbbb` Fix checkout totals" in push["text"]
    assert opened["text"] == (
        "**ann** opened pull request [acme/shop#42](https://github.com/acme/shop/pull/42): "
        "Faster search"
    )
    assert merged["text"].startswith("**ann** merged pull request")
    assert opened["data"]["thread"] == merged["data"]["thread"] == "github:acme/shop:pr:42"
    assert workflow["text"].endswith("on acme/shop `main`: failure")


def test_a_github_redelivery_is_dropped(client, room):
    hook = integration(client, "github", room)
    assert github_post(client, hook, "push", GITHUB_PUSH, "d-9").json()["duplicate"] is False
    again = github_post(client, hook, "push", GITHUB_PUSH, "d-9")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert len(messages(client, room)) == 1


def test_github_ping_says_the_webhook_is_connected(client, room):
    hook = integration(client, "github", room)
    # What GitHub sends when a webhook is created (trimmed from its docs).
    ping = {"zen": "Design for failure.", "hook_id": 30, "repository": {"full_name": "acme/shop"}}
    assert github_post(client, hook, "ping", ping, "d-ping").status_code == 200
    assert texts(client, room) == ["GitHub webhook connected for acme/shop: Design for failure."]


def test_github_signatures_are_checked(client, room):
    hook = integration(client, "github", room, secret="s3cret-s3cret-s3cret")
    assert hook["secret"] == "s3cret-s3cret-s3cret"
    wrong = github_post(client, hook, "push", GITHUB_PUSH, secret="not-the-secret-at-all")
    assert wrong.status_code == 401 and wrong.json()["field"] == "signature"
    body = json.dumps(GITHUB_PUSH).encode()
    unsigned = client.post(hook["url"], content=body, headers={"x-github-event": "push"})
    assert unsigned.status_code == 401
    # A signed body changed on the way is refused too.
    headers = {"x-github-event": "push", "x-hub-signature-256": github_sign(hook["secret"], body)}
    tampered = client.post(hook["url"], content=body.replace(b"ann", b"eve"), headers=headers)
    assert tampered.status_code == 401
    [note] = texts(client, room)  # one note, no payload
    assert "X-Hub-Signature-256 is missing" in note or "does not match" in note
    assert "s3cret" not in json.dumps(client.get("/api/v1/integrations").json())


def test_a_signed_but_broken_github_payload_is_refused_whole(client, room):
    hook = integration(client, "github", room)
    broken = {**GITHUB_PR, "pull_request": {"number": 42}}  # no title
    response = github_post(client, hook, "pull_request", broken)
    assert response.status_code == 422 and response.json()["field"] == "pull_request.title"
    again = github_post(client, hook, "pull_request", GITHUB_PR)  # the id was not used up
    assert again.status_code == 200 and again.json()["posted"] == 1


# -- GitLab -----------------------------------------------------------------------------

PROJECT = {"path_with_namespace": "acme/api", "web_url": "https://gitlab.local/acme/api"}
GITLAB_PUSH = {
    "object_kind": "push",
    "ref": "refs/heads/main",
    "user_name": "Bo",
    "user_username": "bo",
    "total_commits_count": 2,
    "commits": [
        {"id": "c" * 40, "message": "Add rate limits"},
        {"id": "d" * 40, "message": "Tidy"},
    ],
    "project": PROJECT,
}
GITLAB_MR = {
    "object_kind": "merge_request",
    "user": {"username": "bo"},
    "project": PROJECT,
    "object_attributes": {
        "iid": 7,
        "title": "Rate limits",
        "state": "opened",
        "action": "open",
        "url": "https://gitlab.local/acme/api/-/merge_requests/7",
    },
}
GITLAB_PIPELINE = {
    "object_kind": "pipeline",
    "project": PROJECT,
    "object_attributes": {"id": 31, "status": "success", "ref": "main"},
}


def gitlab_post(client, hook, payload, token=None, event_uuid=None):
    headers = {"x-gitlab-token": token or hook["secret"], "x-gitlab-event": "Push Hook"}
    if event_uuid:
        headers["x-gitlab-event-uuid"] = event_uuid
    return client.post(hook["url"], json=payload, headers=headers)


def test_gitlab_push_merge_request_and_pipeline_are_posted(client, room):
    hook = integration(client, "gitlab", room)
    for payload in (GITLAB_PUSH, GITLAB_MR, GITLAB_PIPELINE):
        assert gitlab_post(client, hook, payload).status_code == 200
    push, mr, pipeline = messages(client, room)
    assert push["text"].startswith("**bo** pushed 2 commits to acme/api `main`")
    assert mr["text"] == (
        "**bo** open merge request [acme/api!7](https://gitlab.local/acme/api/-/merge_requests/7)"
        ": Rate limits"
    )
    assert pipeline["text"].endswith("on acme/api `main`: success")
    assert pipeline["data"]["thread"] == "gitlab:acme/api:pipeline:31"


def test_gitlab_tag_pushes_and_tag_deletions_are_posted(client, room):
    hook = integration(client, "gitlab", room)
    # A "Tag Push Hook" as GitLab's webhook docs show it (trimmed).
    tag = {
        "object_kind": "tag_push",
        "before": "0" * 40,
        "after": "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
        "ref": "refs/tags/v1.0.0",
        "user_name": "Bo",
        "user_username": "bo",
        "total_commits_count": 0,
        "commits": [],
        "project": PROJECT,
    }
    deleted = {**tag, "before": tag["after"], "after": "0" * 40}
    for payload in (tag, deleted):
        answer = client.post(
            hook["url"],
            json=payload,
            headers={"x-gitlab-token": hook["secret"], "x-gitlab-event": "Tag Push Hook"},
        )
        assert answer.status_code == 200, answer.text
    assert texts(client, room) == [
        "**bo** pushed tag `v1.0.0` to acme/api",
        "**bo** deleted tag `v1.0.0` from acme/api",
    ]


def test_gitlab_tokens_are_checked_and_kept_only_as_a_hash(client, room):
    hook = integration(client, "gitlab", room)
    assert gitlab_post(client, hook, GITLAB_PUSH, token="wrong").status_code == 401
    no_token = client.post(hook["url"], json=GITLAB_PUSH)
    assert no_token.status_code == 401
    assert gitlab_post(client, hook, {"object_kind": "push"}).status_code == 422
    assert texts(client, room)[0].startswith(f"admin: integration **{hook['name']}** refused")
    assert len(texts(client, room)) == 1
    [listed] = [
        i
        for i in client.get("/api/v1/integrations").json()["integrations"]
        if i["name"] == hook["name"]
    ]
    assert listed["has_secret"] and hook["secret"] not in str(listed)


# -- Jenkins ----------------------------------------------------------------------------


def jenkins(phase: str, status: str | None = None) -> dict[str, Any]:
    build: dict[str, Any] = {
        "full_url": "http://jenkins.local/job/shop-build/18/",
        "number": 18,
        "queue_id": 491,
        "phase": phase,
        "url": "job/shop-build/18/",
        "scm": {
            "url": "https://github.com/acme/shop",
            "branch": "origin/main",
            "commit": "c6d86dc7",
        },
        "log": "",
        "artifacts": {},
    }
    if status:
        build["status"] = status
    return {"name": "Shop Build", "url": "job/shop-build/", "build": build}


def test_a_jenkins_build_in_progress_is_a_run_and_its_phases_share_a_thread(client, room):
    hook = integration(client, "jenkins", room)
    runs = {"job": "jenkins-shop-build", "room": room}
    assert client.post(hook["url"], json=jenkins("QUEUED")).status_code == 200
    [run] = client.get("/api/v1/runs", params=runs).json()["runs"]
    assert (run["status"], run["trigger"], run["started_at"]) == ("queued", "jenkins", None)
    assert client.post(hook["url"], json=jenkins("STARTED")).status_code == 200
    [run] = client.get("/api/v1/runs", params=runs).json()["runs"]
    assert (run["status"], run["trigger"]) == ("running", "jenkins")
    assert client.post(hook["url"], json=jenkins("COMPLETED", "FAILURE")).status_code == 200
    assert client.post(hook["url"], json=jenkins("FINALIZED", "FAILURE")).status_code == 200
    run = client.get(f"/api/v1/runs/{run['id']}").json()
    assert run["status"] == "failed"
    threads = {m["data"]["thread"] for m in messages(client, room) if m["author"] == hook["name"]}
    assert threads == {"jenkins:Shop Build#18"}
    hook_texts = [m["text"] for m in messages(client, room) if m["author"] == hook["name"]]
    assert hook_texts[1] == (
        "Jenkins [Shop Build #18](http://jenkins.local/job/shop-build/18/) started "
        "(origin/main c6d86dc7)"
    )
    assert hook_texts[0] == (
        "Jenkins [Shop Build #18](http://jenkins.local/job/shop-build/18/) queued "
        "(origin/main c6d86dc7)"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "build": {"number": 1, "phase": "DANCING"}}, "build.phase"),
        (
            {"name": "x", "build": {"number": 1, "phase": "COMPLETED", "status": "??"}},
            "build.status",
        ),
        ({"build": {"number": 1, "phase": "STARTED"}}, "name"),
        ({"name": "x", "build": {"number": "one", "phase": "STARTED"}}, "build.number"),
    ],
)
def test_a_broken_jenkins_payload_is_refused_and_makes_no_run(client, room, body, field):
    hook = integration(client, "jenkins", room)
    response = client.post(hook["url"], json=body)
    assert response.status_code == 422 and response.json()["field"] == field
    assert client.get("/api/v1/runs", params={"job": "jenkins-x"}).json()["runs"] == []


# -- Nagios -----------------------------------------------------------------------------


def test_nagios_problem_and_recovery_from_the_documented_curl_line_share_a_thread(client, room):
    hook = integration(client, "nagios", room)
    # What `curl --data-urlencode ...` sends from the notify-thereyet command.
    problem = "type=PROBLEM&host=db-1&service=Disk%20%2F&state=CRITICAL&output=DISK%20CRITICAL%20-%203%25%20free"
    recovery = "type=RECOVERY&host=db-1&service=Disk%20%2F&state=OK&output=DISK%20OK"
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert client.post(hook["url"], content=problem, headers=form).status_code == 200
    assert client.post(hook["url"], content=recovery, headers=form).status_code == 200
    first, second = messages(client, room)
    assert first["text"] == "✗ problem: Disk / on db-1 is CRITICAL: DISK CRITICAL - 3% free"
    assert second["text"] == "✓ recovery: Disk / on db-1 is OK: DISK OK"
    assert first["data"]["thread"] == second["data"]["thread"] == "nagios:db-1/Disk /"


def test_a_nagios_acknowledgement_joins_the_problems_thread(client, room):
    hook = integration(client, "nagios", room)
    form = {"content-type": "application/x-www-form-urlencoded"}
    problem = "type=PROBLEM&host=db-1&service=Disk&state=CRITICAL"
    ack = "type=ACKNOWLEDGEMENT&host=db-1&service=Disk&state=CRITICAL&output=on%20it"
    for body in (problem, ack):
        assert client.post(hook["url"], content=body, headers=form).status_code == 200
    first, second = messages(client, room)
    assert second["text"] == "✗ acknowledgement: Disk on db-1 is CRITICAL: on it"
    assert second["data"]["type"] == "acknowledgement"
    assert first["data"]["thread"] == second["data"]["thread"]


def test_a_nagios_host_notification_as_json(client, room):
    hook = integration(client, "nagios", room)
    assert client.post(hook["url"], json={"host": "web-2", "state": "DOWN"}).status_code == 200
    assert texts(client, room) == ["✗ problem: web-2 is DOWN"]
    bad = client.post(hook["url"], json={"host": "web-2", "state": "SLEEPY"})
    assert bad.status_code == 422 and bad.json()["field"] == "state"


# -- managing integrations ---------------------------------------------------------------


def test_integrations_need_an_admin_and_a_known_format(client, room):
    bad = client.post("/api/v1/integrations", json={"name": "x", "format": "fax", "room": room})
    assert bad.status_code == 422 and bad.json()["field"] == "format"
    nosecret = client.post(
        "/api/v1/integrations",
        json={"name": "x", "format": "slack", "room": room, "secret": "s" * 20},
    )
    assert nosecret.status_code == 422 and nosecret.json()["field"] == "secret"
    hook = integration(client, "slack", room)
    again = client.post(
        "/api/v1/integrations", json={"name": hook["name"], "format": "slack", "room": room}
    )
    assert again.status_code == 409
    assert client.delete(f"/api/v1/integrations/{hook['name']}").status_code == 204
    names = [i["name"] for i in client.get("/api/v1/integrations").json()["integrations"]]
    assert hook["name"] not in names
    viewer = client.post("/api/v1/tokens", json={"name": "v", "scope": "ingest"}).json()["token"]
    refused = client.get("/api/v1/integrations", headers={"Authorization": f"Bearer {viewer}"})
    assert refused.status_code == 403
