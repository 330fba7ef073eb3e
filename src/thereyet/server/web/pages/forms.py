"""What the admin pages' forms share: managed objects, and answering a refused form.

A refused form is answered with its page again, its status (422, 409...) and the
service's reason naming the field; objects the configuration files manage carry
their file, and forms that would change them are refused as the API refuses them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException

from ...domain.policy import Action, Resource
from ...services.errors import ServiceError
from .access import Viewer
from .render import page


def refuse_if_managed(request: Request, kind: str, key: str) -> None:
    """409 naming the file, when the files manage this object (unless the hub only warns)."""
    owner = request.app.state.config.owner(kind, key)
    if owner is not None and owner[1] != "warn":
        file, _mode, what = owner
        raise HTTPException(409, f"{what} is managed by the configuration file {file}")


def with_owners(
    request: Request, kind: str, rows: Iterable[dict[str, Any]], key: str = "name"
) -> list[dict[str, Any]]:
    """`rows` each with `file`: the configuration file that manages it, or None."""
    managed = request.app.state.config.owners(kind)
    return [{**row, "file": managed.get(row[key])} for row in rows]


def problem_of(exc: ServiceError) -> dict[str, Any]:
    return {"error": exc.message, "field": exc.field, "status": exc.status}


def form_page(
    request: Request,
    template: str,
    viewer: Viewer,
    problem: dict[str, Any] | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page, with the refused form's problem (and its status) when there is one."""
    answered = problem["status"] if problem else status
    return page(request, template, status=answered, viewer=viewer, problem=problem, **context)


def job_settings_context(request: Request, viewer: Viewer, name: str) -> dict[str, Any]:
    """What the job page needs for its settings forms: whether the viewer may change
    the job's settings, and the configuration file that manages the job, if one does."""
    if viewer.share is not None or not viewer.principal.may(
        Resource.JOB_SETTINGS, Action.MANAGE, job=name
    ):
        return {"may_manage": False, "managed_by": None}
    owner = request.app.state.config.owner("jobs", name)
    return {"may_manage": True, "managed_by": owner[0] if owner else None}
