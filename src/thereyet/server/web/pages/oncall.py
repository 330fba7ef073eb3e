"""On call now, and a rotation's page: its calendar, overrides, swaps and definition."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.policy import Action, Resource
from ...services.errors import Invalid, ServiceError
from ...services.oncall import OncallService, RotationSpec
from ..bounds import RowId
from ..declare import uses
from .access import Viewer, signed_in
from .forms import answer, form_page, managed_by, may, read_form, refuse_if_managed
from .oncall_calendar import calendar
from .times import now_of, relative, zone_or_utc

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
CALENDAR_WEEKS = 4
SWAP_CHOICES = 12
SHIFT_LENGTHS = ((24, "daily"), (168, "weekly"), (336, "every two weeks"))


def _oncall(request: Request) -> OncallService:
    service: OncallService = request.app.state.oncall
    return service


def on_call_now(request: Request, now: datetime) -> list[dict[str, Any]]:
    """Each rotation with who is on call, until when (and how long from now), who is next."""
    return [
        {**r, "until_in": relative(r["on_call_until"], now)}
        for r in _oncall(request).rotations(now)
    ]


def on_call_glance(request: Request, viewer: Viewer) -> list[dict[str, Any]]:
    """What the dashboard shows of on-call, for those the policy lets read it."""
    if not may(viewer, Resource.ONCALL, Action.READ):
        return []
    return on_call_now(request, now_of(request))


# -- on call now ------------------------------------------------------------------------


def _oncall_page(request: Request, viewer: Viewer, exc: ServiceError | None = None) -> HTMLResponse:
    now = now_of(request)
    rotations = on_call_now(request, now)
    overrides = [
        {**o, "rotation": r["name"], "timezone": r["timezone"]}
        for r in rotations
        for o in _oncall(request).rotation(r["name"], now, days=1)["overrides"]
    ]
    return form_page(
        request,
        "oncall_now.html",
        viewer,
        exc,
        rotations=rotations,
        overrides=sorted(overrides, key=lambda o: o["starts_at"]),
        people=[p["name"] for p in _oncall(request).people()],
        may_manage=may(viewer, Resource.ONCALL, Action.MANAGE),
        shift_lengths=SHIFT_LENGTHS,
        today=now.date().isoformat(),
    )


@router.get("/oncall", response_class=HTMLResponse)
@uses(Resource.ONCALL, Action.READ)
def oncall_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _oncall_page(request, viewer)


async def _put_rotation(request: Request, viewer: Viewer, name: str) -> None:
    form = await read_form(request, viewer)
    await refuse_if_managed(request, "rotations", name)
    start = form.text("start_date", limit=10)
    try:
        start_date = datetime.fromisoformat(start).date()
    except ValueError:
        raise Invalid("start_date must be a date (YYYY-MM-DD)", field="start_date") from None
    spec = RotationSpec(
        timezone=form.text("timezone", limit=64),
        start_date=start_date,
        handoff=form.text("handoff", limit=5),
        shift_hours=form.number("shift_hours", 1, 24 * 28),
        participants=form.choices("participants"),
    )
    await _oncall(request).put_rotation(name, spec)


@router.post("/oncall/rotations")
@uses(Resource.ONCALL, Action.MANAGE)
async def create_rotation(request: Request, viewer: SignedIn) -> Response:
    form = await request.form()
    name = str(form.get("name") or "").strip()
    return await answer(
        lambda: _put_rotation(request, viewer, name),
        f"/oncall/rotations/{name}",
        lambda exc: _oncall_page(request, viewer, exc),
    )


# -- a rotation -------------------------------------------------------------------------


def _rotation_page(
    request: Request, viewer: Viewer, name: str, exc: ServiceError | None = None
) -> HTMLResponse:
    now = now_of(request)
    service = _oncall(request)
    rotation = service.rotation(name, now, days=7 * CALENDAR_WEEKS)
    tz = zone_or_utc(rotation["timezone"])
    local_today = now.astimezone(tz).date()
    monday = datetime.combine(local_today - timedelta(days=local_today.weekday()), time(0), tz)
    shown = service.rotation(name, monday, days=7 * CALENDAR_WEEKS)["upcoming"]
    people = list(rotation["participants"])
    return form_page(
        request,
        "oncall_rotation.html",
        viewer,
        exc,
        rotation={**rotation, "until_in": relative(rotation["on_call_until"], now)},
        weeks=calendar(shown, people, rotation["timezone"], now, CALENDAR_WEEKS),
        shifts=_swappable(rotation["upcoming"]),
        # The rotation's people first, in their turn, so that saving keeps the order.
        people=people + [p["name"] for p in service.people() if p["name"] not in people],
        managed=managed_by(request, "rotations", name),
        may_manage=may(viewer, Resource.ONCALL, Action.MANAGE),
        shift_lengths=SHIFT_LENGTHS,
    )


def _swappable(upcoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The next shifts one may swap (not overrides); the one in progress reads "now"."""
    shifts = [s for s in upcoming if not s["override"]][:SWAP_CHOICES]
    return [{**s, "from_now": i == 0 and s is upcoming[0]} for i, s in enumerate(shifts)]


