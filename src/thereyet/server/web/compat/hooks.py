"""Inbound webhooks: POST /hooks/<kind>/<token> (slack, github, gitlab, jenkins, nagios),
and POST /hooks/<token> for Slack-style posts (the path Mattermost clients use).

The token in the URL names the integration (and so its room); GitHub and GitLab
deliveries are verified besides. Errors are JSON {"error", "field"} with a 4xx.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from ...domain.policy import Action, Resource
from ...services.integrations import IntegrationService
from ..answers import answer
from ..api.oncall_answers import HookReceivedOut
from ..auth import uses
from ..responses import text_answers

router = APIRouter(tags=["integrations"])


async def _receive(request: Request, kind: str, token: str) -> Response:
    service: IntegrationService = request.app.state.integrations
    headers = {k.lower(): v for k, v in request.headers.items()}
    received = await service.receive(kind, token, headers, await request.body())
    if kind == "slack":
        return PlainTextResponse("ok")  # what Slack answers, and its clients expect
    return JSONResponse({"ok": True, "posted": received.posted, "duplicate": received.duplicate})


@router.post(
    "/hooks/{kind}/{token}",
    summary="An integration's delivery, in its format",
    response_model=answer(HookReceivedOut),
    responses=text_answers("text/plain"),  # Slack's format answers "ok", as Slack does
)
@uses(Resource.ROOMS, Action.WRITE)
async def hook(kind: str, token: str, request: Request) -> Response:
    return await _receive(request, kind, token)


@router.post(
    "/hooks/{token}",
    summary="A Slack-style incoming webhook (Mattermost's path)",
    response_class=Response,
    responses=text_answers("text/plain"),
)
@uses(Resource.ROOMS, Action.WRITE)
async def slack_hook(token: str, request: Request) -> Response:
    return await _receive(request, "slack", token)
