"""Several real nodes on one PostgreSQL database: what one node ingests, a page open on
any node shows live; what one node revokes, every node refuses within a second."""

from __future__ import annotations

import http.client as http_client
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.browsing import SseEvent, SseStream, sign_in
from tests.nodes import REPO, Cluster
from tests.scaleout.conftest import need_balancer
from tests.servers import HubProcess

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
VIEWER, PASSWORD = "watcher", "a long enough passphrase for tests"
REVOKED_WITHIN = 1.0  # seconds (issue 12)


def _viewer_cookie(node: HubProcess) -> str:
    node.post("/api/v1/users", {"username": VIEWER, "password": PASSWORD, "role": "viewer"})
    return sign_in(node.url, VIEWER, PASSWORD)


def _shows(run_id: str, done: float):
    def match(event: SseEvent) -> bool:
        rows = event.data if isinstance(event.data, list) else []
        return any(r.get("id") == run_id and _done(r) == done for r in rows)

    return match


def _done(row: dict) -> float | None:
    progress = row.get("progress") or {}
    return progress.get("done") if isinstance(progress, dict) else None


def _report(node: HubProcess | Cluster, run_id: str, done: int) -> None:
    event = {"id": f"p{done}", "type": "progress", "done": done, "total": 100}
    node.post(f"/api/v1/runs/{run_id}/events", {"events": [event]})


