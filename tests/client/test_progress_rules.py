"""How `thereyet run` reads progress from a command's output, in-process: the shapes
of a line it understands, and what it leaves alone."""

from __future__ import annotations

import pytest

from thereyet.client.command import Reading, read_line


@pytest.mark.parametrize(
    ("line", "reading"),
    [
        ("copied 420/1000 files", Reading(done=420, total=1000)),
        ("  42%|####      | 420/1000 [00:01<00:02]", Reading(done=420, total=1000)),
        ("progress: 42.5 %", Reading(done=42.5, total=100, unit="%")),
        ('{"progress": 0.42}', Reading(done=42.0, total=100, unit="%")),
        ('{"done": 7, "total": 9, "unit": "tables"}', Reading(done=7, total=9, unit="tables")),
        ('{"note": "batch 2"}', Reading(note="batch 2")),
        ("date 2026/11/22 at 10:00", None),
        ("1000/10 is not progress", None),
        ("hello world", None),
        ('{"progress": 4.2}', None),
    ],
)
def test_progress_is_read_from_common_output_shapes(line, reading):
    assert read_line(line) == reading
