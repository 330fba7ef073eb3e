"""The pages over real HTTP: sign-in, CSRF, roles, rendering, and the SSE streams."""

from __future__ import annotations

import httpx
import pytest

from tests.web.conftest import add_user, page_csrf, read_events, sign_in


@pytest.fixture
def browser_like(web_hub):
    with httpx.Client(base_url=web_hub.url, headers={"Accept": "text/html"}) as client:
        yield client


def test_pages_need_a_signed_in_person(browser_like):
    for path in ("/", "/rooms", "/search", "/shares"):
        response = browser_like.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


def test_a_wrong_password_is_refused_with_the_form_again(browser_like):
    form = browser_like.get("/login")
    csrf = page_csrf_from_login(form.text)
    response = browser_like.post(
        "/login", data={"username": "ana", "password": "nope-nope-nope", "csrf": csrf}
    )
    assert response.status_code == 401
    assert 'name="username"' in response.text


def page_csrf_from_login(html: str) -> str:
    marker = 'name="csrf" value="'
    return html.split(marker)[1].split('"')[0]


def test_login_without_its_form_token_is_refused(browser_like):
    browser_like.get("/login")
    response = browser_like.post(
        "/login", data={"username": "ana", "password": "x" * 12, "csrf": "forged"}
    )
    assert response.status_code == 403


def test_after_sign_in_the_pages_render_with_security_headers(web_hub, browser_like):
    web_hub.api.post("/api/v1/runs", json={"job": "export", "room": "ops", "total": 10})
    sign_in(browser_like, "ana")
    run_id = web_hub.api.get("/api/v1/runs").json()["runs"][0]["id"]
    for path in (
        "/",
        f"/runs/{run_id}",
        "/jobs/export",
        "/rooms",
        "/rooms/ops",
        "/search?q=export",
    ):
        response = browser_like.get(path)
        assert response.status_code == 200, (path, response.text)
        assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "export" in browser_like.get("/").text
    assert browser_like.get("/jobs/nope").status_code == 404


