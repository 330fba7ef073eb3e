"""The curl line and the Apprise URL a Slack-style integration's answer gives, run as a
user pastes them (curl in a shell, the apprise command), post in its room."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.servers import missing, serve, wait_for
from thereyet.server.app import create_app

pytestmark = pytest.mark.slow


@pytest.fixture
def hub(sqlite_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    with (
        serve(create_app(make_settings(sqlite_url, tmp_path))) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api,
    ):
        assert api.put("/api/v1/oncall/public-url", json={"public_url": url}).is_success
        yield api


def _room_texts(api: httpx.Client) -> list[str]:
    return [m["text"] for m in api.get("/api/v1/rooms/ops/messages").json()["messages"]]


def test_the_example_curl_line_and_apprise_url_post_in_the_room(hub: httpx.Client):
    if shutil.which("curl") is None:
        missing("curl is not installed")
    made = hub.post("/api/v1/integrations", json={"name": "chat", "kind": "slack", "room": "ops"})
    example = made.json()["example"]
    curl = example.split("\n\n")[0].split("\n", 1)[1]  # after its comment line
    subprocess.run(["bash", "-c", curl], check=True, capture_output=True, timeout=30)
    apprise_line = example.rsplit("\n", 1)[1]
    argv = shlex.split(apprise_line)
    apprise = Path(sys.executable).with_name("apprise")
    subprocess.run([str(apprise), *argv[1:]], check=True, capture_output=True, timeout=60)
    texts = wait_for(lambda: len(_room_texts(hub)) == 2 and _room_texts(hub), what="two posts")
    assert any("Deploy of" in t for t in texts) and "Deploy finished" in texts
