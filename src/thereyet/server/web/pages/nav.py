"""The navigation every page shows: a few main links, and the rest in grouped menus.

A new page adds one `Link` line here. Main links sit in the top bar (one line on a
phone, scrolling sideways if a narrow phone cannot hold them all); every other link
lives in the "Menu" panel, under its group, which holds any number of entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    group: str  # the heading it sits under in the menu panel
    main: bool = False  # also shown in the top bar
    admin: bool = False  # only admins see it


LINKS: tuple[Link, ...] = (
    Link("Runs", "/", "Work", main=True),
    Link("Jobs", "/jobs", "Work", main=True),
    Link("Rooms", "/rooms", "Work", main=True),
    Link("Incidents", "/incidents", "On call", main=True),
    Link("On call", "/oncall", "On call", main=True),
    Link("Search", "/search", "Work"),
    Link("Commands", "/commands", "Work"),
    Link("Agents", "/agents", "Work"),
    Link("People", "/people", "On call"),
    Link("Escalation policies", "/policies", "On call"),
    Link("Services", "/services", "On call"),
    Link("Reports", "/reports", "On call"),
    Link("Integrations", "/integrations", "Admin", admin=True),
    Link("Channels", "/channels", "Admin", admin=True),
    Link("Share links", "/shares", "Admin", admin=True),
    Link("Users", "/admin/users", "Admin", admin=True),
    Link("Tokens", "/admin/tokens", "Admin", admin=True),
)
GROUPS = ("Work", "On call", "Admin")


@dataclass(frozen=True)
class Shown:
    """A link as one viewer sees it on one page."""

    label: str
    href: str
    current: bool


def _current(path: str, href: str) -> bool:
    if href == "/":
        return path == "/" or path.startswith("/runs/")
    return path == href or path.startswith(href + "/")


def navigation(path: str, is_admin: bool) -> dict[str, Any]:
    """What the top bar shows a viewer on `path`: main links, and the menu's groups
    as (title, links) pairs, empty groups left out."""
    seen = [link for link in LINKS if is_admin or not link.admin]

    def shown(links: list[Link]) -> list[Shown]:
        return [Shown(x.label, x.href, _current(path, x.href)) for x in links]

    groups = [(title, shown([x for x in seen if x.group == title])) for title in GROUPS]
    return {
        "main": shown([x for x in seen if x.main]),
        "groups": [(title, links) for title, links in groups if links],
    }
