"""The jobs page: every job at a glance, with a filter by state and a search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from ...domain.cards import format_duration
from ...domain.job_state import JobState
from ...domain.policy import Action, Resource
from ..declare import uses
from .access import Viewer, signed_in
from .charts import sparkline
from .render import page

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
NEEDS_ATTENTION = "attention"
STATES = (NEEDS_ATTENTION, *(s.value for s in JobState))


def _shown(job: dict[str, Any]) -> dict[str, Any]:
    took = job["last_run"]["seconds"] if job["last_run"] else None
    return {
        **job,
        "spark": sparkline(job["recent"]),
        "took": "" if took is None else format_duration(took),
    }


def _matches(job: dict[str, Any], state: str, words: list[str]) -> bool:
    if state == NEEDS_ATTENTION and not job["attention"]:
        return False
    if state not in ("", NEEDS_ATTENTION) and job["state"] != state:
        return False
    text = f"{job['name']} {job['title']} {' '.join(job['rooms'])}".lower()
    return all(word in text for word in words)


def jobs_context(request: Request, viewer: Viewer, state: str, q: str) -> dict[str, Any]:
    """The jobs page's jobs, those of `state` ("attention": those needing it) matching `q`."""
    everything = request.app.state.jobs.overview(viewer.principal)
    chosen = state if state in STATES else ""
    words = q.lower().split()
    shown = [_shown(j) for j in everything if _matches(j, chosen, words)]
    return {"jobs": shown, "total": len(everything), "states": STATES, "state": chosen, "q": q}


@router.get("/jobs", response_class=HTMLResponse)
@uses(Resource.JOBS, Action.READ)
def jobs_page(
    request: Request,
    viewer: SignedIn,
    state: Annotated[str, Query(max_length=16)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    context = jobs_context(request, viewer, state, q)
    return page(request, "jobs.html", viewer=viewer, form={}, **context)
