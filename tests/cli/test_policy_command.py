"""`thereyet policy` prints the access policy, and docs/security.md carries it as it is."""

from __future__ import annotations

from pathlib import Path

from thereyet.cli.main import main
from thereyet.cli.policy_commands import BEGIN, END, with_table
from thereyet.server.domain.policy import POLICY, policy_table

SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_the_security_doc_shows_the_policy_in_code():
    text = SECURITY_DOC.read_text(encoding="utf-8")
    assert with_table(text, policy_table()) == text, (
        "docs/security.md is out of date: run `thereyet policy --write docs/security.md`"
    )


def test_thereyet_policy_prints_one_row_per_policy_entry(capsys):
    assert main(["policy"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + len(POLICY)  # the header and its rule, then the entries
    assert "| ping URLs: read | yes | yes | no | no | limited | no |" in "\n".join(rows)


def test_thereyet_policy_writes_the_table_between_the_markers(tmp_path):
    doc = tmp_path / "security.md"
    doc.write_text(f"# Security\n\n{BEGIN}\nold table\n{END}\n\nmore\n")
    assert main(["policy", "--write", str(doc)]) == 0
    text = doc.read_text()
    assert "old table" not in text and policy_table() in text and text.endswith("\nmore\n")
