"""What the pages' forms share: reading a form, objects the files manage, answering.

A form is read as text and checked field by field, so that bad input is answered
with its page again: the status (422, 409...), and the reason naming the field,
shown where every page shows a problem (never a 500, never JSON in a browser).
Objects the configuration files manage carry their file, and a form that would
change one is refused there too, with the API's reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from ...domain.policy import Action, Entry, Resource
from ...services.errors import Conflict, Invalid, ServiceError
from .access import Viewer, check_csrf
from .render import page
from .times import zone_or_utc

TYPED_SHOWN = 4000  # what a refused form shows again of a value, at most


class Form:
    """A submitted form whose values are read one checked field at a time."""

    def __init__(self, data: FormData) -> None:
        self.data = data

    def text(
        self, name: str, *, required: bool = True, limit: int = 200, strip: bool = True
    ) -> str:
        """The field's text (trimmed unless `strip` is off, as for a password)."""
        value = str(self.data.get(name) or "")
        value = value.strip() if strip else value
        if required and not value.strip():
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

    def choices(self, name: str, most: int = 100) -> list[str]:
        """The checked boxes (or chosen options) of a field that takes several."""
        chosen = [str(v) for v in self.data.getlist(name)]
        if len(chosen) > most:
            raise Invalid(f"{name} takes at most {most} choices", field=name)
        return chosen

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

    def typed(self, *names: str) -> dict[str, str]:
        """What was typed into these fields, unchecked: to fill a refused form again."""
        return {name: str(self.data.get(name) or "")[:TYPED_SHOWN] for name in names}


async def read_form(request: Request, viewer: Viewer) -> Form:
    """The posted form, once its CSRF token is checked."""
    data = await request.form()
    check_csrf(request, viewer, str(data.get("csrf", "")))
    return Form(data)


def may(viewer: Viewer, resource: Resource, action: Action) -> bool:
    """Whether the policy lets this viewer's kind of credential do it (to show a form)."""
    return viewer.principal.reaches(Entry(resource, action))


# -- objects managed by configuration files ---------------------------------------------


def managed_by(request: Request, kind: str, key: str) -> dict[str, str] | None:
    """{"file", "mode"} when a configuration file owns this object, else None.
    `kind` is the files' kind ("users", "rotations"...), or token-id or route-id."""
    found = request.app.state.config.owner(kind, key)
    if found is None:
        return None
    file, mode, _what = found
    return {"file": file, "mode": mode}


def with_owners(
    request: Request, kind: str, rows: Iterable[dict[str, Any]], key: str = "name"
) -> list[dict[str, Any]]:
    """`rows` each with `file`: the configuration file that manages it, or None."""
    managed = request.app.state.config.owners(kind)
    return [{**row, "file": managed.get(row[key])} for row in rows]


async def refuse_if_managed(request: Request, kind: str, key: str) -> None:
    """A form may not change what a file owns (unless the hub only warns): 409, with
    the reason the API gives."""
    owner = await run_in_threadpool(request.app.state.config.owner, kind, key)
    if owner is not None and owner[1] != "warn":
        file, _mode, what = owner
        raise Conflict(
            f"{what} is managed by the configuration file {file}: change it there and apply",
            field="name",
        )


# -- answering a form ------------------------------------------------------------------------


def problem(exc: ServiceError | None) -> dict[str, Any] | None:
    """What a page says about a refused form: the reason, and the field to point at."""
    if exc is None:
        return None
    return {"message": exc.message, "field": exc.field or "", "status": exc.status}


def form_page(
    request: Request,
    template: str,
    viewer: Viewer,
    exc: ServiceError | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page with forms; when `exc` refused one, with its problem and its status."""
    answered = exc.status if exc else status
    return page(request, template, status=answered, viewer=viewer, problem=problem(exc), **context)


async def answer(
    action: Callable[[], Awaitable[Any]],
    done: str,
    again: Callable[[ServiceError], HTMLResponse],
) -> Response:
    """Run the form's `action`; on success go to `done` (303), else show the page
    `again` with the reason (and the status) the service gave."""
    try:
        await action()
    except ServiceError as exc:
        refused: HTMLResponse = await run_in_threadpool(again, exc)
        return refused
    return RedirectResponse(done, status_code=303)
