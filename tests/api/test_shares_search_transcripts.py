"""Share links, full-text search and transcript export through the JSON API."""

from __future__ import annotations

import json
import re

import pytest

from tests.api.test_auth import make_token
from tests.conftest import as_token
from thereyet.server.store import transcripts as transcript_store
from thereyet.server.store.runs import RunFilter

# The smallest valid PNG: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)


def post(client, room: str, text: str) -> dict:
    response = client.post(f"/api/v1/rooms/{room}/messages", json={"text": text})
    assert response.status_code == 201, response.text
    return response.json()


def room_with(client, name: str, *texts: str) -> None:
    client.post("/api/v1/rooms", json={"name": name})
    for text in texts:
        post(client, name, text)


# -- share links -------------------------------------------------------------------


def test_a_room_share_gives_a_read_only_principal_limited_to_that_room(client):
    room_with(client, "migration", "hello")
    room_with(client, "secret", "hush")
    created = client.post("/api/v1/shares", json={"kind": "room", "target": "migration"})
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["token"]
    assert token.startswith("sh_") and body["url"] == f"/share/{token}"
    assert (body["kind"], body["target"], body["created_by"]) == ("room", "migration", "admin")

    share = client.app.state.shares.verify(token)
    assert (share.id, share.kind, share.target) == (body["id"], "room", "migration")
    who = share.principal
    assert who.may_read_room("migration") and not who.may_read_room("secret")
    assert not who.may_post_in("migration") and not who.may_write_run("x", ["migration"])
    assert [r["name"] for r in client.app.state.rooms.all(who)] == ["migration"]

    listed = client.get("/api/v1/shares").json()["shares"]
    assert [s["id"] for s in listed] == [body["id"]] and token not in json.dumps(listed)


def test_a_job_share_reads_only_that_jobs_runs(client):
    client.post("/api/v1/runs", json={"job": "export", "room": "ops"})
    client.post("/api/v1/runs", json={"job": "backup", "room": "ops"})
    token = client.post("/api/v1/shares", json={"kind": "job", "target": "export"}).json()["token"]
    who = client.app.state.shares.verify(token).principal
    runs = client.app.state.runs.search(who, RunFilter())
    assert [r["job"] for r in runs] == ["export"]
    assert not who.may_read_room("ops")


def test_a_revoked_share_stops_verifying(client):
    room_with(client, "migration")
    body = client.post("/api/v1/shares", json={"kind": "room", "target": "migration"}).json()
    shares = client.app.state.shares
    assert shares.verify(body["token"]) is not None
    assert client.delete(f"/api/v1/shares/{body['id']}").status_code == 204
    assert shares.verify(body["token"]) is None
    assert client.delete(f"/api/v1/shares/{body['id']}").status_code == 404
    assert client.get("/api/v1/shares").json()["shares"][0]["revoked_at"] is not None


def test_a_forged_or_malformed_share_token_does_not_verify(client):
    room_with(client, "migration")
    token = client.post("/api/v1/shares", json={"kind": "room", "target": "migration"}).json()[
        "token"
    ]
    shares = client.app.state.shares
    share_id = token.split("_")[1]
    for bad in (f"sh_{share_id}_forged", "sh_", "sh_x", token[3:], "", "ty_a_b"):
        assert shares.verify(bad) is None


def test_only_an_admin_makes_share_links_and_only_to_things_that_exist(client):
    room_with(client, "migration")
    reader = make_token(client, "read")
    refused = client.post(
        "/api/v1/shares",
        json={"kind": "room", "target": "migration"},
        headers=as_token(client, reader),
    )
    assert refused.status_code == 403
    missing = client.post("/api/v1/shares", json={"kind": "job", "target": "nothing"})
    assert missing.status_code == 404 and missing.json()["field"] == "target"
    wrong_kind = client.post("/api/v1/shares", json={"kind": "run", "target": "migration"})
    assert wrong_kind.status_code == 422 and wrong_kind.json()["field"] == "kind"


# -- users ---------------------------------------------------------------------------


