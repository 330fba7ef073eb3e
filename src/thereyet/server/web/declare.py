"""Routes declare the access-policy entry they use; requests are checked against it.

`uses` marks an endpoint; `check_route` is what every credential dependency
(bearer token, session, share link) calls once it knows the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from starlette.exceptions import HTTPException

from ..domain.access import Principal
from ..domain.policy import Action, Entry, Resource

F = TypeVar("F", bound=Callable[..., Any])

# Routes the framework adds (the OpenAPI schema and its viewer): public reads.
FRAMEWORK_ROUTES: dict[str, Entry] = {
    "/api/openapi.json": Entry(Resource.HUB, Action.READ),
    "/api/docs": Entry(Resource.HUB, Action.READ),
    "/api/docs/assets": Entry(Resource.HUB, Action.READ),  # Swagger UI's own files
    "/docs/oauth2-redirect": Entry(Resource.HUB, Action.READ),
    "/static": Entry(Resource.HUB, Action.READ),
}


def uses(resource: Resource, action: Action) -> Callable[[F], F]:
    """Declare the policy entry a route's endpoint uses."""
    entry = Entry(resource, action)

    def declare(endpoint: F) -> F:
        endpoint.policy_entry = entry  # type: ignore[attr-defined]
        return endpoint

    return declare


def declared_entry(endpoint: Any) -> Entry | None:
    found = getattr(endpoint, "policy_entry", None)
    return found if isinstance(found, Entry) else None


def check_route(request: Request, who: Principal) -> Principal:
    """`who`, if the policy lets its kind of credential use this request's route; else 403."""
    route = request.scope.get("route")
    entry = declared_entry(getattr(route, "endpoint", None))
    if entry is None:
        raise HTTPException(403, "this route declares no access policy")
    if not who.reaches(entry):
        action, resource = entry.action.value, entry.resource.value
        kind = who.kind.value
        article = "an" if kind[0] in "aeiou" else "a"
        raise HTTPException(403, f"{article} {kind} may not {action} {resource}")
    return who
