"""Names of rooms and jobs: short, lowercase, safe in URLs and shells."""

from __future__ import annotations

import re

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)
NAME_RULE = (
    "1-64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
)


def is_valid_name(name: str) -> bool:
    return bool(_NAME.match(name))


def title_from_name(name: str) -> str:
    """A readable default title: 'customer-export' -> 'Customer export'."""
    words = re.sub(r"[._-]+", " ", name).strip()
    return words[:1].upper() + words[1:]