def test_posting_needs_the_pages_csrf_token(web_hub, browser_like):
    web_hub.api.post("/api/v1/rooms", json={"name": "ops"})
    sign_in(browser_like, "ana")
    csrf = page_csrf(browser_like.get("/rooms/ops").text)
    refused = browser_like.post("/rooms/ops/messages", json={"text": "hi"})
    assert refused.status_code == 403
    accepted = browser_like.post(
        "/rooms/ops/messages", json={"text": "hi"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 201
    texts = [m["text"] for m in web_hub.api.get("/api/v1/rooms/ops/messages").json()["messages"]]
    assert texts == ["hi"]


def test_a_viewer_reads_but_cannot_post(web_hub, browser_like):
    web_hub.api.post("/api/v1/rooms", json={"name": "ops"})
    add_user(web_hub.api, "vic", "viewer")
    sign_in(browser_like, "vic")
    html = browser_like.get("/rooms/ops").text
    assert 'id="say"' not in html
    response = browser_like.post(
        "/rooms/ops/messages", json={"text": "hi"}, headers={"X-CSRF-Token": page_csrf(html)}
    )
    assert response.status_code == 403


def test_the_dashboard_stream_sends_a_snapshot_then_changes(web_hub, browser_like):
    run = web_hub.api.post("/api/v1/runs", json={"job": "export", "total": 100}).json()
    sign_in(browser_like, "ana")
    with browser_like.stream("GET", "/live/runs", timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        web_hub.api.post(
            f"/api/v1/runs/{run['id']}/events",
            json={"events": [{"id": "p", "type": "progress", "done": 40}]},
        )
        (name, snapshot), (_, change) = read_events(stream, 2)
    assert name == "runs" and [r["id"] for r in snapshot] == [run["id"]]
    assert change[0]["id"] == run["id"] and change[0]["show"]["percent"] == "40%"


def test_a_room_stream_catches_up_from_last_event_id(web_hub, browser_like):
    web_hub.api.post("/api/v1/rooms", json={"name": "ops"})
    ids = [
        web_hub.api.post("/api/v1/rooms/ops/messages", json={"text": f"m{i}"}).json()["id"]
        for i in range(3)
    ]
    sign_in(browser_like, "ana")
    with browser_like.stream(
        "GET", "/live/room/ops", headers={"Last-Event-ID": str(ids[0])}, timeout=10
    ) as stream:
        [(name, missed)] = read_events(stream, 1)
    assert name == "messages"
    assert [m["text"] for m in missed] == ["m1", "m2"]
    assert all("<p>" in m["html"] for m in missed)


def test_streams_need_a_session_or_a_share_link(web_hub):
    web_hub.api.post("/api/v1/rooms", json={"name": "ops"})
    response = httpx.get(f"{web_hub.url}/live/room/ops", follow_redirects=False)
    assert response.status_code == 303
    response = httpx.get(f"{web_hub.url}/live/room/ops?share=sh_bad_token")
    assert response.status_code == 404


def test_a_signed_in_page_and_a_share_link_can_load_a_rooms_images(web_hub, browser_like):
    web_hub.api.post("/api/v1/rooms", json={"name": "ops"})
    posted = web_hub.api.post(
        "/api/v1/rooms/ops/attachments",
        params={"name": "g.png"},
        content=b"\x89PNG",
        headers={"Content-Type": "image/png"},
    ).json()
    url = posted["data"]["attachment"]["url"]
    assert httpx.get(f"{web_hub.url}{url}").status_code == 401
    sign_in(browser_like, "ana")
    assert browser_like.get(url).content == b"\x89PNG"
    assert browser_like.post(url).status_code in (401, 405)
    token = web_hub.api.post("/api/v1/shares", json={"kind": "room", "target": "ops"}).json()[
        "token"
    ]
    shared_page = httpx.get(f"{web_hub.url}/share/{token}").text
    assert f'src="{url}?share={token}"' in shared_page
    assert httpx.get(f"{web_hub.url}{url}", params={"share": token}).content == b"\x89PNG"


def test_the_job_page_shows_its_schedule_and_admins_see_channel_deliveries(web_hub, browser_like):
    web_hub.api.post("/api/v1/runs", json={"job": "nightly"})
    put = web_hub.api.put(
        "/api/v1/jobs/nightly/schedule",
        json={"schedule": "30 2 * * *", "timezone": "Europe/Paris", "limits": {"grace": "10m"}},
    )
    assert put.status_code == 200, put.text
    web_hub.api.post(
        "/api/v1/channels", json={"name": "ops-mail", "url": "json://127.0.0.1:9/hook"}
    )
    cy = {"timezone": "UTC", "contact_methods": [{"name": "push", "url": "json://u:pw@h:9/x"}]}
    assert web_hub.api.put("/api/v1/oncall/people/cy", json=cy).status_code == 200
    sign_in(browser_like, "ana")
    html = browser_like.get("/jobs/nightly").text
    assert "30 2 * * *" in html and "Europe/Paris" in html and "10m" in html
    assert browser_like.get("/channels").status_code == 403
    admin = httpx.Client(base_url=web_hub.url, headers={"Accept": "text/html"})
    sign_in(admin, "boss")
    channels = admin.get("/channels")
    assert channels.status_code == 200 and "ops-mail" in channels.text
    assert '@cy/push <span class="badge">contact method</span>' in channels.text
    assert "pw@" not in channels.text
    admin.close()


def test_incidents_are_listed_and_acknowledged_then_resolved_from_the_page(web_hub, browser_like):
    api = web_hub.api
    assert api.put("/api/v1/oncall/services/payments", json={"room": "ops"}).status_code == 200
    made = api.post(
        "/api/v1/oncall/integrations",
        json={"name": "pd", "service": "payments", "kind": "pagerduty"},
    )
    assert made.status_code == 201, made.text
    trigger = {
        "routing_key": made.json()["token"],
        "event_action": "trigger",
        "payload": {"summary": "DiskFull on db-1", "source": "db-1", "severity": "critical"},
    }
    assert httpx.post(f"{web_hub.url}/v2/enqueue", json=trigger).status_code == 202
    [incident] = api.get("/api/v1/incidents").json()["incidents"]
    sign_in(browser_like, "ana")
    html = browser_like.get("/incidents").text
    assert "DiskFull on db-1" in html and "Acknowledge" in html
    csrf = page_csrf(html)
    for action, status in (("acknowledge", "acknowledged"), ("resolve", "resolved")):
        done = browser_like.post(
            f"/incidents/{incident['id']}",
            data={"action": action, "csrf": csrf},
            follow_redirects=False,
        )
        assert done.status_code == 303
        view = api.get(f"/api/v1/incidents/{incident['id']}").json()
        assert view["status"] == status
    assert (
        browser_like.post(
            f"/incidents/{incident['id']}", data={"action": "resolve", "csrf": "forged"}
        ).status_code
        == 403
    )
