"""PagerDuty Events API v2: `POST /v2/enqueue`, so PagerDuty senders work by changing one URL.

The answers are PagerDuty's: 202 {"status": "success", "message": "Event processed",
"dedup_key"} or 400 {"status": "invalid event", "message": "Event object is invalid",
"errors": [...]}, each error naming the field, or 429 {"status": "throttle event",
"message"} with Retry-After when the routing key sends faster than its rate
limit. The routing key is one of our integration tokens (kind "pagerduty").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ...domain.incidents import SEVERITIES
from ...domain.policy import Action, Resource
from ...jsonsafe import UnsafeJSON, loads
from ...services.alert_events import AlertEvent, apply_alert_events
from ...services.errors import NotFound, ServiceError, TooManyAttempts
from ...services.incidents import IncidentService, Trigger
from ..auth import uses
from .alert_sources import integrations_of

router = APIRouter(tags=["compatible"])

ACTIONS = ("trigger", "acknowledge", "resolve")
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255


def _invalid(errors: list[str]) -> JSONResponse:
    return JSONResponse(
        {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
        status_code=400,
    )


def _throttled(exc: TooManyAttempts) -> JSONResponse:
    return JSONResponse(
        {
            "status": "throttle event",
            "message": "Requests for this service are arriving too quickly. Please retry later.",
        },
        status_code=429,
        headers={"Retry-After": str(exc.retry_after)},
    )


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def check(body: Any) -> list[str]:
    """What is wrong with an event, one message per field (empty: nothing)."""
    if not isinstance(body, dict):
        return ["Event object must be a JSON object"]
    errors = []
    if not _text(body.get("routing_key")):
        errors.append("'routing_key' is missing or blank")
    action = body.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    key = body.get("dedup_key")
    if key is not None and (not isinstance(key, str) or len(key) > MAX_DEDUP_KEY):
        errors.append(f"'dedup_key' must be a string of at most {MAX_DEDUP_KEY} characters")
    if action in ("acknowledge", "resolve") and not _text(key):
        errors.append("'dedup_key' is missing or blank")
    if action == "trigger":
        errors.extend(_check_payload(body.get("payload")))
        errors.extend(_check_list(body, "links", "href"))
        errors.extend(_check_list(body, "images", "src"))
    return errors


def _check_payload(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = []
    for name in ("summary", "source"):
        if not _text(payload.get(name)):
            errors.append(f"'payload.{name}' is missing or blank")
    if payload.get("severity") not in SEVERITIES:
        errors.append("'payload.severity' must be one of critical, error, warning, info")
    for name in ("component", "group", "class", "timestamp"):
        if payload.get(name) is not None and not isinstance(payload[name], str):
            errors.append(f"'payload.{name}' must be a string")
    return errors


def _check_list(body: dict[str, Any], name: str, required: str) -> list[str]:
    items = body.get(name)
    if items is None:
        return []
    if not isinstance(items, list):
        return [f"'{name}' must be a list"]
    return [
        f"'{name}[{i}].{required}' is missing or blank"
        for i, item in enumerate(items)
        if not isinstance(item, dict) or not _text(item.get(required))
    ]


def runbook_of(body: dict[str, Any]) -> str | None:
    """A runbook link: custom_details.runbook_url, or a link whose text says runbook."""
    details = body["payload"].get("custom_details")
    if isinstance(details, dict) and _text(details.get("runbook_url")):
        return str(details["runbook_url"])
    for link in body.get("links") or []:
        if "runbook" in str(link.get("text", "")).lower():
            return str(link["href"])
    return None


def trigger_of(body: dict[str, Any]) -> Trigger:
    payload = body["payload"]
    details = payload.get("custom_details")
    extra = {k: payload[k] for k in ("component", "group", "class", "timestamp") if k in payload}
    return Trigger(
        summary=payload["summary"][:MAX_SUMMARY],
        origin="pagerduty",
        dedup_key=body.get("dedup_key") or None,
        source=payload["source"][:255],
        severity=payload["severity"],
        details={
            **extra,
            "custom_details": details if details is not None else {},
            **({"client": body["client"]} if "client" in body else {}),
            **({"client_url": body["client_url"]} if "client_url" in body else {}),
        },
        links=list(body.get("links") or []),
        images=list(body.get("images") or []),
        runbook_url=runbook_of(body),
        runbook_field="payload.custom_details.runbook_url",
    )


class Answer(BaseModel):
    """PagerDuty's answer: success with the dedup key, or why the event was refused."""

    status: str
    message: str
    dedup_key: str | None = None
    errors: list[str] | None = None


_ANSWERS: dict[int | str, dict[str, Any]] = {
    code: {"model": Answer, "description": text}
    for code, text in {
        202: "Event processed",
        400: "Event object is invalid",
        429: "throttle event",
    }.items()
}


async def _integration(request: Request, body: Any) -> Any:
    """The PagerDuty integration the event's routing key names, or None."""
    key = body.get("routing_key") if isinstance(body, dict) else None
    if not isinstance(key, str) or not key.strip():
        return None
    try:
        return await integrations_of(request).alert_source(key, "pagerduty")
    except NotFound:
        return None


@router.post("/v2/enqueue", status_code=202, summary="PagerDuty Events API v2", responses=_ANSWERS)
@uses(Resource.INCIDENTS, Action.WRITE)
async def enqueue(request: Request) -> JSONResponse:
    try:
        body = loads(await request.body())
    except UnsafeJSON as exc:
        if exc.syntax:
            return _invalid(["Event object is not valid JSON"])
        return _invalid([f"'{exc.field}' {exc.reason}"])
    errors = check(body)
    integration = await _integration(request, body)
    if integration is None:
        return _invalid(errors or ["'routing_key' is not a known integration key"])
    if errors:
        await integrations_of(request).refused(integration, 400, "; ".join(errors))
        return _invalid(errors)
    incidents: IncidentService = request.app.state.incidents
    try:
        await incidents.limiter.admit(integration.id, integration.name)
    except TooManyAttempts as exc:
        return _throttled(exc)
    action = body["event_action"]

    if action == "trigger":
        event = AlertEvent(action, trigger=trigger_of(body))
    else:
        event = AlertEvent(action, key=str(body["dedup_key"]))
    try:
        [applied] = await apply_alert_events(incidents, integration, [event], "pagerduty")
        key = applied.key
    except ServiceError as exc:
        return _invalid([f"'{exc.field or 'event'}': {exc.message}"])
    return JSONResponse(
        {"status": "success", "message": "Event processed", "dedup_key": key}, status_code=202
    )
