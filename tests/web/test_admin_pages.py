"""The users, tokens, channels, commands and jobs pages over real HTTP, as a browser sends forms."""

from __future__ import annotations

import re
import shutil
import subprocess

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.servers import missing, recording_server, wait_for
from tests.web.conftest import PASSWORD, add_user, page_csrf, problem_on, sign_in

HTML = {"Accept": "text/html"}


@pytest.fixture
def admin(web_hub):
    with httpx.Client(base_url=web_hub.url, headers=HTML) as client:
        sign_in(client, "boss")
        yield client


@pytest.fixture
def operator(web_hub):
    with httpx.Client(base_url=web_hub.url, headers=HTML) as client:
        sign_in(client, "ana")
        yield client


def _post_form(client: httpx.Client, page_path: str, action: str, **fields: str) -> httpx.Response:
    csrf = page_csrf(client.get(page_path).text)
    return client.post(action, data={"csrf": csrf, **fields}, follow_redirects=False)


def _curl(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("curl") is None:
        missing("curl is not installed")
    command = ["curl", "-s", "-o", "/dev/stderr", "-w", "%{http_code}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)


# -- users ---------------------------------------------------------------------------------


def test_an_admin_adds_a_user_from_the_page_and_they_can_sign_in(web_hub, admin):
    answer = _post_form(
        admin,
        "/admin/users",
        "/admin/users",
        username="Cleo",
        password=PASSWORD,
        role="viewer",
    )
    assert answer.status_code == 303
    listed = admin.get("/admin/users").text
    assert 'id="user-cleo"' in listed
    with httpx.Client(base_url=web_hub.url, headers=HTML) as cleo:
        sign_in(cleo, "cleo")
        assert cleo.get("/jobs").status_code == 200


def test_a_short_password_is_refused_on_the_page_naming_the_field_and_nothing_is_written(admin):
    answer = _post_form(
        admin, "/admin/users", "/admin/users", username="dan", password="short", role="viewer"
    )
    assert answer.status_code == 422
    assert problem_on(answer.text).startswith("password: password must be at least")
    assert 'value="dan"' in answer.text  # the form keeps what was typed, but not the password
    assert 'id="user-dan"' not in answer.text


def test_changing_a_role_from_the_page_changes_what_an_open_session_may_do(web_hub, admin):
    web_hub.api.post("/api/v1/rooms", json={"name": "ops"})
    with httpx.Client(base_url=web_hub.url, headers=HTML) as ana:
        sign_in(ana, "ana")
        csrf = page_csrf(ana.get("/rooms/ops").text)
        said = ana.post("/rooms/ops/messages", data={"csrf": csrf, "text": "as an operator"})
        assert said.status_code in (200, 303)
        changed = _post_form(admin, "/admin/users", "/admin/users/ana/role", role="viewer")
        assert changed.status_code == 303
        assert web_hub.api.get("/api/v1/users").json()["users"][0]["role"] == "viewer"
        refused = ana.post("/rooms/ops/messages", data={"csrf": csrf, "text": "as a viewer"})
        assert refused.status_code == 403


def test_a_user_disabled_from_the_page_loses_their_open_session(web_hub, admin, operator):
    assert operator.get("/jobs").status_code == 200
    disabled = _post_form(admin, "/admin/users", "/admin/users/ana/disable")
    assert disabled.status_code == 303
    again = operator.get("/jobs", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login")
    assert "disabled" in admin.get("/admin/users").text


def test_setting_a_password_from_the_page_signs_the_user_out_and_the_new_one_works(
    web_hub, admin, operator
):
    new = "a much longer passphrase for ana"
    answer = _post_form(admin, "/admin/users", "/admin/users/ana/password", password=new)
    assert answer.status_code == 303
    assert operator.get("/jobs", follow_redirects=False).status_code == 303  # signed out
    with httpx.Client(base_url=web_hub.url, headers=HTML) as ana:
        form = ana.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf
        signed = ana.post(
            "/login",
            data={"username": "ana", "password": new, "csrf": csrf.group(1)},
            follow_redirects=False,
        )
        assert signed.status_code == 303
    short = _post_form(admin, "/admin/users", "/admin/users/ana/password", password="short")
    assert short.status_code == 422 and problem_on(short.text).startswith("password: ")


def test_a_role_change_through_the_api_names_a_bad_role(web_hub):
    answer = web_hub.api.put("/api/v1/users/ana/role", json={"role": "owner"})
    assert answer.status_code == 422 and answer.json()["field"] == "role"
    unknown = web_hub.api.put("/api/v1/users/nobody/role", json={"role": "viewer"})
    assert unknown.status_code == 404


# -- who may see what --------------------------------------------------------------------------


def test_a_viewer_gets_a_403_page_for_admin_pages_and_sees_no_ping_url(web_hub):
    add_user(web_hub.api, "vic", "viewer")
    web_hub.api.put("/api/v1/jobs/backup/schedule", json={"schedule": "0 3 * * *"})
    with httpx.Client(base_url=web_hub.url, headers=HTML) as vic:
        sign_in(vic, "vic")
        for path in ("/admin/users", "/admin/tokens", "/channels"):
            answer = vic.get(path)
            assert answer.status_code == 403, path
            assert "may not manage" in answer.text or "may not read" in answer.text
        job = vic.get("/jobs/backup").text
        assert "Ping URL" not in job and "/ping/" not in job
        assert 'href="/admin/users"' not in vic.get("/jobs").text


def test_an_operator_sees_the_ping_url_but_no_admin_links(web_hub, operator):
    web_hub.api.put("/api/v1/jobs/backup/schedule", json={"schedule": "0 3 * * *"})
    job = operator.get("/jobs/backup").text
    assert re.search(r"<code>http://[^<]+/ping/[0-9a-f-]{36}</code>", job)
    assert 'href="/admin/tokens"' not in operator.get("/jobs").text
    assert operator.get("/admin/tokens").status_code == 403


def test_admin_forms_without_the_pages_csrf_token_are_refused(web_hub, admin):
    for action, data in (
        ("/admin/users", {"username": "eve", "password": PASSWORD, "role": "admin"}),
        ("/admin/users/ana/disable", {}),
        ("/admin/tokens", {"name": "stolen", "scope": "admin"}),
        ("/channels/x/test", {}),
    ):
        answer = admin.post(action, data={"csrf": "forged", **data})
        assert answer.status_code == 403, action
    assert "eve" not in str(web_hub.api.get("/api/v1/users").json())
    assert "stolen" not in str(web_hub.api.get("/api/v1/tokens").json())


# -- tokens -----------------------------------------------------------------------------------


def _new_token(admin: httpx.Client, **fields: str) -> str:
    answer = _post_form(admin, "/admin/tokens", "/admin/tokens", **fields)
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    found = re.search(r'id="new-token-value">([^<]+)<', answer.text)
    assert found, answer.text
    return found.group(1)


def test_a_token_made_on_the_page_is_shown_once_and_works_with_curl_until_revoked(web_hub, admin):
    token = _new_token(admin, name="ci reporter", scope="ingest", jobs="backup, export", rooms="")
    assert token not in admin.get("/admin/tokens").text  # shown once: not on the list
    me = _curl("-H", f"Authorization: Bearer {token}", f"{web_hub.url}/api/v1/me")
    assert me.stdout == "200" and '"jobs":["backup","export"]' in me.stderr
    reported = _curl(
        "-H",
        f"Authorization: Bearer {token}",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"job": "backup"}',
        f"{web_hub.url}/api/v1/runs",
    )
    assert reported.stdout == "201", reported.stderr
    token_id = token.split("_")[1]
    revoked = _post_form(admin, "/admin/tokens", f"/admin/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    after = _curl("-H", f"Authorization: Bearer {token}", f"{web_hub.url}/api/v1/me")
    assert after.stdout == "401"


def test_a_token_form_with_a_bad_limit_says_which_field_and_makes_nothing(web_hub, admin):
    answer = _post_form(
        admin, "/admin/tokens", "/admin/tokens", name="reader", scope="read", jobs="backup"
    )
    assert answer.status_code == 422
    assert problem_on(answer.text).startswith("scope: only ingest tokens can be limited")
    bad_scope = _post_form(admin, "/admin/tokens", "/admin/tokens", name="x", scope="run")
    assert bad_scope.status_code == 422
    assert problem_on(bad_scope.text).startswith("scope: scope must be one of")
    names = [t["name"] for t in web_hub.api.get("/api/v1/tokens").json()["tokens"]]
    assert "reader" not in names and "x" not in names


def test_a_token_managed_by_a_configuration_file_is_read_only_on_the_page(web_hub, admin):
    files = {"team.toml": '[tokens.ci]\nscope = "read"\n'}
    applied = web_hub.api.post("/api/v1/config/apply", json={"files": files})
    assert applied.status_code == 200, applied.text
    ci = next(t for t in web_hub.api.get("/api/v1/tokens").json()["tokens"] if t["name"] == "ci")
    listed = admin.get("/admin/tokens").text
    row = listed[listed.index(f'id="token-{ci["id"]}"') :].split("</tr>")[0]
    assert "managed by <code>team.toml</code>" in row and "Revoke" not in row
    refused = _post_form(admin, "/admin/tokens", f"/admin/tokens/{ci['id']}/revoke")
    assert refused.status_code == 409
    assert "tokens.ci is managed by the configuration file team.toml" in problem_on(refused.text)
    assert web_hub.api.get("/api/v1/tokens").json()["tokens"][-1]["revoked_at"] is None


def test_a_user_and_a_channel_managed_by_files_are_read_only_on_their_pages(web_hub, admin):
    files = {
        "people.toml": '[users.ana]\nrole = "operator"\n\n[channels.chat]\nurl = "json://127.0.0.1:9/x"\n'
    }
    applied = web_hub.api.post("/api/v1/config/apply", json={"files": files})
    assert applied.status_code == 200, applied.text
    users = admin.get("/admin/users").text
    ana = users[users.index('id="user-ana"') :].split("</tr>")[0]
    assert "managed by <code>people.toml</code>" in ana and "Disable" not in ana
    assert "Change role" not in ana
    refused = _post_form(admin, "/admin/users", "/admin/users/ana/role", role="admin")
    assert refused.status_code == 409
    assert "users.ana is managed by the configuration file people.toml" in problem_on(refused.text)
    channels = admin.get("/channels").text
    chat = channels[channels.index('id="channel-chat"') :].split("</tr>")[0]
    assert "managed by <code>people.toml</code>" in chat and "Remove" not in chat
    removed = _post_form(admin, "/channels", "/channels/chat/delete")
    assert removed.status_code == 409
    assert "channels.chat is managed by the configuration file" in problem_on(removed.text)
    assert [c["name"] for c in web_hub.api.get("/api/v1/channels").json()["channels"]] == ["chat"]


# -- channels ---------------------------------------------------------------------------------


def test_send_a_test_from_the_channels_page_reaches_the_channel(web_hub, admin):
    with recording_server() as recorder:
        added = _post_form(
            admin,
            "/channels",
            "/channels",
            name="ops-hook",
            url=f"json://{recorder.url}/hook",
        )
        assert added.status_code == 303
        tested = _post_form(admin, "/channels", "/channels/ops-hook/test")
        assert tested.status_code == 303
        assert tested.headers["location"] == "/channels?tested=ops-hook"
        wait_for(lambda: recorder.bodies(), 15, what="the test message at the recorder")
        assert "Test from thereyet, sent by boss" in recorder.bodies()[0]["message"]
        page = admin.get("/channels").text
        wait_for(
            lambda: "Test from thereyet" in admin.get("/channels").text, 10, what="the delivery"
        )
        assert 'id="channel-ops-hook"' in page


def test_a_test_message_through_the_api_is_queued_for_the_named_channel(web_hub):
    web_hub.api.post("/api/v1/channels", json={"name": "ops", "url": "json://127.0.0.1:9/x"})
    queued = web_hub.api.post("/api/v1/channels/ops/test")
    assert queued.status_code == 202 and queued.json()["channel"] == "ops"
    listed = web_hub.api.get("/api/v1/deliveries", params={"channel": "ops"}).json()
    assert [d["id"] for d in listed["deliveries"]] == [queued.json()["id"]]
    assert listed["deliveries"][0]["event"] == "test"
    unknown = web_hub.api.post("/api/v1/channels/nope/test")
    assert unknown.status_code == 404 and unknown.json()["field"] == "name"


def test_routes_are_added_and_removed_from_the_channels_page(web_hub, admin):
    web_hub.api.post("/api/v1/channels", json={"name": "ops", "url": "json://127.0.0.1:9/x"})
    page = admin.get("/channels").text
    assert re.search(r'value="failed" checked', page) and not re.search(
        r'value="started" checked', page
    )
    csrf = page_csrf(page)
    form = {"csrf": csrf, "channel": "ops", "job": "backup", "events": ["failed", "succeeded"]}
    added = admin.post("/routes", data=form, follow_redirects=False)
    assert added.status_code == 303
    [route] = web_hub.api.get("/api/v1/routes").json()["routes"]
    assert (route["job"], route["room"], route["events"]) == (
        "backup",
        None,
        ["succeeded", "failed"],
    )
    bad = admin.post("/routes", data={"csrf": csrf, "channel": "ops", "events": ["exploded"]})
    assert bad.status_code == 422 and problem_on(bad.text).startswith("events: unknown event")
    removed = _post_form(admin, "/channels", f"/routes/{route['id']}/delete")
    assert removed.status_code == 303
    assert web_hub.api.get("/api/v1/routes").json()["routes"] == []


def test_a_channel_with_an_unknown_scheme_is_refused_on_the_page(web_hub, admin):
    answer = _post_form(admin, "/channels", "/channels", name="odd", url="nope://x/y")
    assert answer.status_code == 422
    assert problem_on(answer.text).startswith("url: Apprise does not know")
    assert web_hub.api.get("/api/v1/channels").json()["channels"] == []


# -- jobs and commands --------------------------------------------------------------------------


def _finished(api: httpx.Client, job: str, status: str, host: str = "db1") -> None:
    run = api.post("/api/v1/runs", json={"job": job, "room": "ops", "host": host}).json()
    answer = api.post(f"/api/v1/runs/{run['id']}/finish", json={"status": status})
    assert answer.status_code == 200, answer.text


def test_the_jobs_page_shows_state_last_run_and_a_sparkline_and_filters(web_hub, operator):
    for status in ("succeeded", "failed", "succeeded"):
        _finished(web_hub.api, "backup", status)
    _finished(web_hub.api, "export", "failed", host="etl7")
    web_hub.api.put("/api/v1/jobs/backup/schedule", json={"schedule": "0 3 * * *"})
    page = operator.get("/jobs").text
    backup = page[page.index('id="job-backup"') :].split("</tr>")[0]
    assert 'class="badge tone-ok">ok<' in backup and "<code>0 3 * * *</code>" in backup
    assert 'aria-label="last 3 runs: 2 succeeded, 1 failed"' in backup
    assert re.findall(r'<rect class="(\w+)"', backup) == ["ok", "bad", "ok"]
    export = page[page.index('id="job-export"') :].split("</tr>")[0]
    assert '<tr class="attention" id="job-export">' in page
    assert 'class="badge tone-bad">failed<' in export and "on etl7" in export
    attention = operator.get("/jobs", params={"state": "attention"}).text
    assert 'id="job-export"' in attention and 'id="job-backup"' not in attention
    searched = operator.get("/jobs", params={"q": "BACK"}).text
    assert 'id="job-backup"' in searched and 'id="job-export"' not in searched


def test_the_commands_page_lists_what_you_may_run_and_what_ran(web_hub, operator):
    web_hub.api.post("/api/v1/rooms", json={"name": "ops"})
    said = web_hub.api.post("/api/v1/rooms/ops/messages", json={"text": "!help"})
    assert said.status_code == 201, said.text
    page = operator.get("/commands").text
    assert 'id="command-help"' in page and "<code>!help deploy</code>" in page
    executions = page[page.index('id="executions"') :]
    assert "<code>!help</code>" in executions


def test_admin_pages_answer_when_the_bearer_token_is_not_a_session(web_hub):
    # Pages are for people: an admin token alone is sent to sign in, never let through.
    with httpx.Client(
        base_url=web_hub.url, headers={**HTML, "Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as client:
        answer = client.get("/admin/users", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_the_agents_page_answers_a_refused_cancel_or_remove_on_the_page(web_hub, admin):
    """Cancelling a run that has ended meanwhile, or removing an agent already gone (two
    people at the same page): the agents page again, with its status and the reason."""
    run = web_hub.api.post("/api/v1/runs", json={"job": "export"}).json()
    done = web_hub.api.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "succeeded"})
    assert done.status_code == 200
    ended = _post_form(admin, "/agents", f"/agents/cancel/{run['id']}")
    assert ended.status_code == 409
    assert problem_on(ended.text) == "status: run is already succeeded"
    assert "<h1>Agents</h1>" in ended.text
    gone = _post_form(admin, "/agents", "/agents/remove/ghost")
    assert gone.status_code == 404
    assert problem_on(gone.text) == "name: no agent named 'ghost'"
