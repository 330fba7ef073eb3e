"""Escalation policies and services: lists, a page each, and the forms that define them."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.links import web_url_problem
from ...domain.policy import Action, Resource
from ...services.errors import Invalid, NotFound, ServiceError
from ...services.escalation import EscalationService
from ..declare import uses
from .access import Viewer, signed_in
from .forms import Form, answer, form_page, managed_by, may, read_form, refuse_if_managed

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
MAX_STEPS = 20
TARGET_KINDS = ("rotation", "person", "channel")
INCIDENTS_SHOWN = 25


def _escalation(request: Request) -> EscalationService:
    service: EscalationService = request.app.state.escalation
    return service


def _may_manage(viewer: Viewer) -> bool:
    return may(viewer, Resource.ONCALL, Action.MANAGE)


# -- reading a policy's steps from its form ---------------------------------------------------


def targets_text(targets: list[dict[str, str]]) -> str:
    """ "rotation:primary, person:boss": a step's targets as its form field shows them."""
    return ", ".join(f"{t['kind']}:{t['name']}" for t in targets)


def _targets(text: str, field: str) -> list[dict[str, str]]:
    found = []
    for item in (part for part in re.split(r"[,\s]+", text) if part):
        kind, _, name = item.partition(":")
        if kind not in TARGET_KINDS or not name:
            raise Invalid(
                f"{item!r} is not a target: write rotation:NAME, person:NAME or channel:NAME",
                field=field,
            )
        found.append({"kind": kind, "name": name})
    return found


def steps_of(form: Form) -> list[dict[str, Any]]:
    """The steps a policy form lists (rows left empty are skipped)."""
    steps: list[dict[str, Any]] = []
    for i in range(MAX_STEPS):
        text = form.text(f"targets_{i}", required=False, limit=2000)
        if not text:
            continue
        targets = _targets(text, f"steps.{len(steps)}.targets")
        delay = form.number(f"delay_{i}", 1, 1440, default=15)
        steps.append({"targets": targets, "delay_minutes": delay})
    if not steps:
        raise Invalid("a policy needs at least one step with a target", field="steps")
    return steps


async def _put_policy(request: Request, viewer: Viewer, name: str) -> None:
    form = await read_form(request, viewer)
    await refuse_if_managed(request, "escalation_policies", name)
    repeat = form.number("repeat", 0, 10, default=0)
    await _escalation(request).put_policy(name, steps_of(form), repeat)


# -- policies ---------------------------------------------------------------------------------


def _policies_page(
    request: Request, viewer: Viewer, exc: ServiceError | None = None
) -> HTMLResponse:
    service = _escalation(request)
    used: dict[str, list[str]] = {}
    for s in service.services():
        if s["policy"]:
            used.setdefault(s["policy"], []).append(s["name"])
    return form_page(
        request,
        "oncall_policies.html",
        viewer,
        exc,
        policies=service.policies(),
        used=used,
        may_manage=_may_manage(viewer),
    )


@router.get("/policies", response_class=HTMLResponse)
@uses(Resource.ONCALL, Action.READ)
def policies_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _policies_page(request, viewer)


@router.post("/policies")
@uses(Resource.ONCALL, Action.MANAGE)
async def create_policy(request: Request, viewer: SignedIn) -> Response:
    name = str((await request.form()).get("name") or "").strip()
    return await answer(
        lambda: _put_policy(request, viewer, name),
        f"/policies/{name}",
        lambda exc: _policies_page(request, viewer, exc),
    )


def _policy_page(
    request: Request, viewer: Viewer, name: str, exc: ServiceError | None = None
) -> HTMLResponse:
    service = _escalation(request)
    found = next((p for p in service.policies() if p["name"] == name), None)
    if found is None:
        raise NotFound(f"no escalation policy named {name!r}", field="name")
    return form_page(
        request,
        "oncall_policy.html",
        viewer,
        exc,
        policy=found,
        rows=[targets_text(step["targets"]) for step in found["steps"]] + [""],
        services=[s for s in service.services() if s["policy"] == name],
        managed=managed_by(request, "escalation_policies", name),
        may_manage=_may_manage(viewer),
    )


