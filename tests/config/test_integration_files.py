"""Integrations, job ping UUIDs and room bridges in the configuration files: the new shape
(`kind`), the former `format` still read, a rebuild from the files keeping ping URLs and
bridges, and clashes named by file and line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.config.conftest import configure_through_api, ok
from tests.conftest import ADMIN_TOKEN, make_settings
from thereyet.cli.main import main
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.configfile.checks import check
from thereyet.server.configfile.load import load
from thereyet.server.configfile.problems import ConfigInvalid
from thereyet.server.configfile.secrets import Resolver

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UUID_A = "3f1c2b9e-8a7d-4c61-9e2f-0b5d6a7c8e91"
UUID_B = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def write(directory: Path, text: str, name: str = "team.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text)
    return directory


def _export(db: str, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = directory.with_name(directory.name + ".env")
    assert main(["export", str(directory), "--db", db, "--secrets-out", str(secrets)]) == 0
    for line in secrets.read_text().splitlines():
        monkeypatch.setenv(*line.split("=", 1))


def test_a_rebuild_from_the_files_keeps_ping_urls_bridges_and_integration_kinds(
    client: TestClient,
    db_url: str,
    other_db: str,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
):
    configure_through_api(client)
    ping_url = ok(client.get("/api/v1/jobs/backup"))["ping_url"]
    conf = tmp_path / "conf"
    _export(db_url, conf, monkeypatch)
    integrations = (conf / "integrations.toml").read_text()
    assert 'kind = "github"' in integrations and 'kind = "alertmanager"' in integrations
    assert "format" not in integrations
    assert f'ping_uuid = "{ping_url.rsplit("/", 1)[1]}"' in (conf / "jobs.toml").read_text()
    assert 'bridges = ["ops"]' in (conf / "channels.toml").read_text()

    assert main(["apply", str(conf), "--db", other_db]) == 0
    rebuilt = create_app(make_settings(other_db, tmp_path / "rebuilt"), clock)
    with TestClient(rebuilt) as other:
        other.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        assert ok(other.get("/api/v1/jobs/backup"))["ping_url"] == ping_url
        [bridge] = ok(other.get("/api/v1/bridges"))["bridges"]
        assert (bridge["room"], bridge["channel"]) == ("ops", "chat")
        kinds = {
            i["name"]: i["kind"] for i in ok(other.get("/api/v1/integrations"))["integrations"]
        }
        assert kinds == {"am": "alertmanager", "gh": "github"}


def test_the_former_field_format_is_read_as_kind(db_url: str, tmp_path: Path, capsys):  # type: ignore[no-untyped-def]
    conf = write(
        tmp_path / "conf", '[rooms.ops]\n[integrations.chat]\nformat = "slack"\nroom = "ops"\n'
    )
    assert main(["apply", str(conf), "--db", db_url]) == 0
    assert "/hooks/slack/" in capsys.readouterr().out  # the URL, shown once
    assert main(["export", str(tmp_path / "out"), "--db", db_url]) == 0
    assert 'kind = "slack"' in (tmp_path / "out" / "team.toml").read_text()  # its own file
    assert main(["plan", str(conf), "--db", db_url]) == 0  # the same object either way


def test_format_and_kind_together_is_an_error_at_its_table():
    text = '[integrations.chat]\nkind = "slack"\nformat = "slack"\nroom = "ops"\n'
    with pytest.raises(ConfigInvalid) as caught:
        load({"i.toml": text}, Resolver({}))
    [problem] = [str(p) for p in caught.value.problems]
    assert problem.startswith("i.toml:1: integrations.chat") and "not also format" in problem


def test_two_jobs_with_one_ping_uuid_is_an_error_naming_file_and_line():
    text = f'[jobs.a]\nping_uuid = "{UUID_A}"\n\n[jobs.b]\nping_uuid = "{UUID_A}"\n'
    found = [str(p) for p in check(load({"j.toml": text}, Resolver({})), {}, set(), NOW)]
    assert found == ["j.toml:5: jobs.b.ping_uuid: job 'a' has this ping UUID too"]


def test_a_ping_uuid_another_job_of_the_hub_has_is_an_error(db_url: str, tmp_path: Path, capsys):  # type: ignore[no-untyped-def]
    conf = write(tmp_path / "conf", f'[jobs.old]\nping_uuid = "{UUID_A}"\n')
    assert main(["apply", str(conf), "--db", db_url]) == 0
    other = write(tmp_path / "other", f'[jobs.new]\nping_uuid = "{UUID_A}"\n')
    capsys.readouterr()
    assert main(["plan", str(other), "--db", db_url]) == 1
    assert "team.toml:2: error: jobs.new.ping_uuid: job 'old' has this ping UUID too" in (
        capsys.readouterr().out
    )


def test_plan_shows_a_changed_ping_uuid_and_none_when_the_files_leave_it_out(
    db_url: str, tmp_path: Path, capsys
):  # type: ignore[no-untyped-def]
    conf = write(tmp_path / "conf", "[jobs.backup]\n")
    assert main(["apply", str(conf), "--db", db_url]) == 0
    assert main(["plan", str(conf), "--db", db_url]) == 0  # the hub's own is kept
    write(conf, f'[jobs.backup]\nping_uuid = "{UUID_B}"\n')
    capsys.readouterr()
    assert main(["plan", str(conf), "--db", db_url]) == 2
    assert f'-> "{UUID_B}"' in capsys.readouterr().out  # the old one, then the new
    assert main(["apply", str(conf), "--db", db_url]) == 0
    assert main(["plan", str(conf), "--db", db_url]) == 0


def test_a_bad_ping_uuid_is_refused_at_its_line():
    with pytest.raises(ConfigInvalid) as caught:
        load({"j.toml": '[jobs.a]\nping_uuid = "not-a-uuid"\n'}, Resolver({}))
    assert str(caught.value.problems[0]).startswith("j.toml:2: jobs.a.ping_uuid")


def test_bridges_in_the_files_name_rooms_that_exist():
    text = '[channels.chat]\nurl = "json://x/y"\nbridges = ["nowhere"]\n'
    found = [str(p) for p in check(load({"c.toml": text}, Resolver({})), {}, set(), NOW)]
    assert found == ["c.toml:3: channels.chat.bridges: no room named 'nowhere'"]


def test_a_bridge_left_out_of_the_files_is_removed(db_url: str, tmp_path: Path):
    both = '[rooms.ops]\n[rooms.dev]\n[channels.chat]\nurl = "json://127.0.0.1:9/c"\n'
    conf = write(tmp_path / "conf", both + 'bridges = ["ops", "dev"]\n')
    assert main(["apply", str(conf), "--db", db_url]) == 0
    write(conf, both + 'bridges = ["ops"]\n')
    assert main(["plan", str(conf), "--db", db_url]) == 2
    assert main(["apply", str(conf), "--db", db_url]) == 0
    assert main(["plan", str(conf), "--db", db_url]) == 0
    assert main(["export", str(tmp_path / "out"), "--db", db_url]) == 0
    assert 'bridges = ["ops"]' in (tmp_path / "out" / "team.toml").read_text()
