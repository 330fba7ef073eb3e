"""Commands typed in a room run end to end: acknowledged, streamed, recorded, finished."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.chatops.conftest import (
    Recorder,
    make_room,
    messages,
    person,
    say,
    say_as,
    texts,
    wait_for_record,
)
from tests.conftest import as_token


@pytest.fixture(params=["sqlite"])
def db_url(sqlite_url: str) -> str:
    """SQLite here; test_commands_on_both_backends.py runs the key paths on PostgreSQL too."""
    return sqlite_url


PRINT_LINES = "import sys\nfor i in range(int(sys.argv[2])): print(sys.argv[1], 'line', i)"


def write_commands(path: Path, extra: str = "") -> None:
    path.write_text(
        f"""
[commands.deploy]
template = "deploy {{app}} {{count:int=3}}"
description = "Deploy an app"
examples = ["!deploy web"]
allow = {{ roles = ["admin"] }}
action = {{ exec = [{sys.executable!r}, "-c", {PRINT_LINES!r}, "{{app}}", "{{count}}"] }}

[commands.release]
template = "release {{app}} to {{env:choice(staging,prod)=staging}}"
description = "Release through the deploy service"
confirm = true
allow = {{ roles = ["admin", "operator"] }}
approval = {{ env = ["prod"] }}
action = {{ exec = [{sys.executable!r}, "-c", "print('released')"] }}
{extra}
"""
    )


def ingest_token(client: TestClient, name: str) -> dict[str, str]:
    response = client.post("/api/v1/tokens", json={"name": name, "scope": "ingest"})
    assert response.status_code == 201, response.text
    return as_token(client, response.json()["token"])


def test_a_command_runs_from_a_room_message_with_its_record_and_streamed_output(
    client: TestClient, commands_toml: Path
):
    write_commands(commands_toml)
    make_room(client)
    say(client, "ops", "!deploy web 130")
    [record] = client.get("/api/v1/commands/runs", params={"room": "ops"}).json()["runs"]
    record = wait_for_record(client, record["id"])
    assert record["status"] == "succeeded", record
    assert (record["command"], record["args"], record["exit_code"]) == (
        "deploy",
        {"app": "web", "count": 130},
        0,
    )
    assert record["requested_by"] == "admin"
    assert record["output"].count("web line") == 130
    assert record["started_at"] and record["finished_at"]
    found = messages(client, "ops")
    assert found[0]["text"] == "!deploy web 130"
    assert found[1]["text"].startswith(f"▶ #{record['id']} `!deploy app=web count=130`")
    output = [m for m in found if m["kind"] == "output"]
    assert len(output) >= 4  # 130 lines, at most 40 a message
    assert "web line 0" in output[0]["text"] and "web line 129" in output[-1]["text"]
    [attached] = [m for m in found if m["kind"] == "attachment"]
    content = client.get(attached["data"]["attachment"]["url"]).text
    assert content.count("web line") == 130
    assert re.match(rf"✓ #{record['id']} .* succeeded \(exit 0\) in [\d.]+s$", found[-1]["text"])
    # Every message of the execution is in one thread.
    assert {m["data"]["thread"] for m in found[1:]} == {f"command:{record['id']}"}


def test_a_failing_command_says_so_with_its_exit_status(client: TestClient, commands_toml: Path):
    write_commands(
        commands_toml,
        extra=f"""
