"""/api/v1/oncall: people, rotations, overrides, swaps, escalation policies, services,
integrations, job paging rules, calendar feeds and the monthly report (JSON and CSV)."""

from __future__ import annotations

import html
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from ...domain.names import NAME_PATTERN
from ...domain.policy import Action, Resource
from ...services.errors import Invalid
from ...services.escalation import EscalationService
from ...services.oncall import OncallService, PersonSpec, RotationSpec
from ...services.reports import DEFAULT_TARGET, ReportService
from ..answers import answer
from ..auth import Admin, Reader, uses
from ..bounds import RowId
from ..pages.render import SECURITY_HEADERS
from ..responses import text_answers
from .oncall_answers import (
    FeedUrlOut,
    JobRuleListOut,
    JobRuleOut,
    NewOverrideOut,
    OncallReportOut,
    PersonListOut,
    PersonOut,
    PolicyListOut,
    PolicyOut,
    PublicUrlOut,
    RotationDetailOut,
    RotationListOut,
    RotationOut,
    ServiceListOut,
    ServiceOut,
    SwapOut,
)
from .schemas import WebUrl, iso_8601

router = APIRouter(prefix="/oncall", tags=["on-call"])
# Outside /api/v1: calendar feeds (signed, no token) and the report page (signed-in people).
feeds = APIRouter(tags=["on-call"], include_in_schema=False)
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone offset (e.g. Z or +02:00)")
    return value


