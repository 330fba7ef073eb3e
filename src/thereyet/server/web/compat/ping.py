"""healthchecks-compatible pings: /ping/<uuid>[/start|/fail|/log|/<exit-status>] and
/ping/<ping-key>/<slug>[...], by HEAD, GET or POST, with ?rid= and ?create=1.

Answers are healthchecks' own: short plain text and the same status codes
(200 OK, 201 Created, 400 invalid url format / invalid uuid format, 404 not
found, 409 for a run id that belongs to another job, 429 rate limited), with
a Ping-Body-Limit header saying how much of the body is kept as the log.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from ...domain.policy import Action, Resource
from ...services.pings import ACTIONS, PING_BODY_LIMIT, Ping, PingError, PingService, parse_rid
from ..auth import uses

router = APIRouter(tags=["pings"])
_EXIT = re.compile(r"^\d{1,10}$")


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def _answer(request: Request, status: int, text: str) -> Response:
    return answer(request.method, status, text)


def answer(method: str, status: int, text: str) -> Response:
    """A ping's answer: healthchecks' short plain text (headers only, for HEAD)."""
    headers = {"Ping-Body-Limit": str(PING_BODY_LIMIT), "Access-Control-Allow-Origin": "*"}
    body = b"" if method == "HEAD" else text.encode()
    response = Response(body, status_code=status, media_type="text/plain", headers=headers)
    if method == "HEAD":
        response.headers["content-length"] = str(len(text.encode()))
    return response


def action(part: str | None) -> tuple[str, int | None]:
    """The action of a ping's last path part (None: success) and its exit status, if any."""
    return _action(part)


def _action(part: str | None) -> tuple[str, int | None]:
    if part is None:
        return "success", None
    if part in ACTIONS[1:]:
        return part, None
    if _EXIT.match(part):
        code = int(part)
        if code > 255:
            raise PingError(400, "invalid url format")
        return ("success" if code == 0 else "fail"), code
    raise PingError(404, "not found")


async def _read_body(request: Request) -> bytes:
    """Keep the first PING_BODY_LIMIT bytes of the body and let the rest go by."""
    kept = bytearray()
    async for chunk in request.stream():
        if len(kept) < PING_BODY_LIMIT:
            kept.extend(chunk[: PING_BODY_LIMIT - len(kept)])
    return bytes(kept)


_PATH = "/ping/{rest:path}"
# healthchecks' answers: short plain text, whatever the status.
PING_ANSWERS: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"text/plain": {}}}
    for status, text in {
        200: "OK",
        201: "Created (?create=1)",
        400: "invalid url format",
        404: "not found",
        409: "the run id belongs to another job",
        429: "rate limited",
    }.items()
}
# A path no ping route matches at all (a newline in it, say) gets the framework's JSON 404.
PING_ANSWERS[404]["content"]["application/json"] = {}


@router.post(
    _PATH,
    operation_id="ping_post",
    summary="Ping (POST: the body is kept as the log)",
    response_class=Response,
    responses=PING_ANSWERS,
)
@router.get(
    _PATH,
    operation_id="ping_get",
    summary="Ping: /ping/<uuid>[/start|/fail|/log|/<code>]",
    response_class=Response,
    responses=PING_ANSWERS,
)
@router.head(_PATH, operation_id="ping_head", include_in_schema=False)
@uses(Resource.RUNS, Action.WRITE)
async def ping(rest: str, request: Request) -> Response:
    """Signal success, start, failure, an exit status, or log a line (healthchecks style)."""
    pings: PingService = request.app.state.pings
    parts = [p for p in rest.split("/") if p]
    try:
        rid = parse_rid(request.query_params.get("rid"))
        if parts and _is_uuid(parts[0]) and len(parts) <= 2:
            action, code = _action(parts[1] if len(parts) == 2 else None)
            body = await _read_body(request)
            status = await pings.by_uuid(parts[0].lower(), Ping(action, code, rid, body))
        elif len(parts) in (2, 3) and not _is_uuid(parts[0]):
            action, code = _action(parts[2] if len(parts) == 3 else None)
            body = await _read_body(request)
            create = request.query_params.get("create") == "1"
            status = await pings.by_slug(
                parts[0], parts[1], Ping(action, code, rid, body), create=create
            )
        else:
            raise PingError(404, "not found")
    except PingError as exc:
        return _answer(request, exc.status, exc.message)
    return _answer(request, status, "Created" if status == 201 else "OK")
