"""What is wrong with a configuration, said with the file, line, field and reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One error or warning; `str()` gives `file:line: field: reason`."""

    file: str
    line: int | None
    field: str
    reason: str
    level: str = "error"  # error | warning

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        prefix = "" if self.level == "error" else "warning: "
        return (
            f"{where}: {prefix}{self.field}: {self.reason}"
            if self.field
            else f"{where}: {self.reason}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
            "level": self.level,
        }


class ConfigInvalid(Exception):
    """The files cannot be planned: every problem found is in `problems`."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
