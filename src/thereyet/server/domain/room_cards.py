"""Which status changes of a run are worth a card in the job's rooms.

A long migration's room wants every start and end, and so does a routine the
hub starts itself (its progress bar resets and grows). A check pinged every
minute does not: two cards a minute would bury everything people say. So a
job's rooms are told either everything ("all") or only what changed
("changes"): an end unlike the job's previous end (failed after successes,
recovered after a failure, the first run ever), a run that was lost or came
back. Late and missed occurrences are the monitor's own cards, always posted.
The full history stays on the job's page either way.
"""

from __future__ import annotations

from enum import StrEnum

from .runs import RunStatus

# Runs started this way are a routine's heartbeat: their rooms hear what changed.
ROUTINE_TRIGGERS = frozenset({"ping"})


class RoomCards(StrEnum):
    ALL = "all"
    CHANGES = "changes"


def cards_for(setting: str | None, trigger: str | None) -> RoomCards:
    """The job's own setting, else "changes" for a run started by a ping (a routine's
    check-in) and "all" for anything else."""
    if setting is not None:
        return RoomCards(setting)
    return RoomCards.CHANGES if trigger in ROUTINE_TRIGGERS else RoomCards.ALL


def card_wanted(
    cards: RoomCards, status: RunStatus, was: RunStatus | None, last_end: str | None
) -> bool:
    """Whether a run's move from `was` to `status` gets a card, given how the job's
    previous run ended (`last_end`, None if none has)."""
    if cards is RoomCards.ALL:
        return status is not RunStatus.QUEUED
    if status is RunStatus.RUNNING:
        return was is RunStatus.LOST  # "is back"; a plain start is no news
    if status is RunStatus.LOST:
        return True
    if status.finished:
        return status.value != last_end
    return False
