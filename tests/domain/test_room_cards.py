"""Which status changes get a card in a job's rooms (domain.room_cards)."""

from __future__ import annotations

import pytest

from thereyet.server.domain.room_cards import RoomCards, card_wanted, cards_for
from thereyet.server.domain.runs import RunStatus as S


def test_runs_started_by_pings_tell_what_changed_and_others_tell_everything_by_default():
    assert cards_for(None, "ping") is RoomCards.CHANGES
    assert cards_for(None, None) is RoomCards.ALL
    assert cards_for(None, "schedule") is RoomCards.ALL  # its progress bar resets and grows
    assert cards_for("all", "ping") is RoomCards.ALL
    assert cards_for("changes", None) is RoomCards.CHANGES


@pytest.mark.parametrize(
    ("status", "was", "last_end", "wanted"),
    [
        (S.RUNNING, None, "succeeded", False),  # a plain start is no news
        (S.RUNNING, S.LOST, "succeeded", True),  # "is back"
        (S.SUCCEEDED, S.RUNNING, None, True),  # the first run ever
        (S.SUCCEEDED, S.RUNNING, "succeeded", False),
        (S.FAILED, S.RUNNING, "succeeded", True),
        (S.FAILED, S.RUNNING, "failed", False),
        (S.SUCCEEDED, S.RUNNING, "failed", True),  # recovered
        (S.LOST, S.RUNNING, "succeeded", True),
        (S.QUEUED, None, None, False),
    ],
)
def test_changes_posts_an_end_unlike_the_last_one(status, was, last_end, wanted):
    assert card_wanted(RoomCards.CHANGES, status, was, last_end) is wanted


def test_all_posts_every_change_but_queued():
    assert card_wanted(RoomCards.ALL, S.RUNNING, None, "succeeded")
    assert card_wanted(RoomCards.ALL, S.SUCCEEDED, S.RUNNING, "succeeded")
    assert not card_wanted(RoomCards.ALL, S.QUEUED, None, None)
