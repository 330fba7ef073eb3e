"""/api/v1/shares: read-only links to one room or one job (admin only)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response

from ...domain.policy import Action, Resource
from ...services.shares import ShareService
from ..answers import answer
from ..auth import Admin, uses
from .answers import NewShareOut, ShareListOut
from .schemas import Body, Name

router = APIRouter(prefix="/shares", tags=["shares"])


class ShareIn(Body):
    kind: Literal["room", "job"]
    target: Name


def _shares(request: Request) -> ShareService:
    service: ShareService = request.app.state.shares
    return service


@router.post(
    "",
    response_model=answer(NewShareOut),
    status_code=201,
    summary="Make a share link (its token is shown once)",
)
@uses(Resource.SHARES, Action.MANAGE)
async def create_share(body: ShareIn, who: Admin, request: Request) -> dict[str, Any]:
    token, view = await _shares(request).create(who, body.kind, body.target)
    return {**view, "token": token}


@router.get(
    "", response_model=answer(ShareListOut), summary="List share links (never their tokens)"
)
@uses(Resource.SHARES, Action.MANAGE)
def list_shares(who: Admin, request: Request) -> dict[str, Any]:
    return {"shares": _shares(request).all(who)}


@router.delete("/{share_id}", status_code=204, summary="Revoke a share link")
@uses(Resource.SHARES, Action.MANAGE)
async def revoke_share(share_id: str, who: Admin, request: Request) -> Response:
    await _shares(request).revoke(who, share_id)
    return Response(status_code=204)
