"""Admin pages: web users (create, change role, disable) and API tokens (create, revoke).

Only admins reach them (the routes declare users: manage and tokens: manage).
Objects the configuration files manage are shown read-only with their file, and
a form that would change one is refused as the API refuses it (409).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...domain.policy import Action, Resource
from ...services.errors import ServiceError
from ...services.tokens import scope_named
from ..declare import uses
from .access import Viewer, check_csrf, signed_in
from .forms import form_page, problem_of, refuse_if_managed, with_owners

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
Field = Annotated[str, Form(max_length=1024)]
ROLES = ("viewer", "operator", "admin")
SCOPES = ("read", "ingest", "agent", "admin")


# -- users ---------------------------------------------------------------------------


def _users_page(
    request: Request, viewer: Viewer, problem: dict[str, Any] | None = None, **form: str
) -> HTMLResponse:
    users = with_owners(request, "users", request.app.state.people.users(), key="username")
    return form_page(
        request, "admin_users.html", viewer, problem, users=users, roles=ROLES, form=form
    )


@router.get("/admin/users", response_class=HTMLResponse)
@uses(Resource.USERS, Action.MANAGE)
def users_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _users_page(request, viewer)


@router.post("/admin/users", response_class=HTMLResponse)
@uses(Resource.USERS, Action.MANAGE)
async def create_user(
    request: Request,
    viewer: SignedIn,
    csrf: Field = "",
    username: Field = "",
    password: Field = "",
    role: Field = "viewer",
) -> Response:
    check_csrf(request, viewer, csrf)
    try:
        await request.app.state.people.create_user(username, password, role)
    except ServiceError as exc:
        return _users_page(request, viewer, problem_of(exc), username=username, role=role)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/role", response_class=HTMLResponse)
@uses(Resource.USERS, Action.MANAGE)
async def change_role(
    request: Request, username: str, viewer: SignedIn, csrf: Field = "", role: Field = ""
) -> Response:
    check_csrf(request, viewer, csrf)
    refuse_if_managed(request, "users", username)
    try:
        await request.app.state.people.set_role(username, role)
    except ServiceError as exc:
        return _users_page(request, viewer, problem_of(exc))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/password", response_class=HTMLResponse)
@uses(Resource.USERS, Action.MANAGE)
async def set_password(
    request: Request, username: str, viewer: SignedIn, csrf: Field = "", password: Field = ""
) -> Response:
    """Set a user's password and sign them out everywhere (files never hold passwords,
    so this works for users the configuration files manage too)."""
    check_csrf(request, viewer, csrf)
    try:
        await request.app.state.people.set_password(username, password)
    except ServiceError as exc:
        return _users_page(request, viewer, problem_of(exc))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/disable", response_class=HTMLResponse)
@uses(Resource.USERS, Action.MANAGE)
async def disable_user(
    request: Request, username: str, viewer: SignedIn, csrf: Field = ""
) -> Response:
    """Refuse the user's logins and end their sessions and streams (as the API does)."""
    check_csrf(request, viewer, csrf)
    refuse_if_managed(request, "users", username)
    await request.app.state.people.disable(username)
    return RedirectResponse("/admin/users", status_code=303)


# -- tokens --------------------------------------------------------------------------


def _names(text: str) -> list[str]:
    return [n for n in (part.strip() for part in text.replace(",", " ").split()) if n]


def _tokens_page(
    request: Request,
    viewer: Viewer,
    problem: dict[str, Any] | None = None,
    created: dict[str, Any] | None = None,
    **form: str,
) -> HTMLResponse:
    # A run's own token lives and dies with its run: not listed.
    issued = [t for t in request.app.state.tokens.all() if t["scope"] != "run"]
    return form_page(
        request,
        "admin_tokens.html",
        viewer,
        problem,
        status=201 if created else 200,
        tokens=with_owners(request, "tokens", issued),
        scopes=SCOPES,
        created=created,
        form=form,
    )


@router.get("/admin/tokens", response_class=HTMLResponse)
@uses(Resource.TOKENS, Action.MANAGE)
def tokens_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _tokens_page(request, viewer)


@router.post("/admin/tokens", response_class=HTMLResponse)
@uses(Resource.TOKENS, Action.MANAGE)
async def create_token(
    request: Request,
    viewer: SignedIn,
    csrf: Field = "",
    name: Field = "",
    scope: Field = "",
    jobs: Field = "",
    rooms: Field = "",
    agent: Field = "",
) -> HTMLResponse:
    """Create a token and show its secret once, in this answer (never in a logged URL)."""
    check_csrf(request, viewer, csrf)
    try:
        secret, view = await request.app.state.tokens.create(
            name=name.strip(),
            scope=scope_named(scope),
            jobs=_names(jobs),
            rooms=_names(rooms),
            agent=agent.strip() or None,
        )
    except ServiceError as exc:
        problem = problem_of(exc)
        return _tokens_page(
            request, viewer, problem, name=name, scope=scope, jobs=jobs, rooms=rooms, agent=agent
        )
    response = _tokens_page(request, viewer, created={**view, "token": secret})
    response.headers["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@router.post("/admin/tokens/{token_id}/revoke", response_class=HTMLResponse)
@uses(Resource.TOKENS, Action.MANAGE)
async def revoke_token(
    request: Request, token_id: str, viewer: SignedIn, csrf: Field = ""
) -> Response:
    check_csrf(request, viewer, csrf)
    refuse_if_managed(request, "token-id", token_id)
    try:
        await request.app.state.tokens.revoke(token_id)
    except ServiceError as exc:
        return _tokens_page(request, viewer, problem_of(exc))
    return RedirectResponse("/admin/tokens", status_code=303)
