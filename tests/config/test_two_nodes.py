"""Two real hub processes on one PostgreSQL database see configuration applied
through either of them, commands included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.hubs import api, start_hub, stop_hub
from tests.conftest import ADMIN_TOKEN, _empty_pg
from thereyet.cli.main import main

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_configuration_applied_through_either_node_is_seen_by_both(
    pg_database: str, tmp_path: Path
):
    _empty_pg(pg_database)
    conf = tmp_path / "conf"
    conf.mkdir()
    hubs = [
        start_hub(tmp_path / "a", pg_database, "node-a"),
        start_hub(tmp_path / "b", pg_database, "node-b"),
    ]
    try:
        url_a, url_b = hubs[0][1], hubs[1][1]
        (conf / "team.toml").write_text(
            '[rooms.ops]\ntitle = "Ops"\n\n[commands.greet]\ntemplate = "greet {who}"\n'
            'allow = { roles = ["admin"] }\naction = { exec = ["/bin/echo", "{who}"] }\n'
        )
        assert main(["apply", str(conf), "--url", url_a, "--token", ADMIN_TOKEN]) == 0
        with api(url_b) as hub:
            assert hub.get("/api/v1/rooms/ops").json()["title"] == "Ops"
            assert "greet" in {c["name"] for c in hub.get("/api/v1/commands").json()["commands"]}
        assert main(["plan", str(conf), "--url", url_b, "--token", ADMIN_TOKEN]) == 0

        (conf / "team.toml").write_text('[rooms.ops]\ntitle = "Operations"\n')
        assert main(["apply", str(conf), "--url", url_b, "--token", ADMIN_TOKEN, "--prune"]) == 0
        with api(url_a) as hub:
            assert hub.get("/api/v1/rooms/ops").json()["title"] == "Operations"
            assert "greet" not in {
                c["name"] for c in hub.get("/api/v1/commands").json()["commands"]
            }
        assert main(["plan", str(conf), "--url", url_a, "--token", ADMIN_TOKEN]) == 0
    finally:
        for process, _url in hubs:
            stop_hub(process)