def test_admins_create_and_list_users_and_passwords_never_come_back(client):
    created = client.post(
        "/api/v1/users", json={"username": "ada", "password": "correct horse", "role": "operator"}
    )
    assert created.status_code == 201, created.text
    assert created.json() == {"id": created.json()["id"], "username": "ada", "role": "operator"}
    listed = client.get("/api/v1/users").json()["users"]
    assert [(u["username"], u["role"]) for u in listed] == [("ada", "operator")]
    assert "correct horse" not in json.dumps(listed) and "argon2" not in json.dumps(listed)
    short = client.post("/api/v1/users", json={"username": "bob", "password": "short"})
    assert short.status_code == 422 and short.json()["field"] == "password"
    again = client.post("/api/v1/users", json={"username": "ada", "password": "x" * 12})
    assert again.status_code == 409
    reader = make_token(client, "read")
    assert client.get("/api/v1/users", headers=as_token(client, reader)).status_code == 403


# -- search ----------------------------------------------------------------------------


def test_search_finds_words_across_rooms_newest_first_with_marked_snippets(client):
    room_with(client, "billing", "the invoice export is slow today")
    room_with(client, "ops", "export of <customers> done", "nothing to see")
    found = client.get("/api/v1/search", params={"q": "Export"}).json()["results"]
    assert [(r["room"], r["text"]) for r in found] == [
        ("ops", "export of <customers> done"),
        ("billing", "the invoice export is slow today"),
    ]
    assert found[0]["snippet"] == "<mark>export</mark> of &lt;customers&gt; done"
    both = client.get("/api/v1/search", params={"q": "invoice export"}).json()["results"]
    assert [r["room"] for r in both] == ["billing"]
    only_ops = client.get("/api/v1/search", params={"q": "export", "room": "ops"}).json()
    assert [r["room"] for r in only_ops["results"]] == ["ops"]


def test_search_shows_only_rooms_the_caller_may_read(client):
    room_with(client, "billing", "secret invoice numbers")
    room_with(client, "ops", "public invoice talk")
    limited = make_token(client, "ingest", rooms=["ops"])
    found = client.get(
        "/api/v1/search", params={"q": "invoice"}, headers=as_token(client, limited)
    ).json()["results"]
    assert [r["room"] for r in found] == ["ops"]
    hidden = client.get(
        "/api/v1/search",
        params={"q": "invoice", "room": "billing"},
        headers=as_token(client, limited),
    )
    assert hidden.status_code == 404
    token = client.post("/api/v1/shares", json={"kind": "room", "target": "billing"}).json()[
        "token"
    ]
    share = client.app.state.shares.verify(token).principal
    assert [r["room"] for r in client.app.state.search.search(share, "invoice")] == ["billing"]


# Every word of the query must be in the message, operators included as plain words
# ("deploy OR" looks for "or" too); punctuation is not a word.
@pytest.mark.parametrize(
    ("q", "finds_it"),
    [
        ('"', False),
        ('deploy "', True),
        ("deploy OR", False),
        ("OR", False),
        ("deploy*", True),
        ("*", False),
        ("-deploy", True),
        ("NEAR(deploy done)", False),
        ("body:deploy", False),
        ("^deploy", True),
        ("deploy AND NOT", False),
        ("(deploy", True),
        ("'; DROP TABLE messages; --", False),
        ("!!!", False),
        ("déploiement", False),
    ],
)
def test_search_syntax_characters_in_the_query_are_words_not_operators(client, q, finds_it):
    room_with(client, "ops", "deploy done", "nothing else")
    response = client.get("/api/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    texts = {r["text"] for r in response.json()["results"]}
    assert texts == ({"deploy done"} if finds_it else set())


def test_search_needs_words(client):
    for q in ("", "   "):
        response = client.get("/api/v1/search", params={"q": q})
        assert response.status_code == 422 and response.json()["field"] == "q"
    assert client.get("/api/v1/search").json()["field"] == "q"


# -- transcripts -----------------------------------------------------------------------


def all_messages(client, room: str) -> list[dict]:
    """What the room shows, walking back through every page."""
    pages: list[list[dict]] = []
    params: dict = {"limit": 3}
    while True:
        page = client.get(f"/api/v1/rooms/{room}/messages", params=params).json()
        pages.insert(0, page["messages"])
        if page["prev_cursor"] is None:
            break
        params = {"limit": 3, "before": page["prev_cursor"]}
    return [m for p in pages for m in p]


def busy_room(client, clock) -> None:
    client.post("/api/v1/rooms", json={"name": "ops"})
    post(client, "ops", "starting the **export** now")
    clock.advance(5)
    run = client.post("/api/v1/runs", json={"job": "export", "room": "ops"}).json()
    clock.advance(5)
    note = {"events": [{"id": "n1", "type": "note", "text": "half way there"}]}
    assert client.post(f"/api/v1/runs/{run['id']}/events", json=note).status_code == 200
    attached = client.post(
        f"/api/v1/runs/{run['id']}/attachments",
        params={"name": "shot.png"},
        content=PNG,
        headers={"content-type": "image/png"},
    )
    assert attached.status_code == 201, attached.text
    clock.advance(5)
    post(client, "ops", "<script>alert(1)</script>")
    post(client, "ops", "[x](javascript:alert(1))")
    clock.advance(5)
    client.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "succeeded"})
    post(client, "ops", "all done, line one\nline two")


