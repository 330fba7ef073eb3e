"""Inbound integrations: one module per format, each with `verify` and `parse`.

Adding a format is one module here plus one line in FORMATS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from . import github, gitlab, jenkins, nagios, slack_webhook
from .common import BadPayload, BadSignature, BuildRun, Headers, Parsed, Post

__all__ = [
    "FORMATS",
    "BadPayload",
    "BadSignature",
    "BuildRun",
    "Format",
    "Headers",
    "Parsed",
    "Post",
]


@dataclass(frozen=True)
class Format:
    name: str
    verify: Callable[[Headers, bytes, str | None], None]
    parse: Callable[[Headers, bytes], Parsed]
    signing: str | None  # "hmac": a key kept to verify; "token": only its hash is kept


def _format(name: str, module: ModuleType, secret: str | None = None) -> Format:
    return Format(name, module.verify, module.parse, secret)


FORMATS = {
    "slack": _format("slack", slack_webhook),
    "github": _format("github", github, "hmac"),
    "gitlab": _format("gitlab", gitlab, "token"),
    "jenkins": _format("jenkins", jenkins),
    "nagios": _format("nagios", nagios),
}
