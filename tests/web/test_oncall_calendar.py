"""A rotation's shifts laid out as weeks of days in the rotation's zone (no hub needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from thereyet.server.web.pages.oncall_calendar import calendar

# Wednesday 4 March 2026, 12:00 in Paris.
NOW = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)


def shift(person: str, starts: str, ends: str, override: bool = False) -> dict[str, object]:
    return {"person": person, "starts_at": starts, "ends_at": ends, "override": override}


def test_weeks_start_on_the_monday_of_this_week_and_today_is_marked():
    weeks = calendar([], ["ana"], "Europe/Paris", NOW, weeks=2)
    assert [len(w) for w in weeks] == [7, 7]
    assert weeks[0][0].day == date(2026, 3, 2)
    assert [d.day for d in weeks[0] if d.today] == [date(2026, 3, 4)]
    assert [d.past for d in weeks[0][:3]] == [True, True, False]


def test_a_handoff_day_lists_both_people_with_their_local_hours():
    # The weekly handoff on Monday 9 March at 09:00 Paris time (08:00 UTC).
    shifts = [
        shift("ana", "2026-03-02T08:00:00Z", "2026-03-09T08:00:00Z"),
        shift("bo", "2026-03-09T08:00:00Z", "2026-03-16T08:00:00Z"),
    ]
    monday = calendar(shifts, ["ana", "bo"], "Europe/Paris", NOW, weeks=2)[1][0]
    said = [(e.person, e.starts, e.ends, e.colour) for e in monday.entries]
    assert said == [("ana", "", "09:00", 0), ("bo", "09:00", "", 1)]


def test_an_override_is_marked_and_someone_outside_the_rotation_has_their_own_colour():
    shifts = [shift("cy", "2026-03-05T10:00:00Z", "2026-03-05T16:00:00Z", override=True)]
    thursday = calendar(shifts, ["ana", "bo"], "Europe/Paris", NOW, weeks=1)[0][3]
    [entry] = thursday.entries
    assert (entry.person, entry.starts, entry.ends, entry.override, entry.colour) == (
        "cy",
        "11:00",
        "17:00",
        True,
        6,
    )
