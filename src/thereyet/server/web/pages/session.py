"""Signing in and out of the web pages."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...domain.policy import Action, Resource
from ...services.errors import ServiceError
from ..declare import uses
from .access import SESSION_COOKIE, signed_in
from .render import page

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "thereyet_login"
SESSION_DAYS = 14


def _safe_next(target: str) -> str:
    # Only paths on this hub: never an open redirect to another site.
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _login_page(request: Request, status: int = 200, **context: object) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", status=status, viewer=None, csrf=token, **context)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("/login", response_class=HTMLResponse)
@uses(Resource.SESSION, Action.WRITE)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return _login_page(request, next=_safe_next(next), error=None)


@router.post("/login")
@uses(Resource.SESSION, Action.WRITE)
async def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf.encode()):
        return _login_page(
            request,
            403,
            next=_safe_next(next),
            username=username,
            error="The form expired; please try again.",
        )
    client = request.client.host if request.client else "unknown"
    try:
        cookie, _session = await request.app.state.people.login(username, password, client=client)
    except ServiceError as exc:
        refused = _login_page(
            request, exc.status, next=_safe_next(next), username=username, error=exc.message
        )
        if (retry_after := getattr(exc, "retry_after", None)) is not None:
            refused.headers["Retry-After"] = str(retry_after)
        return refused
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
@uses(Resource.SESSION, Action.WRITE)
async def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
    viewer = signed_in(request)
    if hmac.compare_digest(viewer.csrf.encode(), csrf.encode()):
        await request.app.state.people.logout(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _secure(request: Request) -> bool:
    """Cookies are Secure on https, and always with THEREYET_COOKIE_SECURE (TLS at a proxy)."""
    return bool(request.app.state.hub.settings.cookie_secure) or request.url.scheme == "https"