def export(client, fmt: str, **params: str):
    response = client.get("/api/v1/rooms/ops/transcript", params={"format": fmt, **params})
    assert response.status_code == 200, response.text
    return response


def in_order(haystack: str, needles: list[str]) -> bool:
    at = 0
    for needle in needles:
        at = haystack.find(needle, at)
        if at < 0:
            return False
        at += len(needle)
    return True


def test_the_jsonl_transcript_is_exactly_what_the_room_shows_in_order(client, clock, monkeypatch):
    monkeypatch.setattr(transcript_store, "PAGE", 2)  # make the export page through the store
    busy_room(client, clock)
    shown = all_messages(client, "ops")
    assert len(shown) >= 8
    response = export(client, "jsonl")
    assert response.headers["content-type"] == "application/x-ndjson"
    assert 'filename="ops-transcript-' in response.headers["content-disposition"]
    lines = response.text.splitlines()
    assert [json.loads(line) for line in lines] == shown


def test_the_markdown_transcript_has_every_message_in_order(client, clock, monkeypatch):
    monkeypatch.setattr(transcript_store, "PAGE", 2)
    busy_room(client, clock)
    shown = all_messages(client, "ops")
    text = export(client, "md").text
    assert text.startswith("# Ops (#ops)")
    assert "**admin** · 2026-03-02 09:00:00 UTC" in text
    assert in_order(text, [m["text"] for m in shown])
    assert "[shot.png](http://testserver/api/v1/attachments/" in text


def test_the_html_transcript_has_every_message_in_order_and_embeds_images(
    client, clock, monkeypatch
):
    monkeypatch.setattr(transcript_store, "PAGE", 2)
    busy_room(client, clock)
    shown = all_messages(client, "ops")
    response = export(client, "html")
    page = response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src" not in response.headers["content-security-policy"]
    assert in_order(page, [f'id="m{m["id"]}"' for m in shown])
    assert in_order(page, ["<strong>export</strong>", "half way there", "line one<br />"])
    assert 'src="data:image/png;base64,' in page
    assert "<link" not in page and "http://" not in page.split("</head>")[0]


def test_script_and_javascript_links_come_out_inert_in_the_html_transcript(client, clock):
    busy_room(client, clock)
    page = export(client, "html").text
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"href=[\"']?\s*javascript:", page, re.IGNORECASE)
    assert "[x](javascript:alert(1))" in page


def test_a_transcript_covers_only_its_time_range(client, clock):
    busy_room(client, clock)
    lines = export(
        client, "jsonl", since="2026-03-02T09:00:10Z", until="2026-03-02T09:00:20Z"
    ).text.splitlines()
    stamps = [json.loads(line)["created_at"] for line in lines]
    assert stamps == [
        "2026-03-02T09:00:10Z",
        "2026-03-02T09:00:10Z",
        "2026-03-02T09:00:15Z",
        "2026-03-02T09:00:15Z",
    ]


def test_transcript_errors_name_the_field(client):
    room_with(client, "ops")
    bad_format = client.get("/api/v1/rooms/ops/transcript", params={"format": "pdf"})
    assert bad_format.status_code == 422 and bad_format.json()["field"] == "format"
    backwards = client.get(
        "/api/v1/rooms/ops/transcript",
        params={"since": "2026-03-03T00:00:00Z", "until": "2026-03-02T00:00:00Z"},
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "until"
    assert client.get("/api/v1/rooms/nowhere/transcript").status_code == 404
    limited = make_token(client, "ingest", rooms=["other"])
    hidden = client.get("/api/v1/rooms/ops/transcript", headers=as_token(client, limited))
    assert hidden.status_code == 404
