"""Bearer-token authentication for the API: who is calling, and may they?"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ..domain.access import Principal, Scope
from .pages.access import SESSION_COOKIE

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
    """The caller. Async, so that the common case (a token checked a moment ago) costs
    no trip to a thread; a token not checked lately is read from the database in one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        visitor = await run_in_threadpool(_page_visitor, request)
        if visitor is not None:
            return visitor
        raise HTTPException(401, "a bearer token is needed", {"WWW-Authenticate": "Bearer"})
    principal = await request.app.state.tokens.check(token)
    if principal is None:
        raise HTTPException(401, "unknown or revoked token", {"WWW-Authenticate": "Bearer"})
    assert isinstance(principal, Principal)
    return principal


async def reader(who: Annotated[Principal, Depends(_principal)]) -> Principal:
    """Any valid token may read (limited ingest tokens see only what they may report)."""
    return who


async def writer(who: Annotated[Principal, Depends(_principal)]) -> Principal:
    if who.scope is Scope.READ:
        raise HTTPException(403, "this token is read-only")
    return who


async def admin(who: Annotated[Principal, Depends(_principal)]) -> Principal:
    if not who.is_admin:
        raise HTTPException(403, "this needs an admin token")
    return who


Reader = Annotated[Principal, Depends(reader)]
Writer = Annotated[Principal, Depends(writer)]
Admin = Annotated[Principal, Depends(admin)]
