"""`from thereyet.tqdm import tqdm`: tqdm as usual, and a run on the hub.

tqdm stays an optional dependency: only this module needs it. Extra keyword
arguments: `job=` (default: the bar's `desc`, else the script's name) and
`room=`. Inside `with thereyet.run(...)` and without `job=`, the bar reports
as that run's progress instead of starting a run of its own.
"""

from __future__ import annotations

from typing import Any

from tqdm import tqdm as _tqdm  # type: ignore[import-untyped]

from .client.runs import Run, current_run

__all__ = ["tqdm", "trange"]


class tqdm(_tqdm):  # type: ignore[misc]
    def __init__(self, *args: Any, job: str | None = None, room: str | None = None, **kw: Any):
        super().__init__(*args, **kw)
        outer = current_run() if job is None else None
        self._thereyet_own = outer is None
        self._thereyet_run = outer or Run(
            job or self.desc or None, room=room, total=self.total, unit=self.unit
        )

    def update(self, n: float | None = 1) -> bool | None:
        shown: bool | None = super().update(n)
        self._thereyet_report()
        return shown

    def _thereyet_report(self) -> None:
        run = getattr(self, "_thereyet_run", None)
        if run is not None:
            run.progress(self.n, self.total, self.unit)

    def close(self) -> None:
        run = getattr(self, "_thereyet_run", None)
        if run is not None and not getattr(self, "_thereyet_closed", False):
            self._thereyet_closed = True
            self._thereyet_report()
            if self._thereyet_own:
                run.finish("succeeded")
        super().close()


def trange(*args: Any, **kw: Any) -> tqdm:
    return tqdm(range(*args), **kw)
