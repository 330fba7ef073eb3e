"""Declaring what a JSON route answers, for the OpenAPI document only.

`answer(Model)` goes in a route's decorator (`response_model=answer(RunOut)`): the
OpenAPI document shows Model's schema for the route's success, so clients and the
fuzz stage (tests/trust/test_fuzz_openapi.py) can check every answer against it.
What the route sends does not change: it is still serialized as the plain
`dict[str, Any]` it returns (same bytes, same speed: no validation into Model, no
dropping or reordering of keys). Models list the fields every answer has; an
answer may carry more (JSON Schema's default), so adding a field breaks no client.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema
from pydantic_core.core_schema import union_schema


class Documented:
    """Annotation metadata: show the JSON schema of `models` (any one of them)."""

    def __init__(self, *models: type[BaseModel]) -> None:
        self.models = models

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schemas: list[CoreSchema | tuple[CoreSchema, str]]
        schemas = [model.__pydantic_core_schema__ for model in self.models]
        shown = self.models[0].__pydantic_core_schema__
        if len(schemas) > 1:
            shown = union_schema(schemas)
        return handler(shown)

    def __repr__(self) -> str:
        return f"Documented({', '.join(model.__name__ for model in self.models)})"


def answer(*models: type[BaseModel]) -> Any:
    """A route's `response_model`: serialized as a plain dict, documented as one of `models`."""
    return Annotated[dict[str, Any], Documented(*models)]


def documented_models(response_model: Any) -> tuple[type[BaseModel], ...]:
    """The models `answer()` documents a response model as (none if it is not an answer)."""
    for meta in getattr(response_model, "__metadata__", ()):
        if isinstance(meta, Documented):
            return meta.models
    return ()


def also(status: int, model: type[BaseModel], description: str) -> dict[int | str, Any]:
    """An extra success answer (e.g. 200 for a repeated create that answers 201 first)."""
    return {status: {"model": answer(model), "description": description}}
