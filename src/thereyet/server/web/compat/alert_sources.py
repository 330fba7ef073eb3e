"""What the alert-source endpoints share: finding the integration of a token, and
reading a body so that a refused one is kept among the integration's deliveries."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from ...services.integrations import IntegrationService
from ..errors import field_of

Model = TypeVar("Model", bound=BaseModel)


def integrations_of(request: Request) -> IntegrationService:
    service: IntegrationService = request.app.state.integrations
    return service


async def read_body(request: Request, model: type[Model], integration: Any) -> Model:
    """The body as `model`; a 422 (recorded as the integration's delivery) if it is not."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        reason = (
            f"{field_of(tuple(first.get('loc', ())), dict(first))}: {first.get('msg', 'invalid')}"
        )
        await integrations_of(request).refused(integration, 422, reason)
        raise RequestValidationError(errors) from None


def documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` that documents `model` as the request body of a route that reads
    its body itself (its sub-models written out in place, as OpenAPI has no `$defs`)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    content = {"application/json": {"schema": inline(schema)}}
    return {"requestBody": {"required": True, "content": content}}
