"""An agent target in the configuration files: applied as the API stores it, planned
again with no change, exported as written, and refused with the field when wrong."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.config.conftest import ok

TEAM = """
[rooms.ops]

[jobs.backup]
rooms = ["ops"]
schedule = "0 3 * * *"
target = { kind = "agent", command = ["/opt/jobs/backup", "--full"], tags = ["linux", "db"], policy = "one", retries = 2, retry_delay = 60, time_limit = 3600, env = { MODE = "full" } }
"""


def _files(text: str) -> dict[str, dict[str, str]]:
    return {"files": {"team.toml": text}}


def test_an_agent_target_applies_plans_clean_and_exports(client: TestClient):
    ok(client.post("/api/v1/config/apply", json=_files(TEAM)))
    target = ok(client.get("/api/v1/jobs/backup/schedule"))["target"]
    assert target["command"] == ["/opt/jobs/backup", "--full"]
    assert (target["tags"], target["retries"], target["time_limit"]) == (["db", "linux"], 2, 3600)
    plan = ok(client.post("/api/v1/config/plan", json=_files(TEAM)))
    assert plan["changes"] == []
    exported = str(ok(client.get("/api/v1/config/export")))
    assert "/opt/jobs/backup" in exported and "retry_delay" in exported


def test_a_bad_agent_target_in_a_file_is_refused_naming_the_field(client: TestClient):
    bad = TEAM.replace(
        'command = ["/opt/jobs/backup", "--full"]', 'command = ["a", "b"], shell = true'
    )
    plan = ok(client.post("/api/v1/config/plan", json=_files(bad)))
    [problem] = plan["problems"]
    assert (problem["field"], problem["line"], problem["level"]) == (
        "jobs.backup.target.command",
        7,
        "error",
    )
    assert problem["reason"] == "with shell = true, must be one string (the script)"
    refused = client.post("/api/v1/config/apply", json=_files(bad))
    assert refused.status_code >= 400
    assert client.get("/api/v1/jobs/backup/schedule").status_code == 404
