"""Write the hub's configuration as TOML files, always the same way.

Each object goes to the file that owns it (or `<kind>.toml` for objects made
through the API), kinds in apply's order, names sorted, defaults left out, so
export -> apply -> export gives byte-identical files. Secret fields are written
as references: the one the files used, or `env:THEREYET_<KIND>_<NAME>_<FIELD>`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from pydantic import BaseModel

from ..domain.names import title_from_name
from .model import KINDS
from .secrets import get_path, is_ref, secret_paths, set_path

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
HEADER = (
    "# thereyet configuration (written by `thereyet export`; schema: `thereyet config schema`)\n"
)


def _key(name: str) -> str:
    return name if _BARE.match(name) else json.dumps(name, ensure_ascii=False)


def _value(value: Any, top: bool = False) -> str:
    """A TOML value; only a top-level list of tables spans lines (inline tables cannot)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        kept = {k: v for k, v in value.items() if v is not None and v != {}}
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in kept.items())
        return "{ " + inner + " }" if inner else "{}"
    items = [_value(v) for v in value]
    if top and any(isinstance(v, dict) for v in value):
        return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
    return "[" + ", ".join(items) + "]"


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    return {
        name: f.get_default(call_default_factory=True)
        for name, f in model.model_fields.items()
        if not f.is_required()
    }


def _shown(kind: str, name: str, obj: dict[str, Any]) -> dict[str, Any]:
    defaults = _defaults(KINDS[kind])
    shown = {}
    for key, value in obj.items():
        if value is None or (key in defaults and _same(defaults[key], value)):
            continue
        if key == "title" and value == title_from_name(name):
            continue
        shown[key] = value
    return shown


def _same(default: Any, value: Any) -> bool:
    if isinstance(default, BaseModel):
        default = default.model_dump(mode="json")
    return bool(default == value)


def env_name(kind: str, name: str, path: tuple[str, ...]) -> str:
    words = [kind.rstrip("s"), name, *path]
    return "THEREYET_" + re.sub(r"[^A-Z0-9]+", "_", "_".join(words).upper()).strip("_")


def with_refs(
    kind: str, name: str, obj: dict[str, Any], refs: dict[str, str], secrets: dict[str, str]
) -> dict[str, Any]:
    """`obj` with each secret swapped for its reference; values go to `secrets`."""
    obj = json.loads(json.dumps(obj))
    for path in list(secret_paths(kind, obj)):
        value = get_path(obj, path)
        if kind == "integrations" and str(value).startswith("sha256:"):
            set_path(obj, path, None)  # a GitLab token is kept only hashed: it cannot leave
            continue
        ref = refs.get(".".join(path))
        if ref is not None and not is_ref(ref):
            if ref != value:  # written in the files as it is, and not changed since
                ref = None
            else:
                continue
        ref = ref or f"env:{env_name(kind, name, path)}"
        if ref.startswith("env:"):
            secrets[ref[4:]] = value
        set_path(obj, path, ref)
    return obj


def render(
    objects: dict[str, dict[str, dict[str, Any]]],
    hub: dict[str, Any],
    owners: dict[tuple[str, str], str],
    refs: dict[tuple[str, str], dict[str, str]],
) -> tuple[dict[str, str], dict[str, str]]:
    """The files ({path: text}) and the secrets their env references stand for."""
    parts: dict[str, list[str]] = defaultdict(list)
    secrets: dict[str, str] = {}
    shown_hub = {k: v for k, v in hub.items() if v is not None and v != "refuse"}
    if shown_hub:
        body = "".join(f"{_key(k)} = {_value(v)}\n" for k, v in shown_hub.items())
        parts[owners.get(("hub", "settings"), "hub.toml")].append(f"[hub]\n{body}")
    for kind in KINDS:
        for name in sorted(objects[kind]):
            obj = with_refs(kind, name, objects[kind][name], refs.get((kind, name), {}), secrets)
            if kind == "commands":
                shown = {k: v for k, v in obj.items() if v not in (None, "", [], {}, False)}
            else:
                shown = _shown(kind, name, obj)
            body = "".join(f"{_key(k)} = {_value(v, top=True)}\n" for k, v in shown.items())
            file = owners.get((kind, name), f"{kind}.toml")
            parts[file].append(f"[{kind}.{_key(name)}]\n{body}")
    files = {file: HEADER + "\n" + "\n".join(blocks) for file, blocks in sorted(parts.items())}
    return files, dict(sorted(secrets.items()))
