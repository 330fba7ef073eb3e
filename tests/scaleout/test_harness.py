"""The multi-node harness itself: real nodes on one database, behind real balancers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nodes import Cluster
from tests.scaleout.conftest import need_balancer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.mark.parametrize("kind", ["nginx", "haproxy"])
def test_any_node_behind_the_balancer_answers_for_state_made_on_another(
    nodes_db: str, tmp_path: Path, kind: str
) -> None:
    need_balancer(kind)
    with Cluster.start(nodes_db, tmp_path, nodes=2, balancer=kind) as hub:
        a, b = hub.nodes
        run = a.post("/api/v1/runs", {"job": "export", "total": 10})
        assert b.get(f"/api/v1/runs/{run['id']}")["job"] == "export"
        nodes_seen = {hub.get(f"/api/v1/runs/{run['id']}")["id"] for _ in range(4)}
        assert nodes_seen == {run["id"]}


def test_a_killed_node_restarts_on_its_port_and_the_balancer_keeps_answering(
    nodes_db: str, tmp_path: Path
) -> None:
    need_balancer("nginx")
    with Cluster.start(nodes_db, tmp_path, nodes=2, balancer="nginx") as hub:
        a, _b = hub.nodes
        port = a.port
        a.kill()
        assert not a.running
        statuses = [hub.request("GET", "/api/v1/runs")[0] for _ in range(6)]
        assert statuses == [200] * 6  # nginx skips the dead node
        a.start()
        assert a.port == port and a.get("/api/v1/health")
        assert "starting" in a.log_path.read_text()
