"""A job's settings from its page (admins): its title, description and runbook; its schedule.

Each form is one service call, so one transaction: a refused form changes nothing,
and the page comes back with the reason naming the field. A job the configuration
files manage is changed in its file (409 here, as through the API).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.policy import Action, Resource
from ...services.errors import ServiceError
from ...services.jobs import JobChanges
from ...services.schedules import JobConfig
from ..declare import uses
from .access import Viewer, signed_in
from .forms import answer, form_page, read_form, refuse_if_managed
from .jobs import jobs_context
from .runs import job_context, job_settings_context

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
SHORT = 2000  # characters in a field of these forms; a description may hold more
LONG = 20_000


def _job_page(request: Request, viewer: Viewer, name: str, exc: ServiceError) -> HTMLResponse:
    context = {**job_context(request, viewer, name), **job_settings_context(request, viewer, name)}
    return form_page(request, "job.html", viewer, exc, **context)


@router.post("/jobs/{name}/about", response_class=HTMLResponse)
@uses(Resource.JOB_SETTINGS, Action.MANAGE)
async def set_about(request: Request, name: str, viewer: SignedIn) -> Response:
    """Set the job's title, description and runbook link (an empty link removes it)."""
    form = await read_form(request, viewer)

    async def change() -> None:
        await refuse_if_managed(request, "jobs", name)
        changes = JobChanges(
            given=frozenset({"title", "description", "runbook_url"}),
            title=form.text("title", required=False, limit=SHORT, strip=False),
            description=form.text("description", required=False, limit=LONG, strip=False),
            runbook_url=form.text("runbook_url", required=False, limit=SHORT) or None,
        )
        await request.app.state.jobs.update(name, changes)

    return await answer(change, f"/jobs/{name}", lambda exc: _job_page(request, viewer, name, exc))


@router.post("/jobs/{name}/schedule", response_class=HTMLResponse)
@uses(Resource.JOB_SETTINGS, Action.MANAGE)
async def set_schedule(request: Request, name: str, viewer: SignedIn) -> Response:
    """Set the job's schedule (cron or "every 10m"; empty: none) and its time zone."""
    form = await read_form(request, viewer)

    async def change() -> None:
        await refuse_if_managed(request, "jobs", name)
        config = JobConfig(
            schedule=form.text("schedule", required=False, limit=SHORT),
            timezone=form.text("timezone", required=False, limit=SHORT),
        )
        await request.app.state.schedules.configure(name, config)

    return await answer(change, f"/jobs/{name}", lambda exc: _job_page(request, viewer, name, exc))


def _jobs_page(request: Request, viewer: Viewer, exc: ServiceError, **form: str) -> HTMLResponse:
    context = jobs_context(request, viewer, "", "")
    return form_page(request, "jobs.html", viewer, exc, form=form, **context)


@router.post("/jobs", response_class=HTMLResponse)
@uses(Resource.JOB_SETTINGS, Action.MANAGE)
async def create_job(request: Request, viewer: SignedIn) -> Response:
    """Make a job before its first run (to schedule it, or hand out its ping URL)."""
    form = await read_form(request, viewer)
    name = form.typed("name")["name"].strip()  # the service checks that it is a name

    async def create() -> None:
        title = form.text("title", required=False, limit=SHORT, strip=False)
        given = frozenset({"title"}) if title.strip() else frozenset()
        await request.app.state.jobs.create(name, JobChanges(given=given, title=title))

    return await answer(
        create,
        f"/jobs/{name}",
        lambda exc: _jobs_page(request, viewer, exc, **form.typed("name", "title")),
    )