@router.get("/policies/{name}", response_class=HTMLResponse)
@uses(Resource.ONCALL, Action.READ)
def policy_page(request: Request, name: str, viewer: SignedIn) -> HTMLResponse:
    return _policy_page(request, viewer, name)


@router.post("/policies/{name}")
@uses(Resource.ONCALL, Action.MANAGE)
async def edit_policy(request: Request, name: str, viewer: SignedIn) -> Response:
    return await answer(
        lambda: _put_policy(request, viewer, name),
        f"/policies/{name}",
        lambda exc: _policy_page(request, viewer, name, exc),
    )


# -- services ---------------------------------------------------------------------------------


async def _put_service(request: Request, viewer: Viewer, name: str) -> None:
    form = await read_form(request, viewer)
    await refuse_if_managed(request, "services", name)
    runbook = form.text("runbook_url", required=False, limit=2000)
    if runbook and (reason := web_url_problem(runbook)):
        raise Invalid(f"runbook_url {reason}", field="runbook_url")
    await _escalation(request).put_service(
        name,
        room=form.text("room", required=False, limit=64) or None,
        policy=form.text("policy", required=False, limit=64) or None,
        runbook_url=runbook or None,
        require_runbook=form.checked("require_runbook"),
    )


def _services_page(
    request: Request, viewer: Viewer, exc: ServiceError | None = None
) -> HTMLResponse:
    service = _escalation(request)
    open_incidents: dict[str, int] = {}
    for status in ("triggered", "acknowledged"):
        for incident in request.app.state.incidents.list(
            viewer.principal, status=status, service=None, limit=500
        ):
            open_incidents[incident["service"]] = open_incidents.get(incident["service"], 0) + 1
    return form_page(
        request,
        "oncall_services.html",
        viewer,
        exc,
        services=service.services(),
        policies=[p["name"] for p in service.policies()],
        open_incidents=open_incidents,
        may_manage=_may_manage(viewer),
    )


@router.get("/services", response_class=HTMLResponse)
@uses(Resource.ONCALL, Action.READ)
def services_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _services_page(request, viewer)


@router.post("/services")
@uses(Resource.ONCALL, Action.MANAGE)
async def create_service(request: Request, viewer: SignedIn) -> Response:
    name = str((await request.form()).get("name") or "").strip()
    return await answer(
        lambda: _put_service(request, viewer, name),
        f"/services/{name}",
        lambda exc: _services_page(request, viewer, exc),
    )


def _service_page(
    request: Request, viewer: Viewer, name: str, exc: ServiceError | None = None
) -> HTMLResponse:
    service = _escalation(request)
    found = next((s for s in service.services() if s["name"] == name), None)
    if found is None:
        raise NotFound(f"no service named {name!r}", field="name")
    integrations = (
        [i for i in request.app.state.integrations.all() if i["service"] == name]
        if may(viewer, Resource.INTEGRATIONS, Action.READ)
        else None
    )
    incidents = request.app.state.incidents.list(
        viewer.principal, status=None, service=name, limit=INCIDENTS_SHOWN
    )
    return form_page(
        request,
        "oncall_service.html",
        viewer,
        exc,
        service=found,
        policies=[p["name"] for p in service.policies()],
        incidents=incidents,
        jobs=[j for j in service.job_rules() if j["service"] == name],
        integrations=integrations,
        managed=managed_by(request, "services", name),
        may_manage=_may_manage(viewer),
    )


@router.get("/services/{name}", response_class=HTMLResponse)
@uses(Resource.ONCALL, Action.READ)
def service_page(request: Request, name: str, viewer: SignedIn) -> HTMLResponse:
    return _service_page(request, viewer, name)


@router.post("/services/{name}")
@uses(Resource.ONCALL, Action.MANAGE)
async def edit_service(request: Request, name: str, viewer: SignedIn) -> Response:
    return await answer(
        lambda: _put_service(request, viewer, name),
        f"/services/{name}",
        lambda exc: _service_page(request, viewer, name, exc),
    )
