"""The web pages: server-rendered, live over SSE, usable on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from . import (
    admin,
    agents,
    channels,
    commands,
    escalation,
    incident,
    incidents,
    integrations,
    job_settings,
    jobs,
    oncall,
    oncall_people,
    oncall_reports,
    rooms,
    runs,
    session,
    shares,
)
from .access import NeedLogin

STATIC = Path(__file__).resolve().parent.parent / "static"


async def _need_login(_request: Request, exc: Exception) -> Any:
    assert isinstance(exc, NeedLogin)
    return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)


def install(app: FastAPI) -> None:
    for module in (
        session,
        runs,
        rooms,
        shares,
        incidents,
        integrations,
        jobs,
        job_settings,
        commands,
        channels,
        admin,
        oncall,
        oncall_people,
        escalation,
        incident,
        oncall_reports,
        agents,
    ):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(NeedLogin, _need_login)
