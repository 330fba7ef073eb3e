"""Import boundaries: the SDK is light and never imports the hub; layers stay apart."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVER_DEPENDENCIES = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "pydantic",
    "uvicorn",
    "thereyet.server",
)


def test_import_thereyet_pulls_no_server_dependency():
    code = (
        "import sys, thereyet\n"
        f"bad = sorted(m for m in sys.modules if m.startswith({SERVER_DEPENDENCIES!r}))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_import_contracts_hold():
    lint_imports = shutil.which("lint-imports")
    if lint_imports is None:
        pytest.fail("import-linter is a test dependency: pip install -e '.[test]'")
    result = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = (ROOT / "pyproject.toml").read_text().count("[[tool.importlinter.contracts]]")
    assert f"{contracts} kept, 0 broken" in result.stdout


def test_only_store_pipeline_takes_the_drivers_own_cursors():
    """On PostgreSQL the writer's BEGIN and savepoints wait in a queue on its connection
    (store/pipeline.py), sent ahead of every statement that goes through SQLAlchemy or
    through that module: a cursor taken from the driver anywhere else would run before
    the queued BEGIN, outside the group's transaction."""
    allowed = {ROOT / "src/thereyet/server/store/pipeline.py"}
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "src").rglob("*.py"))
        if path not in allowed
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if ".connection.cursor(" in line or ".driver_connection" in line
    ]
    assert found == []
