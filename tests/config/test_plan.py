"""`thereyet plan` and `thereyet apply` against every kind of change, with exit codes;
a failed apply leaves the hub unchanged (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from thereyet.cli.main import main

BASE = """
[rooms.ops]
title = "Operations"

[jobs.backup]
rooms = ["ops"]
schedule = "0 3 * * *"
grace = 300

[users.dana]
role = "viewer"
"""


def write(directory: Path, text: str, name: str = "team.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text)
    return directory


@pytest.fixture
def applied(db_url: str, tmp_path: Path) -> Path:
    conf = write(tmp_path / "conf", BASE)
    assert main(["apply", str(conf), "--db", db_url]) == 0
    return conf


def plan(conf: Path, db_url: str, *extra: str) -> int:
    return main(["plan", str(conf), "--db", db_url, *extra])


def test_plan_of_new_objects_says_create_and_exits_2(db_url: str, tmp_path: Path, capsys):  # type: ignore[no-untyped-def]
    conf = write(tmp_path / "conf", BASE)
    assert plan(conf, db_url) == 2
    out = capsys.readouterr().out
    assert "+ rooms.ops: create  (team.toml)" in out
    assert '    title = "Operations"' in out
    assert "+ jobs.backup: create" in out and "+ users.dana: create" in out
    assert "Plan: 3 to create, 0 to update, 0 to delete" in out


def test_plan_after_apply_exits_0(applied: Path, db_url: str, capsys):  # type: ignore[no-untyped-def]
    capsys.readouterr()
    assert plan(applied, db_url) == 0
    assert "Plan: 0 to create, 0 to update, 0 to delete" in capsys.readouterr().out


def test_plan_of_a_field_change_shows_old_and_new(applied: Path, db_url: str, capsys):  # type: ignore[no-untyped-def]
    write(applied, BASE.replace("grace = 300", "grace = 600"))
    capsys.readouterr()
    assert plan(applied, db_url) == 2
    out = capsys.readouterr().out
    assert "~ jobs.backup: update" in out and "    grace: 300.0 -> 600.0" in out
    assert main(["apply", str(applied), "--db", db_url]) == 0
    assert plan(applied, db_url) == 0


def test_rename_creates_the_new_name_and_deletes_the_old_only_with_prune(
    applied: Path,
    db_url: str,
    capsys,  # type: ignore[no-untyped-def]
):
    write(applied, BASE.replace("[users.dana]", "[users.dora]"))
    capsys.readouterr()
    assert plan(applied, db_url) == 2
    out = capsys.readouterr().out
    assert "+ users.dora: create" in out
    assert "? users.dana: no longer in the files; --prune deletes it" in out
    assert plan(applied, db_url, "--prune") == 2
    assert "- users.dana: delete  (team.toml)" in capsys.readouterr().out
    assert main(["apply", str(applied), "--db", db_url, "--prune"]) == 0
    assert plan(applied, db_url, "--prune") == 0


def test_delete_without_prune_changes_nothing(applied: Path, db_url: str, capsys):  # type: ignore[no-untyped-def]
    write(applied, BASE.split("[users.dana]")[0])
    capsys.readouterr()
    assert plan(applied, db_url) == 0  # only listed: nothing would change
    assert "? users.dana: no longer in the files" in capsys.readouterr().out
    assert main(["apply", str(applied), "--db", db_url]) == 0
    assert plan(applied, db_url, "--prune") == 2
    assert main(["apply", str(applied), "--db", db_url, "--prune"]) == 0
    assert plan(applied, db_url, "--prune") == 0


def test_a_failed_apply_leaves_the_hub_unchanged(
    applied: Path, db_url: str, tmp_path: Path, capsys
):  # type: ignore[no-untyped-def]
    before = tmp_path / "before"
    assert main(["export", str(before), "--db", db_url]) == 0
    broken = (
        BASE.replace("grace = 300", "grace = 900") + '\n[services.storage]\npolicy = "nowhere"\n'
    )
    write(applied, broken)
    capsys.readouterr()
    assert main(["apply", str(applied), "--db", db_url]) == 1
    err = capsys.readouterr().err
    assert "team.toml:14: services.storage.policy: no escalation policy of that name" in err
    assert "nothing was applied" in err
    after = tmp_path / "after"
    assert main(["export", str(after), "--db", db_url]) == 0
    assert (after / "team.toml").read_text() == (before / "team.toml").read_text()


def test_plan_shows_drift_made_through_the_api_in_warn_mode(applied: Path, db_url: str, capsys):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, update

    from thereyet.server.store.tables import jobs

    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.name == "backup").values(grace=5.0))
    engine.dispose()
    capsys.readouterr()
    assert plan(applied, db_url) == 2
    out = capsys.readouterr().out
    assert (
        "~ jobs.backup: update  (team.toml)  [drift: changed in the hub since the last apply]"
        in out
    )
    assert "    grace: 5.0 -> 300.0" in out


def test_plan_as_json(applied: Path, db_url: str, capsys):  # type: ignore[no-untyped-def]
    import json

    write(applied, BASE.replace('"Operations"', '"Ops"'))
    capsys.readouterr()
    assert plan(applied, db_url, "--json") == 2
    answer = json.loads(capsys.readouterr().out)
    change = answer["changes"][0]
    assert (change["action"], change["kind"], change["name"]) == ("update", "rooms", "ops")
    assert change["fields"] == [{"field": "title", "old": "Operations", "new": "Ops"}]


def test_pruning_a_service_that_has_incidents_is_an_error_not_a_failed_write(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    conf = write(tmp_path / "conf", "[services.storage]\n")
    assert main(["apply", str(conf), "--db", db_url]) == 0
    from sqlalchemy import create_engine, insert, select

    from thereyet.server.store.tables import incident_services, incidents

    engine = create_engine(db_url)
    with engine.begin() as conn:
        service = conn.execute(select(incident_services.c.id)).scalar()
        now = datetime.now(UTC)
        conn.execute(
            insert(incidents).values(
                service_id=service,
                dedup_key="k",
                status="resolved",
                summary="s",
                source="",
                severity="error",
                details={},
                links=[],
                images=[],
                origin="api",
                triggered_at=now,
                paged_through=-1,
                updated_at=now,
            )
        )
    engine.dispose()
    write(conf, "")
    capsys.readouterr()
    assert main(["apply", str(conf), "--db", db_url, "--prune"]) == 1
    assert "services.storage: has 1 incidents and cannot be deleted" in capsys.readouterr().err
