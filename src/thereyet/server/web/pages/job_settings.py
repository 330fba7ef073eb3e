"""A job's settings from its page (admins): its title, description and runbook; its schedule.

Each form is one service call, so one transaction: a refused form changes nothing,
and the page comes back with the reason naming the field. A job the configuration
files manage is changed in its file (409 here, as through the API).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...domain.policy import Action, Resource
from ...services.errors import ServiceError
from ...services.jobs import JobChanges
from ...services.schedules import JobConfig
from ..declare import uses
from .access import Viewer, check_csrf, signed_in
from .forms import form_page, job_settings_context, problem_of, refuse_if_managed
from .jobs import jobs_context
from .runs import job_context

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
Short = Annotated[str, Form(max_length=2000)]
Long = Annotated[str, Form(max_length=20_000)]


def _refused(request: Request, viewer: Viewer, name: str, exc: ServiceError) -> HTMLResponse:
    context = {**job_context(request, viewer, name), **job_settings_context(request, viewer, name)}
    return form_page(request, "job.html", viewer, problem_of(exc), **context)


@router.post("/jobs/{name}/about", response_class=HTMLResponse)
@uses(Resource.JOB_SETTINGS, Action.MANAGE)
async def set_about(
    request: Request,
    name: str,
    viewer: SignedIn,
    csrf: Short = "",
    title: Short = "",
    description: Long = "",
    runbook_url: Short = "",
) -> Response:
    """Set the job's title, description and runbook link (an empty link removes it)."""
    check_csrf(request, viewer, csrf)
    refuse_if_managed(request, "jobs", name)
    changes = JobChanges(
        given=frozenset({"title", "description", "runbook_url"}),
        title=title,
        description=description,
        runbook_url=runbook_url.strip() or None,
    )
    try:
        await request.app.state.jobs.update(name, changes)
    except ServiceError as exc:
        return _refused(request, viewer, name, exc)
    return RedirectResponse(f"/jobs/{name}", status_code=303)


@router.post("/jobs/{name}/schedule", response_class=HTMLResponse)
@uses(Resource.JOB_SETTINGS, Action.MANAGE)
async def set_schedule(
    request: Request,
    name: str,
    viewer: SignedIn,
    csrf: Short = "",
    schedule: Short = "",
    timezone: Short = "",
) -> Response:
    """Set the job's schedule (cron or "every 10m"; empty: none) and its time zone."""
    check_csrf(request, viewer, csrf)
    refuse_if_managed(request, "jobs", name)
    config = JobConfig(schedule=schedule.strip(), timezone=timezone.strip())
    try:
        await request.app.state.schedules.configure(name, config)
    except ServiceError as exc:
        return _refused(request, viewer, name, exc)
    return RedirectResponse(f"/jobs/{name}", status_code=303)


@router.post("/jobs", response_class=HTMLResponse)
@uses(Resource.JOB_SETTINGS, Action.MANAGE)
async def create_job(
    request: Request, viewer: SignedIn, csrf: Short = "", name: Short = "", title: Short = ""
) -> Response:
    """Make a job before its first run (to schedule it, or hand out its ping URL)."""
    check_csrf(request, viewer, csrf)
    name = name.strip()
    given = frozenset({"title"}) if title.strip() else frozenset()
    try:
        await request.app.state.jobs.create(name, JobChanges(given=given, title=title))
    except ServiceError as exc:
        context = jobs_context(request, viewer, "", "")
        form = {"name": name, "title": title}
        return form_page(request, "jobs.html", viewer, problem_of(exc), form=form, **context)
    return RedirectResponse(f"/jobs/{name}", status_code=303)
