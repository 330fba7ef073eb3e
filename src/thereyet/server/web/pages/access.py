"""Who is looking at a page: a signed-in person, or a visitor with a share link."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from starlette.exceptions import HTTPException

from ...domain.access import Principal
from ..declare import check_route

SESSION_COOKIE = "thereyet_session"


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    username: str | None = None
    role: str | None = None
    csrf: str = ""
    share: Any = None  # the Share behind a share link, read-only
    ends_with: frozenset[str] = frozenset()  # revocation keys that end its live streams

    @property
    def read_only(self) -> bool:
        return self.share is not None or self.role == "viewer"

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin


class NeedLogin(Exception):
    """Raised by page dependencies; answered with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def signed_in(request: Request) -> Viewer:
    """The signed-in viewer, or a redirect to the login page."""
    cookie = request.cookies.get(SESSION_COOKIE)
    session = request.app.state.people.session(cookie) if cookie else None
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise NeedLogin(quote(target, safe="/?=&"))
    user = session.user
    check_route(request, user.principal)
    return Viewer(
        user.principal, user.username, user.role.value, session.csrf, ends_with=session.ends_with
    )


def viewer_if_signed_in(request: Request) -> Viewer | None:
    """The person whose session this request carries, or None: for error pages, which
    keep the navigation for a signed-in person whatever route (or none) was asked."""
    cookie = request.cookies.get(SESSION_COOKIE)
    session = request.app.state.people.session(cookie) if cookie else None
    if session is None:
        return None
    user = session.user
    return Viewer(user.principal, user.username, user.role.value, session.csrf)


def shared(request: Request, token: str) -> Viewer:
    share = request.app.state.shares.verify(token)
    if share is None:
        raise HTTPException(404, "this share link is unknown or was revoked")
    check_route(request, share.principal)
    return Viewer(share.principal, share=share, ends_with=frozenset({share.principal.id}))


def still_allowed(request: Request) -> Callable[[], bool]:
    """Whether the share link or session a stream was opened with still lets it in."""
    token = request.query_params.get("share")
    cookie = request.cookies.get(SESSION_COOKIE, "")
    state = request.app.state
    if token:
        return lambda: state.shares.verify(token) is not None
    return lambda: state.people.session(cookie) is not None


def viewer_for_stream(request: Request) -> Viewer:
    """SSE streams accept a session cookie or ?share=<token>."""
    token = request.query_params.get("share")
    if token:
        return shared(request, token)
    return signed_in(request)


def check_csrf(request: Request, viewer: Viewer, submitted: str | None) -> None:
    if viewer.share is not None or not viewer.csrf:
        raise HTTPException(403, "this page is read-only")
    given = submitted or request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(given.encode(), viewer.csrf.encode()):
        raise HTTPException(403, "the form has expired: reload the page and try again")
