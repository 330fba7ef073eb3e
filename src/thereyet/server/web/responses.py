"""What the OpenAPI schema says routes answer, so clients and the fuzzer can check it.

Every error the JSON API, the hooks and the Alertmanager route give has one
shape (web/errors.py): ErrorOut. Routes that answer other media types say so.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class FieldError(BaseModel):
    field: str
    reason: str


class ErrorOut(BaseModel):
    """An error: the reason, and the field it is about when there is one."""

    error: str
    field: str | None = None
    fields: list[FieldError] | None = None


_ERROR_STATUSES = {
    400: "Bad request",
    401: "No or an unknown credential",
    403: "The credential may not do this",
    404: "Not found",
    408: "The request body stopped arriving",
    409: "Conflicts with what is stored",
    413: "The body is too large",
    422: "A field is invalid: `field` names it",
    429: "Too many requests: see Retry-After",
}
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text} for status, text in _ERROR_STATUSES.items()
}


def text_answers(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """Responses for a route whose 200 is one of `media_types` rather than JSON (give the
    route `response_class=Response` too, or FastAPI also documents a JSON answer)."""
    return {200: {"content": {media: {} for media in media_types}}}