@router.get("/oncall/rotations/{name}", response_class=HTMLResponse)
@uses(Resource.ONCALL, Action.READ)
def rotation_page(request: Request, name: str, viewer: SignedIn) -> HTMLResponse:
    return _rotation_page(request, viewer, name)


@router.post("/oncall/rotations/{name}")
@uses(Resource.ONCALL, Action.MANAGE)
async def edit_rotation(request: Request, name: str, viewer: SignedIn) -> Response:
    return await answer(
        lambda: _put_rotation(request, viewer, name),
        f"/oncall/rotations/{name}",
        lambda exc: _rotation_page(request, viewer, name, exc),
    )


def _zone_of(request: Request, name: str) -> str:
    timezone: str = _oncall(request).rotation(name, now_of(request), days=1)["timezone"]
    return timezone


async def _add_override(request: Request, viewer: Viewer, name: str) -> None:
    form = await read_form(request, viewer)
    timezone = _zone_of(request, name)
    await _oncall(request).add_override(
        name,
        form.text("person", limit=64),
        form.local_time("starts_at", timezone),
        form.local_time("ends_at", timezone),
        form.text("note", required=False),
    )


@router.post("/oncall/rotations/{name}/overrides")
@uses(Resource.ONCALL, Action.MANAGE)
async def add_override(request: Request, name: str, viewer: SignedIn) -> Response:
    return await answer(
        lambda: _add_override(request, viewer, name),
        f"/oncall/rotations/{name}#overrides",
        lambda exc: _rotation_page(request, viewer, name, exc),
    )


async def _swap(request: Request, viewer: Viewer, name: str) -> None:
    form = await read_form(request, viewer)
    timezone = _zone_of(request, name)
    await _oncall(request).swap(
        name, form.local_time("first", timezone), form.local_time("second", timezone)
    )


@router.post("/oncall/rotations/{name}/swaps")
@uses(Resource.ONCALL, Action.MANAGE)
async def swap_shifts(request: Request, name: str, viewer: SignedIn) -> Response:
    return await answer(
        lambda: _swap(request, viewer, name),
        f"/oncall/rotations/{name}#overrides",
        lambda exc: _rotation_page(request, viewer, name, exc),
    )


async def _remove_override(request: Request, viewer: Viewer, name: str, override: int) -> None:
    await read_form(request, viewer)
    await _oncall(request).delete_override(name, override)


@router.post("/oncall/rotations/{name}/overrides/{override_id}/delete")
@uses(Resource.ONCALL, Action.MANAGE)
async def remove_override(
    request: Request, name: str, override_id: RowId, viewer: SignedIn
) -> Response:
    return await answer(
        lambda: _remove_override(request, viewer, name, override_id),
        f"/oncall/rotations/{name}#overrides",
        lambda exc: _rotation_page(request, viewer, name, exc),
    )
