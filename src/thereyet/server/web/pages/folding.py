"""Folding a room's routine: a stretch of run cards from one job reads as one line.

"league-matches: 58 runs, all succeeded, 10:00-11:00" instead of 116 cards. A card
of a failed or lost run is never folded away: it breaks the stretch and stays in view.
"""

from __future__ import annotations

from typing import Any

FOLD_AT = 3  # runs in a stretch before it folds
_LOUD = ("failed", "lost")


def _card(message: dict[str, Any]) -> tuple[str, str, str] | None:
    """(job, run id, status) of a quiet run card; None for anything else."""
    data = message.get("data") or {}
    if message.get("kind") != "run" or not data.get("run_id") or data.get("status") in _LOUD:
        return None
    return str(data.get("job", "")), str(data["run_id"]), str(data.get("status", ""))


def _fold(stretch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cards = [c for c in (_card(m) for m in stretch) if c is not None]
    runs = {run_id: status for _job, run_id, status in cards}  # each run's latest card
    if len(runs) < FOLD_AT:
        return stretch
    ended = [s for s in runs.values() if s != "running"]
    succeeded = sum(s == "succeeded" for s in ended)
    outcome = (
        "all succeeded" if succeeded == len(ended) else f"{succeeded} of {len(ended)} succeeded"
    )
    fold = {
        "folded": True,
        "job": cards[0][0],
        "runs": len(runs),
        "outcome": outcome,
        "first": stretch[0]["created_at"],
        "last": stretch[-1]["created_at"],
        "messages": stretch,
    }
    return [fold]


def fold_routine(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The room's messages in order, each stretch of quiet cards of one job folded."""
    items: list[dict[str, Any]] = []
    stretch: list[dict[str, Any]] = []
    job = None
    for message in messages:
        card = _card(message)
        if card is not None and card[0] == job:
            stretch.append(message)
            continue
        items.extend(_fold(stretch))
        stretch, job = ([message], card[0]) if card is not None else ([], None)
        if card is None:
            items.append(message)
    items.extend(_fold(stretch))
    return items
