"""docs/promises.md maps what the docs promise to the tests that guard it: every test it
names must exist, so the map never points at a test that was renamed or removed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_test_the_promises_map_names_exists() -> None:
    text = (ROOT / "docs" / "promises.md").read_text()
    references = REFERENCE.findall(text)
    assert len(references) > 50
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (ROOT / path).exists() or name not in _tests_in(ROOT / path)
    ]
    assert missing == []
