"""Full-text search across the rooms a caller may read."""

from __future__ import annotations

import html
import re
from typing import Any

from ..domain.access import Principal
from ..hub import Hub
from ..store import rooms as room_store
from ..store import search as store
from .errors import Invalid, NotFound
from .views import message_view

MAX_QUERY = 200
MAX_LIMIT = 200
SNIPPET_CHARS = 160
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


def words_of(q: str) -> list[str]:
    """The words of a query, as the indexes see them (punctuation and operators are not words)."""
    return _WORD.findall(q)


def fts5_query(words: list[str]) -> str:
    """An FTS5 query matching messages that contain every word.

    Each word is a quoted string, so nothing the user types (quotes, OR, NEAR,
    *, -, ^, column filters) is read as FTS5 syntax.
    """
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def snippet(body: str, words: list[str], width: int = SNIPPET_CHARS) -> str:
    """HTML: the part of `body` around the first hit, escaped, with each hit in <mark>."""
    text = _SPACE.sub(" ", body).strip()
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE
    )
    first = pattern.search(text)
    hit_at = first.start() if first else 0
    start = max(0, hit_at - width // 3)
    if start and (space := text.find(" ", start, hit_at)) != -1:
        start = space + 1  # begin at a word
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    part = text[start:end]
    out, pos = [], 0
    for hit in pattern.finditer(part):
        out.append(html.escape(part[pos : hit.start()]))
        out.append("<mark>" + html.escape(hit.group()) + "</mark>")
        pos = hit.end()
    out.append(html.escape(part[pos:]))
    return ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")


class SearchService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def search(
        self, who: Principal, q: str, *, room: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Messages containing every word of `q`, newest first, in rooms `who` may read."""
        if not q.strip():
            raise Invalid("q must contain something to search for", field="q")
        if len(q) > MAX_QUERY:
            raise Invalid(f"q must be at most {MAX_QUERY} characters long", field="q")
        words = words_of(q)
        if not words:
            return []
        with self.hub.engines.read.connect() as conn:
            room_ids = self._readable_rooms(conn, who, room)
            if room_ids == []:
                return []
            rows = store.search_messages(
                conn,
                fts_query=fts5_query(words),
                plain_query=" ".join(words),
                room_ids=room_ids,
                limit=max(1, min(limit, MAX_LIMIT)),
            )
        return [
            {**message_view(row, row.room_name), "snippet": snippet(row.body, words)}
            for row in rows
        ]

    def _readable_rooms(self, conn: Any, who: Principal, room: str | None) -> list[int] | None:
        """The ids of the rooms to search, or None for all of them."""
        if room is not None:
            room_id = room_store.room_id(conn, room)
            if room_id is None or not who.may_read_room(room):
                raise NotFound(f"no room named {room!r}", field="room")
            return [room_id]
        if who.reads_everything:
            return None
        return [row.id for row in room_store.list_rooms(conn) if who.may_read_room(row.name)]