Aware = Annotated[datetime, BeforeValidator(iso_8601), AfterValidator(_aware)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContactIn(_Body):
    name: Name
    url: Annotated[str, Field(min_length=4, max_length=4000)]


class RuleIn(_Body):
    method: Name
    after_minutes: Annotated[int, Field(ge=0, le=1440)] = 0


class PersonIn(_Body):
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    work_days: Annotated[list[Annotated[int, Field(ge=0, le=6)]], Field(max_length=7)] = [
        0,
        1,
        2,
        3,
        4,
    ]
    work_start: Clock = "09:00"
    work_end: Clock = "17:00"
    contact_methods: Annotated[list[ContactIn], Field(max_length=20)] = []
    rules: Annotated[list[RuleIn], Field(max_length=20)] = []


class RotationIn(_Body):
    timezone: Annotated[str, Field(min_length=1, max_length=64)]
    start_date: date
    handoff: Clock = "09:00"
    shift_hours: Annotated[int, Field(ge=1, le=24 * 28)] = 168
    participants: Annotated[list[Name], Field(min_length=1, max_length=100)]


class OverrideIn(_Body):
    person: Name
    starts_at: Aware
    ends_at: Aware
    note: Annotated[str, Field(max_length=200)] = ""


class SwapIn(_Body):
    first: Aware
    second: Aware


class TargetIn(_Body):
    kind: Literal["rotation", "person", "channel"]
    name: Annotated[str, Field(min_length=1, max_length=64)]


class StepIn(_Body):
    targets: Annotated[list[TargetIn], Field(min_length=1, max_length=20)]
    delay_minutes: Annotated[int, Field(ge=1, le=1440)] = 15


class PolicyIn(_Body):
    steps: Annotated[list[StepIn], Field(min_length=1, max_length=20)]
    repeat: Annotated[int, Field(ge=0, le=10)] = 0


class ServiceIn(_Body):
    room: Name | None = None
    policy: Name | None = None
    runbook_url: WebUrl | None = None
    require_runbook: bool = False


class JobRuleIn(_Body):
    service: Name
    events: Annotated[list[str], Field(max_length=5)] = []


class PublicUrlIn(_Body):
    public_url: Annotated[WebUrl, Field(max_length=500)]


def _oncall(request: Request) -> OncallService:
    service: OncallService = request.app.state.oncall
    return service


def _escalation(request: Request) -> EscalationService:
    service: EscalationService = request.app.state.escalation
    return service


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.hub.clock.now()
    return now


# -- people ---------------------------------------------------------------------------


@router.put(
    "/people/{name}",
    response_model=answer(PersonOut),
    summary="Define a person: time zone, hours, contacts, rules",
)
@uses(Resource.ONCALL, Action.MANAGE)
async def put_person(name: str, body: PersonIn, who: Admin, request: Request) -> dict[str, Any]:
    names = [c.name for c in body.contact_methods]
    spec = PersonSpec(
        timezone=body.timezone,
        work_days=body.work_days,
        work_start=body.work_start,
        work_end=body.work_end,
        contact_methods={c.name: c.url for c in body.contact_methods},
        rules=[(r.method, r.after_minutes) for r in body.rules],
    )
    if len(set(names)) != len(names):
        raise Invalid("contact method names must be unique", field="contact_methods")
    return await _oncall(request).put_person(name, spec)


@router.get("/people", response_model=answer(PersonListOut), summary="People who can be paged")
@uses(Resource.ONCALL, Action.READ)
def list_people(who: Reader, request: Request) -> dict[str, Any]:
    return {"people": _oncall(request).people()}


@router.get("/people/{name}", response_model=answer(PersonOut), summary="A person")
@uses(Resource.ONCALL, Action.READ)
def get_person(name: str, who: Reader, request: Request) -> dict[str, Any]:
    return _oncall(request).person(name)


# -- rotations ---------------------------------------------------------------------------


@router.put("/rotations/{name}", response_model=answer(RotationOut), summary="Define a rotation")
@uses(Resource.ONCALL, Action.MANAGE)
async def put_rotation(name: str, body: RotationIn, who: Admin, request: Request) -> dict[str, Any]:
    spec = RotationSpec(
        timezone=body.timezone,
        start_date=body.start_date,
        handoff=body.handoff,
        shift_hours=body.shift_hours,
        participants=list(body.participants),
    )
    return await _oncall(request).put_rotation(name, spec)


@router.get(
    "/rotations",
    response_model=answer(RotationListOut),
    summary="Rotations, with who is on call now",
)
@uses(Resource.ONCALL, Action.READ)
def list_rotations(who: Reader, request: Request) -> dict[str, Any]:
    return {"rotations": _oncall(request).rotations(_now(request))}


@router.get(
    "/rotations/{name}",
    response_model=answer(RotationDetailOut),
    summary="A rotation: on call at a time, upcoming shifts",
)
@uses(Resource.ONCALL, Action.READ)
def get_rotation(
    name: str,
    who: Reader,
    request: Request,
    at: Aware | None = None,
    days: Annotated[int, Query(ge=1, le=366)] = 28,
) -> dict[str, Any]:
    return _oncall(request).rotation(name, at or _now(request), days)


@router.post(
    "/rotations/{name}/overrides",
    response_model=answer(NewOverrideOut),
    status_code=201,
    summary="Someone covers a range",
)
@uses(Resource.ONCALL, Action.MANAGE)
async def add_override(name: str, body: OverrideIn, who: Admin, request: Request) -> dict[str, Any]:
    return await _oncall(request).add_override(
        name, body.person, body.starts_at, body.ends_at, body.note
    )


@router.delete("/rotations/{name}/overrides/{override_id}", status_code=204)
@uses(Resource.ONCALL, Action.MANAGE)
async def delete_override(name: str, override_id: RowId, who: Admin, request: Request) -> Response:
    await _oncall(request).delete_override(name, override_id)
    return Response(status_code=204)


@router.post(
    "/rotations/{name}/swaps",
    response_model=answer(SwapOut),
    status_code=201,
    summary="Exchange two shifts",
)
@uses(Resource.ONCALL, Action.MANAGE)
async def swap(name: str, body: SwapIn, who: Admin, request: Request) -> dict[str, Any]:
    return {"overrides": await _oncall(request).swap(name, body.first, body.second)}


# -- policies, services, integrations, jobs ----------------------------------------------------


@router.put(
    "/policies/{name}", response_model=answer(PolicyOut), summary="Define an escalation policy"
)
@uses(Resource.ONCALL, Action.MANAGE)
async def put_policy(name: str, body: PolicyIn, who: Admin, request: Request) -> dict[str, Any]:
    steps = [step.model_dump() for step in body.steps]
    return await _escalation(request).put_policy(name, steps, body.repeat)


@router.get("/policies", response_model=answer(PolicyListOut), summary="Escalation policies")
@uses(Resource.ONCALL, Action.READ)
def list_policies(who: Reader, request: Request) -> dict[str, Any]:
    return {"policies": _escalation(request).policies()}


@router.put(
    "/services/{name}",
    response_model=answer(ServiceOut),
    summary="Define a service: its room, policy and runbook rule",
)
@uses(Resource.ONCALL, Action.MANAGE)
async def put_service(name: str, body: ServiceIn, who: Admin, request: Request) -> dict[str, Any]:
    return await _escalation(request).put_service(
        name,
        room=body.room,
        policy=body.policy,
        runbook_url=body.runbook_url,
        require_runbook=body.require_runbook,
    )


@router.get(
    "/services", response_model=answer(ServiceListOut), summary="Services incidents belong to"
)
@uses(Resource.ONCALL, Action.READ)
def list_services(who: Reader, request: Request) -> dict[str, Any]:
    return {"services": _escalation(request).services()}


@router.put(
    "/jobs/{job}",
    response_model=answer(JobRuleOut),
    summary="Which of a job's failed/missed/stalled/overdue/lost page",
)
@uses(Resource.ONCALL, Action.MANAGE)
async def put_job_rule(job: str, body: JobRuleIn, who: Admin, request: Request) -> dict[str, Any]:
    return await _escalation(request).put_job_rule(job, body.service, body.events)


@router.get("/jobs", response_model=answer(JobRuleListOut), summary="Jobs that page someone")
@uses(Resource.ONCALL, Action.READ)
def list_job_rules(who: Reader, request: Request) -> dict[str, Any]:
    return {"jobs": _escalation(request).job_rules()}


@router.put(
    "/public-url",
    response_model=answer(PublicUrlOut),
    summary="The address links in pages and calendar feeds start with",
)
@uses(Resource.ONCALL, Action.MANAGE)
async def put_public_url(body: PublicUrlIn, who: Admin, request: Request) -> dict[str, Any]:
    await _oncall(request).set_public_url(body.public_url)
    return {"public_url": body.public_url}


# -- calendar feeds -------------------------------------------------------------------------


@router.get(
    "/{kind}/{name}/feed",
    response_model=answer(FeedUrlOut),
    summary="The secret iCal address of a rotation or person",
)
@uses(Resource.ONCALL, Action.MANAGE)
async def feed_url(
    kind: Literal["rotations", "people"], name: str, who: Admin, request: Request
) -> dict[str, Any]:
    return {"url": await _oncall(request).feed_url(kind, name)}


@feeds.get("/ical/{kind}/{name}.ics")
@uses(Resource.ONCALL, Action.READ)
async def feed(
    kind: Literal["rotations", "people"],
    name: str,
    sig: str,
    request: Request,
    past_days: Annotated[int, Query(ge=0, le=366)] = 7,
    days: Annotated[int, Query(ge=1, le=366)] = 90,
) -> Response:
    """Shifts overlapping the `past_days` before now and the `days` after (7 and 90)."""
    text = await _oncall(request).feed(kind, name, sig, _now(request), past_days, days)
    return Response(text, media_type="text/calendar; charset=utf-8")


# -- reports -------------------------------------------------------------------------------


def _reports(request: Request) -> ReportService:
    service: ReportService = request.app.state.reports
    return service


Target = Annotated[int, Query(ge=0, le=1000)]


@router.get(
    "/reports/{month}",
    response_model=answer(OncallReportOut),
    summary="Pages per person in and out of hours, shifts served",
)
@uses(Resource.ONCALL_REPORTS, Action.READ)
def report(
    month: str, who: Reader, request: Request, target: Target = DEFAULT_TARGET
) -> dict[str, Any]:
    return _reports(request).view(month, target)


@router.get(
    "/reports/{month}/csv",
    summary="The same report as CSV",
    response_class=Response,
    responses=text_answers("text/csv"),
)
@uses(Resource.ONCALL_REPORTS, Action.READ)
def report_csv(
    month: str, who: Reader, request: Request, target: Target = DEFAULT_TARGET
) -> PlainTextResponse:
    return PlainTextResponse(
        _reports(request).csv(month, target),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="oncall-{month}.csv"'},
    )


@feeds.get("/oncall/report", response_class=HTMLResponse)
@uses(Resource.ONCALL_REPORTS, Action.READ)
def report_page(
    who: Reader, request: Request, month: str | None = None, target: Target = DEFAULT_TARGET
) -> HTMLResponse:
    """The monthly report as a page that reads on a phone."""
    month = month or _now(request).strftime("%Y-%m")
    view = _reports(request).view(month, target)
    cells = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(line[k]))}</td>"
            for k in ("person", "pages", "inside_hours", "outside_hours", "shifts", "hours_on_call")
        )
        + f"<td>{'over' if line['over_target'] else 'ok'}</td></tr>"
        for line in view["people"]
    )
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>On-call report {html.escape(month)}</title></head><body>"
        f"<h1>On-call report {html.escape(month)}</h1>"
        f"<p>Target: at most {target} out-of-hours pages a month per person. "
        f"<a href='/api/v1/oncall/reports/{html.escape(month)}/csv?target={target}'>CSV</a></p>"
        "<table><thead><tr><th>person</th><th>pages</th><th>in hours</th>"
        "<th>out of hours</th><th>shifts</th><th>hours on call</th><th>target</th></tr></thead>"
        f"<tbody>{cells}</tbody></table></body></html>"
    )
    return HTMLResponse(body, headers=SECURITY_HEADERS)
