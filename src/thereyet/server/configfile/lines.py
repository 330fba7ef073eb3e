"""Where a key is in a TOML file: tomllib gives values but no line numbers.

The scan reads table headers (`[a.b]`, `[[a.b]]`) and `key = ...` lines and
records the first line of every path it sees, so an error about
`jobs.backup.grace` can point at the line that set it (or, failing that, at
the nearest table above it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^\s*(\[\[?)\s*(.+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")

Path = tuple[str | int, ...]


def _parts(dotted: str) -> list[str]:
    return [p[1:-1] if p[0] in "\"'" else p for p in _PART.findall(dotted)]


class LineIndex:
    """The first line (1-based) of every table and key path in one TOML text."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Path, int] = {}
        counts: dict[Path, int] = {}
        table: Path = ()
        in_multiline = False
        for number, line in enumerate(text.splitlines(), start=1):
            if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                in_multiline = not in_multiline
                if not in_multiline:
                    continue
            if in_multiline and not _KEY.match(line):
                continue
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                base = tuple(_parts(header.group(2)))
                if header.group(1) == "[[":
                    index = counts.get(base, 0)
                    counts[base] = index + 1
                    self.lines.setdefault(base, number)
                    table = (*base, index)
                else:
                    table = base
                self.lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self.lines.setdefault((*table, *_parts(key.group(1))), number)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of `path`, or of its nearest ancestor that the text names."""
        for end in range(len(path), 0, -1):
            found = self.lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None
