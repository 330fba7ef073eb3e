"""Commands typed on the room page run with the signed-in person's role."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from tests.chatops.conftest import make_room, texts
from tests.web.conftest import add_user, page_csrf, sign_in


def test_a_command_typed_on_the_room_page_answers_with_the_persons_commands(
    client: TestClient, commands_toml: Path
):
    commands_toml.write_text(
        """
[commands.purge]
template = "purge {cache}"
allow = { roles = ["admin"] }
action = { exec = ["/bin/true"] }
"""
    )
    make_room(client, "ops")
    add_user(client, "olga", "operator")
    sign_in(client, "olga")  # the page uses the session cookie, the API the admin token
    csrf = page_csrf(client.get("/rooms/ops").text)
    response = client.post(
        "/rooms/ops/messages", data={"text": "!help", "csrf": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    listing = texts(client, "ops")[-1]
    assert "!run {job}" in listing  # operators may start jobs
    assert "!purge" not in listing  # admins only
    assert texts(client, "ops")[-2] == "!help"
