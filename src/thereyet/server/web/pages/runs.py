"""Pages about runs: the dashboard, a run, a job; and their live streams."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ...domain.cards import format_duration
from ...domain.policy import Action, Resource
from ...domain.runs import FINISHED, RunFilter, RunStatus
from ...services.runs import RunService
from ..declare import uses
from ..live import frame
from .access import Viewer, signed_in, still_allowed, viewer_for_stream
from .charts import Point, durations_chart
from .forms import managed_by
from .oncall import on_call_glance
from .present import dashboard_row, run_display
from .render import page

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
ACTIVE = (RunStatus.RUNNING, RunStatus.QUEUED, RunStatus.LOST)
_ACTIVE_NAMES = frozenset(s.value for s in ACTIVE)
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _runs(request: Request) -> RunService:
    service: RunService = request.app.state.runs
    return service


def active_runs(
    request: Request, viewer: Viewer, room: str | None = None, job: str | None = None
) -> list[Any]:
    """The runs in progress `viewer` may read (of one room or job), as a page shows them."""
    flt = RunFilter(room=room, job=job, statuses=ACTIVE)
    return [run_display(v) for v in _runs(request).search(viewer.principal, flt, limit=500)]


def blank_run() -> dict[str, Any]:
    """An empty run row: the template the script fills for a run that starts live."""
    return run_display(_BLANK)


@router.get("/", response_class=HTMLResponse)
@uses(Resource.RUNS, Action.READ)
def dashboard(
    request: Request, viewer: SignedIn, room: str = "", job: str = "", host: str = ""
) -> HTMLResponse:
    """Running runs, and past runs (of one host or agent, with `host`)."""
    active = active_runs(request, viewer, room or None, job or None)
    finished_filter = RunFilter(
        room=room or None, job=job or None, host=host[:255] or None, statuses=tuple(FINISHED)
    )
    finished = _runs(request).search(viewer.principal, finished_filter, limit=25)
    return page(
        request,
        "dashboard.html",
        viewer=viewer,
        active=active,
        finished=[run_display(v) for v in finished],
        blank=blank_run(),
        rooms=request.app.state.rooms.all(viewer.principal),
        jobs=request.app.state.jobs.all(viewer.principal),
        room=room,
        job=job,
        host=host,
        query=urlencode({k: v for k, v in (("room", room), ("job", job)) if v}),
        on_call=on_call_glance(request, viewer),
    )


@router.get("/live/runs")
@uses(Resource.RUNS, Action.READ)
async def live_runs(request: Request, room: str = "", job: str = "") -> StreamingResponse:
    viewer = viewer_for_stream(request)

    async def snapshot() -> list[bytes]:
        flt = RunFilter(room=room or None, job=job or None, statuses=ACTIVE)
        views = await run_in_threadpool(_runs(request).search, viewer.principal, flt, limit=500)
        return [frame("runs", [dashboard_row(v) for v in views])]

    def only(view: dict[str, Any]) -> bool:
        if room and room not in view["rooms"]:
            return False
        if job and view["job"] != job:
            return False
        return viewer.principal.may_read_run(view["job"], view["rooms"])

    everything = viewer.principal.reads_everything and not room and not job
    stream = request.app.state.live.stream(
        "runs",
        event="runs",
        first=snapshot,
        only=None if everything else only,
        prepare=dashboard_row,
        ends_with=viewer.ends_with,
        still_allowed=still_allowed(request),
    )
    return StreamingResponse(stream, media_type="text/event-stream", headers=STREAM_HEADERS)


# What a run's timeline lists: what changed and what people said. Progress, stats,
# log lines and heartbeats (one a second, for hours) have their own panels.
TIMELINE_KINDS = ("status", "note", "attachment")


def _summary(event: dict[str, Any]) -> str:
    kind = event["type"]
    if kind == "attachment":
        return str(event["name"])
    if kind == "note":
        return str(event["text"])
    return ""


@router.get("/runs/{run_id}", response_class=HTMLResponse)
@uses(Resource.RUNS, Action.READ)
def run_page(request: Request, run_id: str, viewer: SignedIn) -> HTMLResponse:
    run = run_display(_runs(request).get(viewer.principal, run_id))
    events = _runs(request).events(
        viewer.principal, run_id, after=0, limit=1000, kinds=TIMELINE_KINDS
    )
    timeline = [{**e, "summary": _summary(e)} for e in events]
    incidents = request.app.state.incidents.of_run(viewer.principal, run_id)
    quiet = "progress, stats and log lines" if run["stats"] or run["log_tail"] else ""
    return page(
        request,
        "run.html",
        viewer=viewer,
        run=run,
        timeline=timeline,
        incidents=incidents,
        quiet=quiet,
    )


@router.get("/live/run/{run_id}")
@uses(Resource.RUNS, Action.READ)
async def live_run(request: Request, run_id: str) -> StreamingResponse:
    viewer = viewer_for_stream(request)
    runs = _runs(request)
    await run_in_threadpool(runs.get, viewer.principal, run_id)  # 404 before streaming

    async def snapshot() -> list[bytes]:
        view = await run_in_threadpool(runs.get, viewer.principal, run_id)
        return [frame("run", [run_display(view)])]

    stream = request.app.state.live.stream(
        f"run:{run_id}",
        event="run",
        first=snapshot,
        prepare=run_display,
        ends_with=viewer.ends_with,
        still_allowed=still_allowed(request),
    )
    return StreamingResponse(stream, media_type="text/event-stream", headers=STREAM_HEADERS)


def job_context(request: Request, viewer: Viewer, name: str) -> dict[str, Any]:
    job = request.app.state.jobs.get(viewer.principal, name)
    runs = [
        run_display(v)
        for v in _runs(request).search(viewer.principal, RunFilter(job=name), limit=100)
    ]
    finished = [r for r in runs if r["status"] in FINISHED and r["elapsed"] is not None]
    ok = [r for r in finished if r["status"] == RunStatus.SUCCEEDED.value]
    points = [
        Point(r["started_at"] or r["created_at"], r["elapsed"], r["status"] == "succeeded")
        for r in reversed(finished)
    ]
    average = sum(r["elapsed"] for r in ok) / len(ok) if ok else None
    summary = {
        "success_rate": f"{100 * len(ok) / len(finished):.0f}% of {len(finished)}"
        if finished
        else "—",
        "average": format_duration(average) if average is not None else "—",
        "typical": format_duration(job["typical_duration"]) if job["typical_duration"] else "—",
        "eta": eta_accuracy_text(job["eta_accuracy"]),
    }
    schedule = request.app.state.schedules.get(viewer.principal, name)
    return {
        "job": job,
        "runs": runs,
        "summary": summary,
        "chart": durations_chart(points),
        "schedule": schedule,
        "active": [r for r in runs if r["status"] in _ACTIVE_NAMES],
        "blank": blank_run(),
    }


def eta_accuracy_text(accuracy: dict[str, Any]) -> str:
    """ "off by 6% (median of 12 runs), range held 83%", or why there is nothing to say."""
    if not accuracy["runs"] or accuracy["error"] is None:
        return "not scored yet (runs score their ETA when they succeed)"
    runs = accuracy["runs"]
    text = f"off by {100 * accuracy['error']:.0f}% (median of {runs} run{'s' * (runs != 1)})"
    if accuracy["held"] is not None:
        text += f", range held {100 * accuracy['held']:.0f}%"
    return text


def job_settings_context(request: Request, viewer: Viewer, name: str) -> dict[str, Any]:
    """What the job page needs for its settings forms: whether the viewer may change
    the job's settings, and the configuration file that manages the job, if one does."""
    if viewer.share is not None or not viewer.principal.may(
        Resource.JOB_SETTINGS, Action.MANAGE, job=name
    ):
        return {"may_manage": False, "managed_by": None}
    owner = managed_by(request, "jobs", name)
    return {"may_manage": True, "managed_by": owner["file"] if owner else None}


@router.get("/jobs/{name}", response_class=HTMLResponse)
@uses(Resource.JOBS, Action.READ)
def job_page(request: Request, name: str, viewer: SignedIn) -> HTMLResponse:
    settings = job_settings_context(request, viewer, name)
    return page(
        request, "job.html", viewer=viewer, **job_context(request, viewer, name), **settings
    )


_BLANK: dict[str, Any] = {
    "id": "",
    "job": "",
    "status": "running",
    "rooms": [],
    "host": None,
    "trigger": None,
    "elapsed": None,
    "rate": None,
    "progress": {"done": None, "total": None, "unit": None, "percent": None},
    "eta": {"text": ""},
}
