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


def test_an_agent_token_made_for_one_agent_registers_only_that_name(tmp_path, capsys, clock):
    with serve(create_app(make_settings("", tmp_path), clock)) as url:
        hub = ["--url", url, "--token", ADMIN_TOKEN]
        assert main(["token", "create", "--scope", "agent", "--agent", "db-2", *hub]) == 0
        auth = {"Authorization": f"Bearer {capsys.readouterr().out.strip()}"}
        assert main(["token", "list", *hub]) == 0
        assert "agent db-2\tagent: db-2" in capsys.readouterr().out
        for name, status in (("db-3", 403), ("db-2", 200)):
            hello = {"name": name, "host": f"{name}.example"}
            answer = httpx.post(f"{url}/api/v1/agents/register", json=hello, headers=auth)
            assert answer.status_code == status, answer.text
