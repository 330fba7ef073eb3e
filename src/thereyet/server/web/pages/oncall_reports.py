"""The monthly on-call report as a page: out-of-hours pages per person, with the CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from ...domain.policy import Action, Resource
from ...services.errors import Invalid
from ...services.reports import DEFAULT_TARGET, month_range
from ..declare import uses
from .access import Viewer, signed_in
from .render import page
from .times import now_of

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]


def _neighbours(month: str) -> tuple[str, str]:
    first = date.fromisoformat(f"{month}-01")
    before = (first - timedelta(days=1)).strftime("%Y-%m")
    after = (first + timedelta(days=32)).strftime("%Y-%m")
    return before, after


@router.get("/reports", response_class=HTMLResponse)
@uses(Resource.ONCALL_REPORTS, Action.READ)
def reports_page(
    request: Request,
    viewer: SignedIn,
    month: Annotated[str, Query(max_length=7)] = "",
    target: Annotated[int, Query(ge=0, le=1000)] = DEFAULT_TARGET,
) -> HTMLResponse:
    month = month or now_of(request).strftime("%Y-%m")
    try:
        month_range(month)
    except Invalid as exc:
        raise Invalid(f"{exc.message}, like 2026-03", field="month") from None
    report = request.app.state.reports.view(month, target)
    zones = {p["name"]: p["timezone"] for p in request.app.state.oncall.people()}
    before, after = _neighbours(month)
    return page(
        request,
        "oncall_reports.html",
        viewer=viewer,
        report=report,
        zones=zones,
        before=before,
        after=after,
    )
