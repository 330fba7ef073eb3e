"""/api/v1/users: web accounts (admin only; passwords are never shown back)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import Field

from ...domain.policy import Action, Resource
from ...services.people import PeopleService
from ..answers import answer
from ..auth import Admin, uses
from .answers import NewUserOut, UserListOut
from .schemas import Body

router = APIRouter(prefix="/users", tags=["people"])


class UserIn(Body):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]
    role: Literal["viewer", "operator", "admin"] = "viewer"


def _people(request: Request) -> PeopleService:
    service: PeopleService = request.app.state.people
    return service


@router.post(
    "",
    response_model=answer(NewUserOut),
    status_code=201,
    summary="Create a web user (argon2-hashed password)",
)
@uses(Resource.USERS, Action.MANAGE)
async def create_user(body: UserIn, who: Admin, request: Request) -> dict[str, Any]:
    user = await _people(request).create_user(body.username, body.password, body.role)
    return {"id": user.id, "username": user.username, "role": user.role.value}


@router.get("", response_model=answer(UserListOut), summary="List web users")
@uses(Resource.USERS, Action.MANAGE)
def list_users(who: Admin, request: Request) -> dict[str, Any]:
    return {"users": _people(request).users()}


class PasswordIn(Body):
    password: Annotated[str, Field(min_length=1, max_length=1024)]


@router.post(
    "/{username}/disable", status_code=204, summary="Refuse a user's logins, end their sessions"
)
@uses(Resource.USERS, Action.MANAGE)
async def disable_user(username: str, who: Admin, request: Request) -> Response:
    """Their open live streams end too, on every node the bus reaches."""
    await _people(request).disable(username)
    return Response(status_code=204)


class RoleIn(Body):
    role: Literal["viewer", "operator", "admin"]


@router.put("/{username}/role", status_code=204, summary="Change what a user may do")
@uses(Resource.USERS, Action.MANAGE)
async def set_role(username: str, body: RoleIn, who: Admin, request: Request) -> Response:
    """Their sessions stay signed in with the new role; their live streams reopen."""
    await _people(request).set_role(username, body.role)
    return Response(status_code=204)


@router.put("/{username}/password", status_code=204, summary="Set a user's password (signs out)")
@uses(Resource.USERS, Action.MANAGE)
async def set_password(username: str, body: PasswordIn, who: Admin, request: Request) -> Response:
    await _people(request).set_password(username, body.password)
    return Response(status_code=204)
