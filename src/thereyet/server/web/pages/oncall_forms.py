"""What the on-call pages share: reading their forms, times in a zone, managed objects.

Forms are read as text and checked here, so that a bad value is answered with
the page again, saying which field is wrong and why (never a 500, never a JSON
error in a browser). Times a person types into a form are wall-clock times in
the rotation's (or the person's) own zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from ...domain.policy import Action, Entry, Resource
from ...services.errors import Conflict, Invalid, ServiceError
from .access import Viewer, check_csrf
from .render import TEMPLATES

MAX_TEXT = 4000
EN_DASH = "\u2013"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Form:
    """A submitted form whose values are read one checked field at a time."""

    def __init__(self, data: FormData) -> None:
        self.data = data

    def text(self, name: str, *, required: bool = True, limit: int = 200) -> str:
        value = str(self.data.get(name) or "").strip()
        if required and not value:
            raise Invalid(f"{name} is required", field=name)
        if len(value) > limit:
            raise Invalid(f"{name} must be at most {limit} characters", field=name)
        return value

    def number(self, name: str, low: int, high: int, default: int | None = None) -> int:
        raw = self.text(name, required=default is None, limit=12)
        if not raw and default is not None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise Invalid(f"{name} must be a whole number", field=name) from None
        if not low <= value <= high:
            raise Invalid(f"{name} must be between {low} and {high}", field=name)
        return value

    def choices(self, name: str) -> list[str]:
        return [str(v) for v in self.data.getlist(name)]

    def local_time(self, name: str, timezone: str) -> datetime:
        """A `datetime-local` field, read as wall-clock time in `timezone`."""
        raw = self.text(name)
        try:
            naive = datetime.fromisoformat(raw)
        except ValueError:
            raise Invalid(
                f"{name} must be a date and time (YYYY-MM-DDTHH:MM)", field=name
            ) from None
        if naive.tzinfo is not None:
            return naive
        return naive.replace(tzinfo=zone_or_utc(timezone))

    def checked(self, name: str) -> bool:
        return self.data.get(name) in ("on", "true", "1")


async def read_form(request: Request, viewer: Viewer) -> Form:
    """The posted form, once its CSRF token is checked."""
    data = await request.form()
    check_csrf(request, viewer, str(data.get("csrf", "")))
    return Form(data)


def zone_or_utc(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_zone(value: str | datetime | None, timezone: str, fmt: str = "%a %-d %b %H:%M") -> str:
    """A stored time as a wall clock in `timezone` ("Mon 2 Mar 09:00")."""
    if not value:
        return ""
    at = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return at.astimezone(zone_or_utc(timezone)).strftime(fmt)


def relative(value: str | None, now: datetime) -> str:
    """How far `value` is from `now`, in words a glance reads ("in 3 d 4 h", "5 min ago")."""
    if not value:
        return ""
    seconds = (datetime.fromisoformat(value.replace("Z", "+00:00")) - now).total_seconds()
    minutes = int(abs(seconds) // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        amount = f"{days} d {hours} h" if hours else f"{days} d"
    elif hours:
        amount = f"{hours} h {mins} min" if mins else f"{hours} h"
    else:
        amount = f"{mins} min"
    return f"in {amount}" if seconds >= 0 else f"{amount} ago"


def work_days_text(days: list[int]) -> str:
    """Working days as a person says them: "Mon-Fri" (an en dash), "Mon-Wed, Sat", "no days"."""
    runs: list[list[int]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        f"{WEEKDAYS[r[0]]}{EN_DASH}{WEEKDAYS[r[-1]]}"
        if len(r) > 2
        else ", ".join(WEEKDAYS[d] for d in r)
        for r in runs
    ]
    return ", ".join(parts) or "no days"


TEMPLATES.env.filters["in_zone"] = in_zone
TEMPLATES.env.filters["work_days"] = work_days_text


def may(viewer: Viewer, resource: Resource, action: Action) -> bool:
    """Whether the policy lets this viewer's kind of credential do it (to show a form)."""
    return viewer.principal.reaches(Entry(resource, action))


def now_of(request: Request) -> datetime:
    now: datetime = request.app.state.hub.clock.now()
    return now.astimezone(UTC)


# -- objects managed by configuration files ---------------------------------------------


def managed_by(request: Request, kind: str, name: str) -> dict[str, str] | None:
    """{"file", "mode"} when a configuration file owns this object, else None."""
    found = request.app.state.config.owner(kind, name)
    if found is None:
        return None
    file, mode, _what = found
    return {"file": file, "mode": mode}


async def refuse_if_managed(request: Request, kind: str, name: str) -> None:
    """A page's form may not change what a file owns (unless the hub only warns)."""
    owner = await run_in_threadpool(managed_by, request, kind, name)
    if owner is not None and owner["mode"] != "warn":
        raise Conflict(
            f"{kind[:-1].replace('_', ' ')} {name!r} is managed by the configuration file "
            f"{owner['file']}: change it there and apply",
            field="name",
        )


# -- answering a form ------------------------------------------------------------------------


async def answer(
    action: Callable[[], Any], done: str, again: Callable[[ServiceError], HTMLResponse]
) -> Response:
    """Run the form's `action`; on success go to `done`, else show the page `again` with
    the reason (and the status) the service gave."""
    try:
        await action()
    except ServiceError as exc:
        refused: HTMLResponse = await run_in_threadpool(again, exc)
        return refused
    return RedirectResponse(done, status_code=303)


def problem(exc: ServiceError | None) -> dict[str, Any] | None:
    """What a page says about a refused form: the reason, and the field to point at."""
    if exc is None:
        return None
    return {"message": exc.message, "field": exc.field or "", "status": exc.status}