[commands.broken]
template = "broken"
allow = {{ roles = ["admin"] }}
action = {{ exec = [{sys.executable!r}, "-c", "import sys; print('oops'); sys.exit(3)"] }}
""",
    )
    make_room(client)
    say(client, "ops", "!broken")
    [record] = client.get("/api/v1/commands/runs").json()["runs"]
    record = wait_for_record(client, record["id"])
    assert (record["status"], record["exit_code"], record["output"]) == ("failed", 3, "oops\n")
    assert "✗" in texts(client, "ops")[-1] and "(exit 3)" in texts(client, "ops")[-1]


def test_help_lists_only_what_the_caller_may_run(client: TestClient, commands_toml: Path):
    write_commands(commands_toml)
    make_room(client)
    bob = ingest_token(client, "bob")
    say(client, "ops", "!help", **bob)
    listing = texts(client, "ops")[-1]
    assert "`!release {app} to {env:staging|prod=staging}`" in listing
    assert "!run {job}" in listing and "!status" in listing
    assert "!deploy" not in listing  # admins only
    say(client, "ops", "!help")
    assert "!deploy {app} {count:int=3}" in texts(client, "ops")[-1]


def test_a_command_the_caller_may_not_run_is_refused_not_run_and_recorded(
    client: TestClient, commands_toml: Path
):
    write_commands(commands_toml)
    make_room(client)
    say(client, "ops", "!deploy web 5", **ingest_token(client, "bob"))
    assert texts(client, "ops")[-1] == "bob: you may not run `!deploy` here"
    [record] = client.get("/api/v1/commands/runs", params={"room": "ops"}).json()["runs"]
    assert {k: record[k] for k in ("command", "text", "requested_by", "status", "error")} == {
        "command": "deploy",
        "text": "!deploy web 5",
        "requested_by": "bob",
        "status": "refused",
        "error": "you may not run `!deploy` here",
    }
    assert (record["output"], record["started_at"]) == ("", None)
    assert record["created_at"] == record["finished_at"] == "2026-03-02T09:00:00Z"
    # The refusal is said in the record's thread.
    [said] = [m for m in messages(client, "ops") if m["author"] == "thereyet"]
    assert said["data"]["thread"] == f"command:{record['id']}"
    assert client.get(f"/api/v1/commands/runs/{record['id']}").json() == record


def test_unknown_commands_and_wrong_arguments_are_recorded_as_refused_but_chat_is_not(
    client: TestClient, commands_toml: Path
):
    write_commands(commands_toml)
    make_room(client)
    for text in ("deploy went fine!", "!!! it is down", "yes", "yes abcd", "! deploy"):
        say(client, "ops", text)
    assert client.get("/api/v1/commands/runs").json()["runs"] == []
    say(client, "ops", "!deplyo web")
    say(client, "ops", "!deploy web many")
    records = client.get("/api/v1/commands/runs").json()["runs"]
    assert [(r["command"], r["status"], r["requested_by"]) for r in records] == [
        ("deploy", "refused", "admin"),
        ("deplyo", "refused", "admin"),
    ]
    assert "count" in records[0]["error"] and "did you mean `!deploy`" in records[1]["error"]


def test_unknown_and_ambiguous_commands_suggest_the_nearest(
    client: TestClient, commands_toml: Path
):
    write_commands(commands_toml)
    make_room(client)
    say(client, "ops", "!deplyo web")
    assert "did you mean `!deploy`" in texts(client, "ops")[-1]
    say(client, "ops", "!r web")
    answer = texts(client, "ops")[-1]
    assert "could be" in answer and "`!release`" in answer and "`!run`" in answer
    say(client, "ops", "!deploy")
    assert "app is missing" in texts(client, "ops")[-1]


def _code(text: str) -> str:
    found = re.search(r"`(?:yes|approve) ([0-9a-f]{4})`", text)
    assert found, text
    return found.group(1)


def test_a_command_waits_for_confirmation_and_a_second_persons_approval(
    client: TestClient, commands_toml: Path
):
    write_commands(commands_toml)
    make_room(client)
    alice, bob = ingest_token(client, "alice"), ingest_token(client, "bob")
    bob_in_person = person(client, "bob")
    say(client, "ops", "!release web to prod", **alice)
    prompt = texts(client, "ops")[-1]
    assert "alice: reply `yes" in prompt and "env=prod needs a second person" in prompt
    code = _code(prompt)
    [record] = client.get("/api/v1/commands/runs").json()["runs"]
    assert record["status"] == "waiting"
    say(client, "ops", f"approve {code}", **alice)
    assert "approval must come from a second person" in texts(client, "ops")[-1]
    say(client, "ops", f"yes {code}", **bob)
    assert "only alice can confirm" in texts(client, "ops")[-1]
    say(client, "ops", f"yes {code}", **alice)
    assert "still waits" in texts(client, "ops")[-1]
    say(client, "ops", f"approve {code}", **bob)
    assert "approval must come from a signed-in person" in texts(client, "ops")[-1]
    before = len(texts(client, "ops"))
    say_as(client, bob_in_person, "ops", f"approve {code}")
    # The command may have posted its output already, after the answer.
    assert any("approved by bob: running" in t for t in texts(client, "ops")[before:])
    record = wait_for_record(client, record["id"])
    assert (record["status"], record["approved_by"], record["output"]) == (
        "succeeded",
        "bob",
        "released\n",
    )


def test_no_with_the_code_cancels_a_command_waiting_for_confirmation(
    client: TestClient, commands_toml: Path
):
    write_commands(commands_toml)
    make_room(client)
    say(client, "ops", "!release web")
    code = _code(texts(client, "ops")[-1])
    [record] = client.get("/api/v1/commands/runs").json()["runs"]
    say(client, "ops", f"no {code}")
    assert f"#{record['id']} cancelled by" in texts(client, "ops")[-1]
    assert client.get(f"/api/v1/commands/runs/{record['id']}").json()["status"] == "cancelled"
    say(client, "ops", f"yes {code}")  # too late: nothing waits for this code any more
    assert client.get(f"/api/v1/commands/runs/{record['id']}").json()["status"] == "cancelled"
    assert "released" not in "\n".join(texts(client, "ops"))


SHOW_ENV = (
    "import os; print(sorted(k for k in os.environ if k.startswith(('THEREYET', 'VISIBLE'))))"
)


def test_an_exec_command_does_not_inherit_the_hubs_thereyet_variables(
    client: TestClient, commands_toml: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("THEREYET_ADMIN_TOKEN", "ty_secret_of_the_hub")
    monkeypatch.setenv("THEREYET_DB", "postgresql://hub:password@db/hub")
    monkeypatch.setenv("VISIBLE_TO_COMMANDS", "1")
    commands_toml.write_text(f"""
