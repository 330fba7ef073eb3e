"""`thereyet policy`: print the access policy as a Markdown table, or write it into a doc.

The table is made from the policy in code (thereyet.server.domain.policy), so
docs/security.md cannot drift from what the hub enforces: `thereyet policy
--write docs/security.md` replaces the text between its policy markers, and a
test fails when the doc is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

BEGIN = "<!-- policy table: made by `thereyet policy --write docs/security.md` -->"
END = "<!-- end of policy table -->"


def register(sub: Any) -> None:
    policy = sub.add_parser("policy", help="print who may do what (the access policy table)")
    policy.add_argument(
        "--write", metavar="FILE", help="replace the policy table between FILE's markers"
    )
    policy.set_defaults(handler=show_policy)


def with_table(text: str, table: str) -> str:
    """`text` with the part between BEGIN and END replaced by `table`."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n\n" + table + "\n" + text[end:]


def show_policy(args: argparse.Namespace) -> int:
    from ..server.domain.policy import policy_table

    table = policy_table()
    if not args.write:
        sys.stdout.write(table)
        return 0
    path = Path(args.write)
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        print(f"thereyet: {path} has no policy markers ({BEGIN!r} ... {END!r})", file=sys.stderr)
        return 2
    path.write_text(with_table(text, table), encoding="utf-8")
    return 0
