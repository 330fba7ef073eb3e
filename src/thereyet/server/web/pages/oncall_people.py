"""People who can be paged: time zone, working hours, contact methods and a test send."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.policy import Action, Resource
from ...services.contact_methods import ContactMethods
from ...services.errors import Invalid, ServiceError
from ...services.oncall import OncallService
from ..declare import uses
from .access import Viewer, signed_in
from .forms import Form, answer, form_page, managed_by, may, read_form, refuse_if_managed
from .times import WEEKDAYS, now_of

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
DELIVERIES_SHOWN = 3
SHIFTS_SHOWN = 6


def _oncall(request: Request) -> OncallService:
    service: OncallService = request.app.state.oncall
    return service


def _contacts(request: Request) -> ContactMethods:
    service: ContactMethods = request.app.state.contacts
    return service


def _hours_form(form: Form) -> dict[str, Any]:
    days = form.choices("work_days")
    if any(d not in {str(i) for i in range(7)} for d in days):
        raise Invalid("working days are 0 (Monday) to 6 (Sunday)", field="work_days")
    return {
        "timezone": form.text("timezone", limit=64),
        "work_days": sorted({int(d) for d in days}),
        "start": form.text("work_start", limit=5),
        "end": form.text("work_end", limit=5),
    }


# -- the list -------------------------------------------------------------------------------


def _people_page(request: Request, viewer: Viewer, exc: ServiceError | None = None) -> HTMLResponse:
    now = now_of(request)
    on_call: dict[str, list[str]] = {}
    for rotation in _oncall(request).rotations(now):
        if rotation["on_call"]:
            on_call.setdefault(rotation["on_call"], []).append(rotation["name"])
    return form_page(
        request,
        "oncall_people.html",
        viewer,
        exc,
        people=_oncall(request).people(),
        on_call=on_call,
        weekdays=WEEKDAYS,
        may_manage=may(viewer, Resource.ONCALL, Action.MANAGE),
    )


@router.get("/people", response_class=HTMLResponse)
@uses(Resource.ONCALL, Action.READ)
def people_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _people_page(request, viewer)


async def _set_hours(request: Request, viewer: Viewer, name: str) -> None:
    form = await read_form(request, viewer)
    await refuse_if_managed(request, "people", name)
    await _contacts(request).set_hours(name, **_hours_form(form))


@router.post("/people")
@uses(Resource.ONCALL, Action.MANAGE)
async def create_person(request: Request, viewer: SignedIn) -> Response:
    name = str((await request.form()).get("name") or "").strip()
    return await answer(
        lambda: _set_hours(request, viewer, name),
        f"/people/{name}",
        lambda exc: _people_page(request, viewer, exc),
    )


# -- a person -------------------------------------------------------------------------------


def _shifts_of(request: Request, name: str) -> list[dict[str, Any]]:
    now = now_of(request)
    service = _oncall(request)
    found = [
        {**shift, "rotation": rotation["name"], "timezone": rotation["timezone"]}
        for rotation in service.rotations(now)
        if name in rotation["participants"] or rotation["on_call"] == name
        for shift in service.rotation(rotation["name"], now, days=28)["upcoming"]
        if shift["person"] == name
    ]
    return sorted(found, key=lambda s: s["starts_at"])[:SHIFTS_SHOWN]


def _deliveries(request: Request, viewer: Viewer, person: dict[str, Any]) -> dict[str, Any]:
    """The latest messages each contact method carried, for those who may see deliveries."""
    if not may(viewer, Resource.CHANNELS, Action.READ):
        return {}
    notifications = request.app.state.notifications
    return {
        m["name"]: notifications.deliveries(
            channel=f"@{person['name']}/{m['name']}", limit=DELIVERIES_SHOWN
        )
        for m in person["contact_methods"]
    }


def _person_page(
    request: Request, viewer: Viewer, name: str, exc: ServiceError | None = None
) -> HTMLResponse:
    person = _oncall(request).person(name)
    delays = {r["method"]: r["after_minutes"] for r in person["rules"]}
    return form_page(
        request,
        "oncall_person.html",
        viewer,
        exc,
        person=person,
        delays=delays,
        deliveries=_deliveries(request, viewer, person),
        shifts=_shifts_of(request, name),
        weekdays=WEEKDAYS,
        managed=managed_by(request, "people", name),
        may_manage=may(viewer, Resource.ONCALL, Action.MANAGE),
        tested=request.query_params.get("tested", ""),
    )


@router.get("/people/{name}", response_class=HTMLResponse)
@uses(Resource.ONCALL, Action.READ)
def person_page(request: Request, name: str, viewer: SignedIn) -> HTMLResponse:
    return _person_page(request, viewer, name)


def _again(request: Request, viewer: Viewer, name: str) -> Any:
    return lambda exc: _person_page(request, viewer, name, exc)


@router.post("/people/{name}/hours")
@uses(Resource.ONCALL, Action.MANAGE)
async def set_hours(request: Request, name: str, viewer: SignedIn) -> Response:
    return await answer(
        lambda: _set_hours(request, viewer, name), f"/people/{name}", _again(request, viewer, name)
    )


async def _add_method(request: Request, viewer: Viewer, name: str) -> None:
    form = await read_form(request, viewer)
    await refuse_if_managed(request, "people", name)
    await _contacts(request).add(
        name,
        form.text("method", limit=64),
        form.text("url", limit=4000),
        form.number("after_minutes", 0, 1440, default=0),
    )


@router.post("/people/{name}/methods")
@uses(Resource.ONCALL, Action.MANAGE)
async def add_method(request: Request, name: str, viewer: SignedIn) -> Response:
    return await answer(
        lambda: _add_method(request, viewer, name),
        f"/people/{name}#methods",
        _again(request, viewer, name),
    )


async def _remove_method(request: Request, viewer: Viewer, name: str, method: str) -> None:
    await read_form(request, viewer)
    await refuse_if_managed(request, "people", name)
    await _contacts(request).remove(name, method)


@router.post("/people/{name}/methods/{method}/delete")
@uses(Resource.ONCALL, Action.MANAGE)
async def remove_method(request: Request, name: str, method: str, viewer: SignedIn) -> Response:
    return await answer(
        lambda: _remove_method(request, viewer, name, method),
        f"/people/{name}#methods",
        _again(request, viewer, name),
    )


async def _send_test(request: Request, viewer: Viewer, name: str, method: str) -> None:
    await read_form(request, viewer)
    await _contacts(request).send_test(name, method, viewer.username or "an admin")


@router.post("/people/{name}/methods/{method}/test")
@uses(Resource.ONCALL, Action.MANAGE)
async def send_test(request: Request, name: str, method: str, viewer: SignedIn) -> Response:
    """Send a test through the real path: an outbox row the dispatcher delivers."""
    return await answer(
        lambda: _send_test(request, viewer, name, method),
        f"/people/{name}?tested={method}#method-{method}",
        _again(request, viewer, name),
    )
