"""Who is calling, and does the access policy let them use this route?

Every route declares the policy entry it uses with `@uses(resource, action)`.
The credential dependencies below (bearer token, or for reads a session or a
share link) find the caller and ask the policy whether that kind of
credential reaches the route's entry at all; services then ask the same
policy about the one run, room or incident at hand. A route that declares
nothing is refused (and a test fails: tests/api/test_policy_routes.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ..domain.access import Principal
from .declare import check_route, uses
from .pages.access import SESSION_COOKIE

__all__ = ["Admin", "Reader", "Writer", "uses"]

SAFE_METHODS = ("GET", "HEAD")


def _page_visitor(request: Request) -> Principal | None:
    """For reads only: the person signed in to the pages, or a share link's visitor.

    This is how a page shows an attachment (an <img> sends no bearer token).
    Never for writes: those would need the page's CSRF token.
    """
    if request.method not in SAFE_METHODS:
        return None
    share = request.query_params.get("share")
    if share:
        found = request.app.state.shares.verify(share)
        return found.principal if found else None
    cookie = request.cookies.get(SESSION_COOKIE)
    session = request.app.state.people.session(cookie) if cookie else None
    return session.user.principal if session else None


async def _principal(request: Request) -> Principal:
    """The caller, checked against the route's policy entry. Async, so that the common
    case (a token checked a moment ago) costs no trip to a thread; a token not checked
    lately is read from the database in one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        visitor = await run_in_threadpool(_page_visitor, request)
        if visitor is not None:
            return check_route(request, visitor)
        raise HTTPException(401, "a bearer token is needed", {"WWW-Authenticate": "Bearer"})
    principal = await request.app.state.tokens.check(token)
    if principal is None:
        raise HTTPException(401, "unknown or revoked token", {"WWW-Authenticate": "Bearer"})
    assert isinstance(principal, Principal)
    return check_route(request, principal)


# One dependency: what a route may be used for is its declared entry, not which alias
# it names; the aliases say what the reader of a signature should expect.
Reader = Annotated[Principal, Depends(_principal)]
Writer = Annotated[Principal, Depends(_principal)]
Admin = Annotated[Principal, Depends(_principal)]