def _refused_after(check, timeout: float = 10) -> float:
    """Seconds until `check()` says refused (polling every 10 ms)."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, "never refused"
        time.sleep(0.01)
    return time.monotonic() - start


def test_a_report_through_node_a_reaches_streams_open_on_node_b(nodes_db: str, tmp_path: Path):
    with Cluster.start(nodes_db, tmp_path, nodes=2) as hub:
        a, b = hub.nodes
        cookie = _viewer_cookie(a)
        run = a.post("/api/v1/runs", {"job": "export", "room": "ops", "total": 100})
        with (
            SseStream(b.url + "/live/runs", cookie=cookie) as dashboard,
            SseStream(b.url + f"/live/run/{run['id']}", cookie=cookie) as page,
            SseStream(b.url + "/live/room/ops", cookie=cookie) as room,
        ):
            assert dashboard.status == page.status == room.status == 200
            dashboard.wait_for(lambda e: e.event == "runs", "the dashboard's snapshot")
            page.wait_for(lambda e: e.event == "run", "the run page's snapshot")
            for done in range(1, 11):
                _report(a, run["id"], done)
            dashboard.wait_for(_shows(run["id"], 10), "the 10th report on B's dashboard")
            page.wait_for(_shows(run["id"], 10), "the 10th report on B's run page")
            a.post("/api/v1/rooms/ops/messages", {"text": "deploy done, said on A"})
            room.wait_for(
                lambda e: any(m.get("text") == "deploy done, said on A" for m in e.data),
                "A's message in B's room",
            )
        # Each node delivered the dashboard's updates once: no frame shows a value twice.
        shown = [_done(r) for e in dashboard.events[1:] for r in e.data if r["id"] == run["id"]]
        assert len(shown) == len(set(shown))
        assert b.get("/api/v1/health", token=None)["bus"] == "listening"


@pytest.mark.parametrize("kind", ["nginx", "haproxy"])
def test_reports_through_the_balancer_reach_dashboards_on_every_node(
    nodes_db: str, tmp_path: Path, kind: str
):
    need_balancer(kind)
    with Cluster.start(nodes_db, tmp_path, nodes=3, balancer=kind) as hub:
        cookie = _viewer_cookie(hub.nodes[0])
        run = hub.post("/api/v1/runs", {"job": "import", "total": 100})
        streams = [SseStream(hub.url + "/live/runs", cookie=cookie) for _ in range(3)]
        streams += [SseStream(n.url + "/live/runs", cookie=cookie) for n in hub.nodes]
        try:
            assert [s.status for s in streams] == [200] * 6
            assert all(
                s.headers.get("content-type", "").startswith("text/event-stream") for s in streams
            )
            for stream in streams:
                stream.wait_for(lambda e: e.event == "runs", "the snapshot")
            for done in range(1, 31):  # one node takes them (hashed by run): the others relay
                _report(hub, run["id"], done)
            for stream in streams:
                stream.wait_for(_shows(run["id"], 30), "the last report on every dashboard")
        finally:
            for stream in streams:
                stream.close()
        runs_by_node = {
            n.name: n.get(f"/api/v1/runs/{run['id']}")["progress"]["done"] for n in hub.nodes
        }
        assert set(runs_by_node.values()) == {30}


def test_a_token_revoked_through_node_a_is_refused_by_node_b_within_a_second(
    nodes_db: str, tmp_path: Path
):
    with Cluster.start(nodes_db, tmp_path, nodes=2) as hub:
        a, b = hub.nodes
        made = a.post("/api/v1/tokens", {"name": "ci", "scope": "read"})
        token = made["token"]
        for node in (a, b):  # both nodes have checked it, and remember it for 5 s
            assert node.request("GET", "/api/v1/runs", token=token)[0] == 200
        status, _ = a.request("DELETE", f"/api/v1/tokens/{made['id']}")
        assert status == 204
        took = _refused_after(lambda: b.request("GET", "/api/v1/runs", token=token)[0] == 401)
        assert took < REVOKED_WITHIN


def test_a_ping_key_revoked_through_node_a_is_refused_by_node_b_within_a_second(
    nodes_db: str, tmp_path: Path
):
    with Cluster.start(nodes_db, tmp_path, nodes=2) as hub:
        a, b = hub.nodes
        made = a.post("/api/v1/ping-keys", {"name": "cron"})
        slug = f"/ping/{made['key']}/db-backup"
        assert a.request("GET", f"{slug}?create=1", token=None)[0] == 201
        for node in (a, b):  # both nodes have checked the key, and remember it for 5 s
            assert node.request("GET", slug, token=None)[0] == 200
        assert a.request("DELETE", f"/api/v1/ping-keys/{made['id']}")[0] == 204
        took = _refused_after(lambda: b.request("GET", slug, token=None)[0] == 404)
        assert took < REVOKED_WITHIN


def test_a_share_link_revoked_on_node_a_is_refused_by_node_b_within_a_second(
    nodes_db: str, tmp_path: Path
):
    with Cluster.start(nodes_db, tmp_path, nodes=2) as hub:
        a, b = hub.nodes
        a.post("/api/v1/rooms", {"name": "ops", "title": "Ops"})
        share = a.post("/api/v1/shares", {"kind": "room", "target": "ops"})
        link = b.url + "/live/room/ops?share=" + urllib.parse.quote(share["token"])
        with SseStream(link) as stream:  # B has checked the link
            assert stream.status == 200
        status, _ = a.request("DELETE", f"/api/v1/shares/{share['id']}")
        assert status == 204

        def refused() -> bool:
            stream = SseStream(link)
            stream.close()
            return stream.status == 404

        assert _refused_after(refused) < REVOKED_WITHIN


def test_signing_out_on_node_a_ends_the_session_on_node_b_within_a_second(
    nodes_db: str, tmp_path: Path
):
    with Cluster.start(nodes_db, tmp_path, nodes=2) as hub:
        a, b = hub.nodes
        cookie = _viewer_cookie(a)
        status, page = b.request("GET", "/", token=None, headers={"Cookie": cookie})
        assert status == 200
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        form = urllib.parse.urlencode({"csrf": csrf[1]}).encode()
        answered = _post_form(a.url + "/logout", form, cookie)
        assert answered == 303

        def refused() -> bool:
            stream = SseStream(b.url + "/live/runs", cookie=cookie)
            stream.close()
            return stream.status != 200

        assert _refused_after(refused) < REVOKED_WITHIN


def _post_form(url: str, form: bytes, cookie: str) -> int:
    parts = urllib.parse.urlsplit(url)
    conn = http_client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        conn.request("POST", parts.path, form, headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_a_token_revoked_with_the_command_line_is_refused_by_running_nodes_within_a_second(
    nodes_db: str, tmp_path: Path
):
    with Cluster.start(nodes_db, tmp_path, nodes=1) as hub:
        (node,) = hub.nodes
        made = node.post("/api/v1/tokens", {"name": "ci", "scope": "read"})
        assert node.request("GET", "/api/v1/runs", token=made["token"])[0] == 200
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        command = [sys.executable, "-m", "thereyet.cli.main", "token", "revoke", made["id"]]
        done = subprocess.run(
            [*command, "--db", nodes_db], capture_output=True, text=True, env=env, timeout=60
        )
        assert done.returncode == 0, done.stderr
        status = lambda: node.request("GET", "/api/v1/runs", token=made["token"])[0]  # noqa: E731
        assert _refused_after(lambda: status() == 401) < REVOKED_WITHIN
