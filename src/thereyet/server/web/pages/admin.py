"""Admin pages: web users (create, change role, disable) and API tokens (create, revoke).

Only admins reach them (the routes declare users: manage and tokens: manage).
Objects the configuration files manage are shown read-only with their file, and
a form that would change one is refused as the API refuses it (409).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ...domain.policy import Action, Resource
from ...services.errors import ServiceError
from ...services.tokens import scope_named
from ..declare import uses
from .access import Viewer, signed_in
from .forms import answer, form_page, read_form, refuse_if_managed, with_owners

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Viewer, Depends(signed_in)]
LIMIT = 1024  # characters in any field of these forms
ROLES = ("viewer", "operator", "admin")
SCOPES = ("read", "ingest", "agent", "admin")


# -- users ---------------------------------------------------------------------------


def _users_page(
    request: Request, viewer: Viewer, exc: ServiceError | None = None, **form: str
) -> HTMLResponse:
    users = with_owners(request, "users", request.app.state.people.users(), key="username")
    return form_page(request, "admin_users.html", viewer, exc, users=users, roles=ROLES, form=form)


@router.get("/admin/users", response_class=HTMLResponse)
@uses(Resource.USERS, Action.MANAGE)
def users_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _users_page(request, viewer)


@router.post("/admin/users", response_class=HTMLResponse)
@uses(Resource.USERS, Action.MANAGE)
async def create_user(request: Request, viewer: SignedIn) -> Response:
    form = await read_form(request, viewer)

    async def create() -> None:
        await request.app.state.people.create_user(
            form.text("username", required=False, limit=LIMIT),
            form.text("password", required=False, limit=LIMIT, strip=False),
            form.text("role", required=False, limit=LIMIT) or "viewer",
        )

    return await answer(
        create,
        "/admin/users",
        lambda exc: _users_page(request, viewer, exc, **form.typed("username", "role")),
    )


@router.post("/admin/users/{username}/role", response_class=HTMLResponse)
@uses(Resource.USERS, Action.MANAGE)
async def change_role(request: Request, username: str, viewer: SignedIn) -> Response:
    form = await read_form(request, viewer)

    async def change() -> None:
        await refuse_if_managed(request, "users", username)
        role = form.text("role", required=False, limit=LIMIT)
        await request.app.state.people.set_role(username, role)

    return await answer(change, "/admin/users", lambda exc: _users_page(request, viewer, exc))


@router.post("/admin/users/{username}/password", response_class=HTMLResponse)
@uses(Resource.USERS, Action.MANAGE)
async def set_password(request: Request, username: str, viewer: SignedIn) -> Response:
    """Set a user's password and sign them out everywhere (files never hold passwords,
    so this works for users the configuration files manage too)."""
    form = await read_form(request, viewer)

    async def change() -> None:
        password = form.text("password", required=False, limit=LIMIT, strip=False)
        await request.app.state.people.set_password(username, password)

    return await answer(change, "/admin/users", lambda exc: _users_page(request, viewer, exc))


@router.post("/admin/users/{username}/disable", response_class=HTMLResponse)
@uses(Resource.USERS, Action.MANAGE)
async def disable_user(request: Request, username: str, viewer: SignedIn) -> Response:
    """Refuse the user's logins and end their sessions and streams (as the API does)."""
    await read_form(request, viewer)

    async def disable() -> None:
        await refuse_if_managed(request, "users", username)
        await request.app.state.people.disable(username)

    return await answer(disable, "/admin/users", lambda exc: _users_page(request, viewer, exc))


# -- tokens --------------------------------------------------------------------------


def _names(text: str) -> list[str]:
    return [n for n in (part.strip() for part in text.replace(",", " ").split()) if n]


def _tokens_page(
    request: Request,
    viewer: Viewer,
    exc: ServiceError | None = None,
    *,
    created: dict[str, Any] | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    # A run's own token lives and dies with its run: not listed.
    issued = [t for t in request.app.state.tokens.all() if t["scope"] != "run"]
    return form_page(
        request,
        "admin_tokens.html",
        viewer,
        exc,
        status=201 if created else 200,
        tokens=with_owners(request, "tokens", issued),
        scopes=SCOPES,
        created=created,
        form=typed or {},
    )


@router.get("/admin/tokens", response_class=HTMLResponse)
@uses(Resource.TOKENS, Action.MANAGE)
def tokens_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    return _tokens_page(request, viewer)


@router.post("/admin/tokens", response_class=HTMLResponse)
@uses(Resource.TOKENS, Action.MANAGE)
async def create_token(request: Request, viewer: SignedIn) -> HTMLResponse:
    """Create a token and show its secret once, in this answer (never in a logged URL).

    Not `answer`: success shows the page (201, with the secret), not a redirect."""
    form = await read_form(request, viewer)
    try:
        secret, view = await request.app.state.tokens.create(
            name=form.text("name", required=False, limit=LIMIT),
            scope=scope_named(form.text("scope", required=False, limit=LIMIT)),
            jobs=_names(form.text("jobs", required=False, limit=LIMIT)),
            rooms=_names(form.text("rooms", required=False, limit=LIMIT)),
            agent=form.text("agent", required=False, limit=LIMIT) or None,
        )
    except ServiceError as exc:
        typed = form.typed("name", "scope", "jobs", "rooms", "agent")
        return _tokens_page(request, viewer, exc, typed=typed)
    response = _tokens_page(request, viewer, created={**view, "token": secret})
    response.headers["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@router.post("/admin/tokens/{token_id}/revoke", response_class=HTMLResponse)
@uses(Resource.TOKENS, Action.MANAGE)
async def revoke_token(request: Request, token_id: str, viewer: SignedIn) -> Response:
    await read_form(request, viewer)

    async def revoke() -> None:
        await refuse_if_managed(request, "token-id", token_id)
        await request.app.state.tokens.revoke(token_id)

    return await answer(revoke, "/admin/tokens", lambda exc: _tokens_page(request, viewer, exc))
