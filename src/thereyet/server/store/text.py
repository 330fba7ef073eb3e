"""What the store writes can be written on both databases, and read back, the same way.

PostgreSQL refuses the NUL character in text and in JSONB, and NaN in JSONB;
SQLite keeps all three. So that both keep the same thing, and a job whose output
holds a NUL still has its report kept, every string the store binds has NUL
(and any lone surrogate, which neither can encode) replaced by U+FFFD, and
non-finite numbers in JSON become null. The web layer refuses surrogates and
non-finite numbers with a 4xx first (see jsonsafe.py); this is the last line.

Reading is made safe the same way: a JSON value stored before these rules
(SQLite kept "\\ud800" escapes) comes back with U+FFFD, so a later read of
messages, search, transcripts or incidents cannot fail on it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sqlalchemy import Engine, event

from ..jsonsafe import repaired, text_is_valid

REPLACEMENT = "\ufffd"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def storable_text(text: str) -> str:
    """`text` as both databases keep it: NUL and lone surrogates become U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    return text if text_is_valid(text) else repaired(text)


def storable(value: Any) -> Any:
    """A JSON-able value with its strings storable and its non-finite numbers null."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {storable_text(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """JSON text both databases accept, for a JSON column."""
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError:  # NaN or Infinity somewhere
        return json.dumps(storable(value))
    if "\\u" in text and ("\\u0000" in text or _SURROGATE_ESCAPE.search(text)):
        return json.dumps(storable(value))
    return text


def loads(text: str | bytes) -> Any:
    """A JSON column's value, with any stored lone surrogate read back as U+FFFD."""
    if isinstance(text, bytes):  # psycopg hands JSONB over as bytes
        text = text.decode("utf-8")
    value = json.loads(text)
    if ("\\u" in text and _SURROGATE_ESCAPE.search(text)) or "NaN" in text or "Infinity" in text:
        return storable(value)  # kept by SQLite before these rules; JSON answers refuse NaN
    return value


def storable_params(params: Any) -> Any:
    """A statement's parameters (a dict, a sequence, or a list of either) made storable."""
    if isinstance(params, str):
        return storable_text(params)
    if isinstance(params, dict):
        return {k: storable_params(v) if isinstance(v, str) else v for k, v in params.items()}
    if isinstance(params, list | tuple):
        kept = [
            storable_params(p) if isinstance(p, str | dict | list | tuple) else p for p in params
        ]
        return type(params)(kept)
    return params


def keep_text_storable(engine: Engine) -> None:
    """Make every string `engine` binds storable (see the module's docstring)."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _storable(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        return statement, storable_params(parameters)
