"""Secrets by reference: a secret field holds `env:NAME` or `file:/path`.

Where the files are read decides how a reference is resolved: the CLI reads
its own environment and files; the hub's API never does (a request must not
read the hub's files), it takes the values the client resolved and sent.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

REF = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+)$")


class Unresolved(LookupError):
    """A reference names a variable or file that is not there."""


def is_ref(value: str) -> bool:
    return bool(REF.match(value))


def resolve_locally(ref: str) -> str:
    """The value of `ref` from this process's environment or file system."""
    if ref.startswith("env:"):
        value = os.environ.get(ref[4:])
        if value is None:
            raise Unresolved(f"environment variable {ref[4:]} is not set")
        return value
    try:
        return Path(ref[5:]).read_text().strip()
    except OSError as exc:
        raise Unresolved(f"cannot read {ref[5:]}: {exc.strerror}") from None


class Resolver:
    """Resolves references, from given values (the API) or locally (the CLI)."""

    def __init__(self, given: Mapping[str, str] | None = None) -> None:
        self.given = given

    def __call__(self, value: str) -> str:
        if not is_ref(value):
            return value
        if self.given is None:
            return resolve_locally(value)
        if value not in self.given:
            raise Unresolved(f"{value} was not sent with the files")
        return self.given[value]


Path_ = tuple[str, ...]


def secret_paths(kind: str, obj: Mapping[str, Any]) -> Iterator[Path_]:
    """The fields of an object (in canonical form) that hold secrets."""
    if kind == "channels":
        yield ("url",)
    elif kind == "people":
        for method in obj.get("contact_methods", {}):
            yield ("contact_methods", method)
    elif kind == "jobs" and obj.get("target") and obj["target"].get("kind") != "agent":
        yield ("target", "url")
        for header in obj["target"].get("headers", {}):
            yield ("target", "headers", header)
    elif kind == "integrations" and obj.get("secret") is not None:
        yield ("secret",)
    elif kind == "commands" and isinstance(obj.get("action", {}).get("headers"), dict):
        for header in obj["action"]["headers"]:
            yield ("action", "headers", header)


def get_path(obj: Mapping[str, Any], path: Path_) -> Any:
    value: Any = obj
    for part in path:
        value = value[part]
    return value


def set_path(obj: dict[str, Any], path: Path_, value: Any) -> None:
    for part in path[:-1]:
        obj = obj[part]
    obj[path[-1]] = value
