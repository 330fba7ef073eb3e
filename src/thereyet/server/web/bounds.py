"""Integers a route takes in its path or query: bounded, so no number can overflow the store.

Both databases keep 64-bit integers at most, and PostgreSQL's `integer` columns 32;
a larger number (or a 5,000-digit one) is refused with 422 naming the parameter,
before any query runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from ..jsonsafe import INT64_MAX

__all__ = ["INT32_MAX", "INT64_MAX", "RowId", "Stamp"]

INT32_MAX = 2**31 - 1

RowId = Annotated[int, Path(ge=1, le=INT32_MAX)]
"""A row's id in a path (an incident, a route, a bridge, a command execution...): these
tables count their rows in 32 bits (PostgreSQL's integer)."""

Stamp = Annotated[int, Query(ge=0, le=INT64_MAX)]
"""A Unix time in a query (a signed link's expiry)."""
