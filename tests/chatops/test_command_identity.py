"""Issue 11, finding 6: ChatOps knows callers by identity, never by the name they show."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from starlette.testclient import TestClient

from tests.chatops.conftest import make_room, person, say, say_as, texts
from tests.conftest import as_token

COMMANDS = f"""
[commands.release]
template = "release {{app}} to {{env:choice(staging,prod)=staging}}"
description = "Release through the deploy service"
confirm = true
allow = {{ roles = ["admin", "operator"] }}
approval = {{ env = ["prod"] }}
action = {{ exec = [{sys.executable!r}, "-c", "print('released')"] }}

[commands.drop]
template = "drop {{table}}"
description = "Drop a table; users needs a second admin"
allow = {{ roles = ["admin"] }}
approval = {{ table = ["users"] }}
action = {{ exec = [{sys.executable!r}, "-c", "print('dropped')"] }}

[commands.rotate-keys]
template = "rotate-keys"
description = "Only ana may rotate the keys"
allow = {{ users = ["ana"] }}
action = {{ exec = [{sys.executable!r}, "-c", "print('rotated')"] }}
"""


def token(client: TestClient, name: str, scope: str = "ingest") -> dict[str, str]:
    response = client.post("/api/v1/tokens", json={"name": name, "scope": scope})
    assert response.status_code == 201, response.text
    return as_token(client, response.json()["token"])


def code_in(text: str) -> str:
    found = re.search(r"`(?:yes|approve) ([0-9a-f]{4})`", text)
    assert found, text
    return found.group(1)


def status_of_last_command(client: TestClient) -> str:
    return str(client.get("/api/v1/commands/runs").json()["runs"][0]["status"])


def test_a_second_token_with_the_same_name_cannot_confirm_a_command(client, commands_toml: Path):
    commands_toml.write_text(COMMANDS)
    make_room(client)
    alice, impostor = token(client, "alice"), token(client, "alice")
    say(client, "ops", "!release web", **alice)
    code = code_in(texts(client, "ops")[-1])

    say(client, "ops", f"yes {code}", **impostor)
    assert "only alice can confirm" in texts(client, "ops")[-1]
    say(client, "ops", f"no {code}", **impostor)
    assert "only alice can cancel" in texts(client, "ops")[-1]
    assert status_of_last_command(client) == "waiting"


def test_an_ingest_token_cannot_approve_an_admins_production_deploy(client, commands_toml: Path):
    commands_toml.write_text(COMMANDS)
    make_room(client)
    say(client, "ops", "!release web to prod")  # the admin token
    code = code_in(texts(client, "ops")[-1])
    say(client, "ops", f"yes {code}")

    say(client, "ops", f"approve {code}", **token(client, "ci"))
    assert "approval must come from a signed-in person" in texts(client, "ops")[-1]
    say(client, "ops", f"approve {code}", **token(client, "root", scope="admin"))
    assert "approval must come from a signed-in person" in texts(client, "ops")[-1]
    assert status_of_last_command(client) == "waiting"


def test_approval_needs_a_person_the_command_allows(client, commands_toml: Path):
    commands_toml.write_text(COMMANDS)
    make_room(client)
    say(client, "ops", "!drop users")  # the admin token; only admins may run !drop
    code = code_in(texts(client, "ops")[-1])

    say_as(client, person(client, "olga"), "ops", f"approve {code}")  # an operator
    assert "only someone who may run `!drop` can approve it" in texts(client, "ops")[-1]
    assert status_of_last_command(client) == "waiting"
    say_as(client, person(client, "root", role="admin"), "ops", f"approve {code}")
    assert "approved by root: running" in texts(client, "ops")[-1]


def test_a_token_named_like_a_user_is_not_that_user(client, commands_toml: Path):
    commands_toml.write_text(COMMANDS)
    make_room(client)
    say(client, "ops", "!rotate-keys", **token(client, "ana"))
    assert "you may not run `!rotate-keys` here" in texts(client, "ops")[-1]
    assert status_of_last_command(client) == "refused"
    say_as(client, person(client, "ana"), "ops", "!rotate-keys")
    assert status_of_last_command(client) != "refused"