[commands.env]
template = "env"
allow = {{ roles = ["admin"] }}
action = {{ exec = [{sys.executable!r}, "-c", {SHOW_ENV!r}] }}
""")
    make_room(client)
    say(client, "ops", "!env")
    [record] = client.get("/api/v1/commands/runs").json()["runs"]
    record = wait_for_record(client, record["id"])
    assert (record["status"], record["output"]) == ("succeeded", "['VISIBLE_TO_COMMANDS']\n")


def test_a_confirmation_code_expires_after_five_minutes(
    client: TestClient, commands_toml: Path, clock
):
    write_commands(commands_toml)
    make_room(client)
    say(client, "ops", "!release web")
    code = _code(texts(client, "ops")[-1])
    clock.advance(minutes=5, seconds=1)
    [record] = client.get("/api/v1/commands/runs").json()["runs"]
    assert record["status"] == "expired"
    say(client, "ops", f"yes {code}")
    assert f"code {code} has expired" in texts(client, "ops")[-1]
    assert client.get(f"/api/v1/commands/runs/{record['id']}").json()["status"] == "expired"


def test_an_http_action_posts_the_arguments(
    client: TestClient, commands_toml: Path, recorder: Recorder
):
    commands_toml.write_text(f"""
[commands.flip]
template = "flip {{flag}} {{on:bool=yes}}"
allow = {{ roles = ["admin"] }}
action = {{ http = "http://{recorder.url}/flags", headers = {{ X-Key = "k1" }} }}
""")
    make_room(client)
    say(client, "ops", "!flip dark-mode no")
    [record] = client.get("/api/v1/commands/runs").json()["runs"]
    record = wait_for_record(client, record["id"])
    assert record["status"] == "succeeded", record
    [sent] = recorder.requests
    assert sent["path"] == "/flags" and sent["headers"]["X-Key"] == "k1"
    assert sent["json"]["args"] == {"flag": "dark-mode", "on": False}
    assert sent["json"]["room"] == "ops"
    assert "HTTP 200" in record["output"]


def test_the_commands_api_lists_commands_for_the_caller(client: TestClient, commands_toml: Path):
    write_commands(commands_toml)
    names = [c["name"] for c in client.get("/api/v1/commands").json()["commands"]]
    assert {"deploy", "release", "help", "run", "status", "eta"} <= set(names)
    commands_toml.write_text("[commands")
    body = client.get("/api/v1/commands").json()
    assert "not valid TOML" in body["config_error"]
    assert "deploy" in [c["name"] for c in body["commands"]]  # the last good file is kept


def test_output_reaches_the_room_while_the_command_still_runs(
    client: TestClient, commands_toml: Path, tmp_path: Path
):
    gate = tmp_path / "go-on"
    script = (
        "import pathlib, sys, time\n"
        "print('step 1 of 2', flush=True)\n"
        "while not pathlib.Path(sys.argv[1]).exists(): time.sleep(0.02)\n"
        "print('step 2 of 2')"
    )
    commands_toml.write_text(
        f"""
