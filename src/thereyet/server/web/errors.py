"""Every error answer has one shape: {"error": reason, "field": name?, "fields": [...]?}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from ..services.errors import DatabaseUnavailable, ServiceError, WriterStopped

# Fields whose value is one of several shapes told apart by a tag ("kind"): pydantic puts
# the tag in the location after the field's name; the field a person reads has none.
_TAGGED = {"target": frozenset({"http", "agent"})}


def field_of(loc: tuple[Any, ...], error: dict[str, Any] | None = None) -> str:
    """The dotted field name of a validation error's location."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    # Drop the discriminator tag pydantic puts in the location of union members.
    parts = [p for p in parts if p not in ("progress", "log", "stat", "note", "heartbeat")]
    parts = [p for i, p in enumerate(parts) if i == 0 or p not in _TAGGED.get(parts[i - 1], ())]
    if error is not None and error.get("type") == "union_tag_invalid":
        parts.append(str(error.get("ctx", {}).get("discriminator", "kind")).strip("'\""))
    return ".".join(parts) or "body"


def _reason(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return f"body is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})"
    return str(error.get("msg", "invalid"))


async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
    fields = [
        {"field": field_of(tuple(e.get("loc", ())), e), "reason": _reason(e)} for e in exc.errors()
    ]
    first = fields[0] if fields else {"field": "body", "reason": "invalid"}
    return JSONResponse(
        {
            "error": f"{first['field']}: {first['reason']}",
            "field": first["field"],
            "fields": fields,
        },
        status_code=422,
    )


def _wants_page(request: Request) -> bool:
    """A person's browser asking for a page gets an HTML error; API clients get JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/live/", "/ping/", "/v2/", "/hooks/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _error_page(request: Request, status: int, message: str) -> Response:
    from .pages.access import viewer_if_signed_in
    from .pages.render import page

    viewer = viewer_if_signed_in(request)
    return page(request, "error.html", status=status, viewer=viewer, code=status, message=message)


async def _service(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    if _wants_page(request):
        return _error_page(request, exc.status, exc.message)
    body: dict[str, Any] = {"error": exc.message}
    if exc.field:
        body["field"] = exc.field
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _wants_page(request):
        return _error_page(request, exc.status_code, str(exc.detail))
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _stopping(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"error": "the hub is shutting down"}, status_code=503, headers={"Retry-After": "5"}
    )


async def _database_away(_request: Request, _exc: Exception) -> JSONResponse:
    # PostgreSQL restarting or failing over: nothing was written, the client tries again.
    return JSONResponse(
        {"error": "the database is unavailable; try again shortly"},
        status_code=503,
        headers={"Retry-After": "2"},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(ServiceError, _service)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(WriterStopped, _stopping)
    app.add_exception_handler(DatabaseUnavailable, _database_away)
    app.add_exception_handler(OperationalError, _database_away)
