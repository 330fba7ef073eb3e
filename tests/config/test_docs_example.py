"""The complete example in docs/examples/config applies cleanly to a new hub, and the
published JSON Schema (docs/config.schema.json) is the one the models generate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from thereyet.cli.main import main
from thereyet.server.configfile.model import json_schema

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_documented_team_setup_applies_and_then_plans_no_changes(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    conf = tmp_path / "conf"
    shutil.copytree(DOCS / "examples" / "config", conf)
    token = tmp_path / "backup-token"
    token.write_text("Bearer s3cr3t\n")
    backup = conf / "jobs" / "backup.toml"
    backup.write_text(backup.read_text().replace("file:/run/secrets/backup-token", f"file:{token}"))
    monkeypatch.setenv("OPS_CHAT_URL", "mmost://127.0.0.1:9/hooks")
    monkeypatch.setenv("ALICE_SMS_URL", "json://127.0.0.1:9/sms")
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "whsec-0123456789abcdef")
    assert main(["plan", str(conf), "--db", db_url]) == 2
    assert main(["apply", str(conf), "--db", db_url, "--secrets-out", str(tmp_path / "s")]) == 0
    capsys.readouterr()
    assert main(["plan", str(conf), "--db", db_url]) == 0
    assert (
        "Plan: 0 to create, 0 to update, 0 to delete, 0 to mark managed." in capsys.readouterr().out
    )
    generated = [json.loads(line) for line in (tmp_path / "s").read_text().splitlines()]
    assert {(s["kind"], s["name"]) for s in generated} >= {
        ("tokens", "grafana"),
        ("integrations", "github"),
        ("integrations", "payments-pd"),
        ("ping_keys", "cron-hosts"),
    }


def test_the_published_schema_is_up_to_date():
    published = json.loads((DOCS / "config.schema.json").read_text())
    assert published == json_schema(), "run: thereyet config schema > docs/config.schema.json"