[commands.migrate]
template = "migrate"
allow = {{ roles = ["admin"] }}
action = {{ exec = [{sys.executable!r}, "-c", {script!r}, {str(gate)!r}] }}
"""
    )
    make_room(client)
    say(client, "ops", "!migrate")
    [record] = client.get("/api/v1/commands/runs").json()["runs"]
    deadline = time.monotonic() + 15
    while not [m for m in messages(client, "ops") if m["kind"] == "output"]:
        assert time.monotonic() < deadline, "no output streamed"
        time.sleep(0.05)
    running = client.get(f"/api/v1/commands/runs/{record['id']}").json()
    assert running["status"] == "running" and running["output"] == "step 1 of 2\n"
    gate.touch()
    done = wait_for_record(client, record["id"])
    assert done["output"] == "step 1 of 2\nstep 2 of 2\n"
    outputs = [m["text"] for m in messages(client, "ops") if m["kind"] == "output"]
    assert outputs == ["```\nstep 1 of 2\n```", "```\nstep 2 of 2\n```"]
    assert not [m for m in messages(client, "ops") if m["kind"] == "attachment"]


def test_arguments_never_reach_a_shell_and_a_slow_command_times_out(
    client: TestClient, commands_toml: Path
):
    commands_toml.write_text(
        f"""
[commands.echo]
template = "echo {{text}}"
allow = {{ roles = ["admin"] }}
action = {{ exec = [{sys.executable!r}, "-c", "import sys; print(repr(sys.argv[1:]))", "{{text}}"] }}

[commands.hang]
template = "hang"
allow = {{ roles = ["admin"] }}
action = {{ exec = [{sys.executable!r}, "-c", "import time; time.sleep(60)"], timeout = 0.5 }}
"""
    )
    make_room(client)
    say(client, "ops", "!echo 'web; touch /tmp/pwned $(id)'")
    say(client, "ops", "!hang")
    echo, hang = reversed(client.get("/api/v1/commands/runs").json()["runs"])
    assert wait_for_record(client, echo["id"])["output"] == "['web; touch /tmp/pwned $(id)']\n"
    hung = wait_for_record(client, hang["id"])
    assert (hung["status"], hung["error"]) == ("failed", "timed out")


def test_two_waiting_commands_in_a_room_never_share_a_code(client: TestClient, commands_toml: Path):
    write_commands(commands_toml)
    make_room(client)
    codes = iter(["aaaa", "aaaa", "bbbb"])
    client.app.state.commands._new_code = lambda: next(codes)
    say(client, "ops", "!release web")
    say(client, "ops", "!release api")
    first, second = (_code(t) for t in texts(client, "ops") if "waits" in t)
    assert (first, second) == ("aaaa", "bbbb")
    say(client, "ops", "yes bbbb")
    assert "`!release app=api env=staging` for admin: running" in texts(client, "ops")[-1]


def test_very_long_output_shows_ten_messages_and_attaches_the_rest(
    client: TestClient, commands_toml: Path
):
    write_commands(commands_toml)
    make_room(client)
    say(client, "ops", "!deploy web 500")
    [record] = client.get("/api/v1/commands/runs").json()["runs"]
    assert wait_for_record(client, record["id"])["status"] == "succeeded"
    found = messages(client, "ops")
    assert len([m for m in found if m["kind"] == "output"]) == 10
    assert f"#{record['id']}: more output in the attachment at the end" in [
        m["text"] for m in found
    ]
    [attached] = [m for m in found if m["kind"] == "attachment"]
    assert client.get(attached["data"]["attachment"]["url"]).text.count("web line") == 500


def test_status_and_eta_answer_at_once(client: TestClient):
    make_room(client)
    say(client, "ops", "!status")
    assert texts(client, "ops")[-1] == "nothing is running"
    created = client.post("/api/v1/runs", json={"job": "customer-export", "total": 10})
    assert created.status_code == 201, created.text
    say(client, "ops", "!eta customer-export")
    assert texts(client, "ops")[-1].startswith("- customer-export `")
    say(client, "ops", "!eta")
    assert texts(client, "ops")[-1] == "admin: job is missing: !eta {job}"
