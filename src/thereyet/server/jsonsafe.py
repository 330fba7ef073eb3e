"""Reading JSON from strangers: bounded depth, finite numbers, 64-bit integers, valid text.

The standard decoder recurses once per nesting level (a body of 100,000 `[`
raises RecursionError), accepts NaN and Infinity (which PostgreSQL's JSONB
refuses), integers of any size (which neither database stores) and lone UTF-16
surrogates such as "\\ud800" (which cannot be encoded as UTF-8, so they fail
wherever they are written or sent back). `loads` refuses all of these with an
`UnsafeJSON` that names the field, as `events.3.text`, and the reason.

NUL characters are not refused here: the store keeps them as U+FFFD on both
databases (see store/text.py), so a job whose output holds one keeps its report.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class UnsafeJSON(ValueError):
    """The JSON cannot be taken as it is; `field` is its dotted path ("body" for the whole)."""

    def __init__(self, field: str, reason: str, *, syntax: bool = False) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.syntax = syntax  # not JSON at all, rather than JSON that cannot be kept


class _NonFinite:
    def __init__(self, literal: str) -> None:
        self.literal = literal


def loads(raw: bytes | str, where: str = "body") -> Any:
    """Decode `raw`, or raise UnsafeJSON naming the first field that cannot be kept.

    `where` prefixes the field names (say, "payload" for a form's JSON field)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UnsafeJSON(where, "is not UTF-8 text", syntax=True) from None
    if too_deep(raw):
        raise UnsafeJSON(where, f"is nested more than {MAX_DEPTH} levels deep")
    try:
        value = json.loads(raw, parse_constant=_NonFinite, parse_float=_float)
    except ValueError as exc:
        raise UnsafeJSON(where, f"is not valid JSON ({exc})", syntax=True) from None
    problem = find_problem(value)
    if problem is not None:
        path, reason = problem
        prefix = [] if where == "body" and path else [where]
        raise UnsafeJSON(".".join([*prefix, *path]), reason)
    return value


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in `text` nest deeper than `limit` (strings are skipped).

    Counted without recursion, so any depth is safe to ask about."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    depth = 0
    for char in brackets:
        depth += 1 if char in "[{" else -1
        if depth > limit:
            return True
    return False


def _float(literal: str) -> float | _NonFinite:
    value = float(literal)
    return value if math.isfinite(value) else _NonFinite(literal)  # 1e999 is Infinity


def find_problem(value: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str] | None:
    """The path to and reason for the first value that cannot be kept, or None.

    Recursive, so only for values whose depth is already bounded (as `loads` makes sure)."""
    if isinstance(value, str):
        return None if text_is_valid(value) else (path, "contains invalid Unicode")
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return None
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return None
        return path, "is out of range (integers are 64-bit)"
    if isinstance(value, _NonFinite):
        return path, f"is not a finite number ({value.literal})"
    if isinstance(value, dict):
        for key, item in value.items():
            if not text_is_valid(key):
                return (*path, repaired(key)), "has an invalid name"
            found = find_problem(item, (*path, key))
            if found is not None:
                return found
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = find_problem(item, (*path, str(index)))
            if found is not None:
                return found
    return None


def text_is_valid(text: str) -> bool:
    """Whether `text` can be encoded as UTF-8 (it has no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def repaired(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD."""
    if text_is_valid(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def int64_or_none(text: str | bytes) -> int | None:
    """The non-negative 64-bit integer `text` spells in ASCII digits, or None (a header's
    value, say: "9" * 5000 is None, where int() would raise)."""
    digits = text.decode("latin-1") if isinstance(text, bytes) else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    value = int(digits)
    return value if value <= INT64_MAX else None
