"""`thereyet token create --scope agent`: a token for agents, good for the agent protocol only."""

from __future__ import annotations

import httpx

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.servers import serve
from thereyet.cli.main import main
from thereyet.server.app import create_app


def test_an_agent_token_from_the_command_line_registers_agents_and_reads_nothing(
    tmp_path, capsys, clock
):
    with serve(create_app(make_settings("", tmp_path), clock)) as url:
        hub = ["--url", url, "--token", ADMIN_TOKEN]
        assert main(["token", "create", "--scope", "agent", "--name", "db hosts", *hub]) == 0
        token = capsys.readouterr().out.strip()
        auth = {"Authorization": f"Bearer {token}"}
        hello = {"name": "db-2", "host": "db-2.example", "tags": ["db"]}
        registered = httpx.post(f"{url}/api/v1/agents/register", json=hello, headers=auth)
        assert registered.status_code == 200 and registered.json()["state"] == "online"
        refused = httpx.get(f"{url}/api/v1/runs", headers=auth)
        assert refused.status_code == 403
        assert refused.json()["error"] == "an agent token may not read runs"
