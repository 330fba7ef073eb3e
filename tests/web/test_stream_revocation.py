"""Issue 11, finding 5: revoking a share link, signing out or disabling a user ends
the live streams they opened, at once (a real hub served by uvicorn, both backends)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.servers import serve
from tests.web.conftest import add_user, page_csrf, sign_in
from thereyet.server.app import create_app

# A stream that is not ended sends nothing for 15 s (its keep-alive interval): reading
# it with this timeout fails the test rather than waiting. Ended at once, it ends well
# within it, even on a loaded machine (5 s was too short for one under CI).
WITHIN = httpx.Timeout(12.0)


@pytest.fixture
def served_hub(db_url: str, tmp_path: Path) -> Iterator[tuple[str, httpx.Client]]:
    """A served hub with room ops and a run in it; its database URL in `hub_db`."""
    app = create_app(make_settings(db_url, tmp_path))
    with (
        serve(app) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api,
    ):
        assert api.post("/api/v1/rooms", json={"name": "ops"}).status_code == 201
        api.post("/api/v1/runs", json={"job": "export", "room": "ops"})
        yield url, api


def stream_ends(
    viewer: httpx.Client, path: str, revoke: object, within: httpx.Timeout = WITHIN
) -> list[bytes]:
    """Open `path` as a live stream, call `revoke()` once it is open, and return what
    the stream sent until the hub ended it (httpx.ReadTimeout if it does not)."""
    with viewer.stream("GET", path, timeout=within) as response:
        assert response.status_code == 200
        chunks = response.iter_raw()
        received = [next(chunks)]  # "retry: ..." then the snapshot: the stream is open
        revoke()  # type: ignore[operator]
        received.extend(chunks)  # ends when the hub closes the stream
    return received


def test_revoking_a_share_link_ends_its_open_streams(served_hub):
    url, api = served_hub
    made = api.post("/api/v1/shares", json={"kind": "room", "target": "ops"}).json()
    token = made["url"].rsplit("/", 1)[1]

    def revoke() -> None:
        assert api.delete(f"/api/v1/shares/{made['id']}").status_code == 204

    with httpx.Client(base_url=url) as visitor:
        stream_ends(visitor, f"/live/room/ops?share={token}", revoke)
        again = visitor.get(f"/live/room/ops?share={token}", timeout=WITHIN)
        assert again.status_code == 404


def test_signing_out_ends_the_streams_of_that_session(served_hub):
    url, api = served_hub
    add_user(api, "ana", "operator")
    with httpx.Client(base_url=url) as browser:
        sign_in(browser, "ana")
        csrf = page_csrf(browser.get("/rooms/ops").text)

        def sign_out() -> None:
            browser.post("/logout", data={"csrf": csrf}, follow_redirects=False)

        stream_ends(browser, "/live/runs", sign_out)


def test_disabling_a_user_ends_all_their_streams(served_hub):
    url, api = served_hub
    add_user(api, "bo", "viewer")
    with httpx.Client(base_url=url) as browser:
        sign_in(browser, "bo")

        def disable() -> None:
            assert api.post("/api/v1/users/bo/disable").status_code == 204

        stream_ends(browser, "/live/room/ops", disable)
        assert browser.get("/live/room/ops", follow_redirects=False).status_code == 303


def test_a_user_disabled_from_the_command_line_loses_their_streams_too(
    served_hub, db_url: str, tmp_path: Path
):
    """The command line writes the database, not the hub's bus: open streams notice
    on their next check (every 5 s, plus up to 5 s of a remembered session)."""
    url, api = served_hub
    add_user(api, "cy", "viewer")
    with httpx.Client(base_url=url) as browser:
        sign_in(browser, "cy")

        def disable() -> None:
            command = ["thereyet", "user", "disable", "cy", "--db", db_url]
            done = subprocess.run(
                [*command, "--data-dir", str(tmp_path)], capture_output=True, check=False
            )
            assert done.returncode == 0, done.stderr

        stream_ends(browser, "/live/runs", disable, within=httpx.Timeout(12.0))
