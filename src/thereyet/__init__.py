"""thereyet: report the progress of any job to a thereyet hub.

`import thereyet` is the client SDK: standard library only, safe to import in
any job. The hub lives in `thereyet.server` (install the `server` extra).

    for row in thereyet.track(rows, job="customer-export"):
        ...

Importing is cheap: the SDK's modules load on first use of one of its names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "RoomHandler",
    "Run",
    "__version__",
    "configure",
    "current_run",
    "flush",
    "job",
    "run",
    "say",
    "track",
]

_WHERE = {
    "Run": "runs",
    "current_run": "runs",
    "job": "runs",
    "run": "runs",
    "track": "runs",
    "configure": "state",
    "flush": "state",
    "say": "messages",
    "RoomHandler": "handler",
}

if TYPE_CHECKING:
    from .client.handler import RoomHandler
    from .client.messages import say
    from .client.runs import Run, current_run, job, run, track
    from .client.state import configure, flush


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'thereyet' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"thereyet.client.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
