"""Slack's mrkdwn, as Slack shows it: to safe HTML for the room, to Markdown for text.

Slack's rules, not Markdown's: `*bold*`, `_italic_`, `~strike~`, `` `code` ``,
```` ```code blocks``` ````, `>` quotes, `<https://x|label>` links, `<@U123>` user
and `<#C123|name>` channel mentions, `<!here>`, `<!channel>`, `<!everyone>`,
`<!subteam^ID|@team>`, `<!date^...|fallback>`, and `:emoji:` shortcodes. Literal
`<`, `>` and `&` arrive escaped as `&lt;`, `&gt;`, `&amp;`.

Every piece of text is HTML-escaped before any tag is added, and only http(s)
and mailto links become links, so nothing a sender writes can run in a page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import emoji

_CODE_BLOCK = re.compile(r"```(.*?)```", re.S)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_ANGLE = re.compile(r"<([^<>\n]+)>")
_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.I)
# A marker must touch its text on the inside and not be inside a word on the outside.
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])")
_SHORTCODE = re.compile(r":([a-z0-9_+\-']+):", re.I)
_HOLE = re.compile("\x00(\\d+)\x01")


def _unslack(text: str) -> str:
    """Slack's three escapes back to characters."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def emojize(text: str) -> str:
    """`:white_check_mark:` as ✅; unknown shortcodes stay as typed."""
    return emoji.emojize(text, language="alias")


def angle_label(inner: str) -> tuple[str, str | None]:
    """What a `<...>` sequence shows, and the URL it links to (if a safe one)."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label or target[1:]), None
    if target.startswith("#"):
        return "#" + (label or target[1:]), None
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        if name in ("here", "channel", "everyone"):
            return "@" + name, None
        return label or "@" + name, None
    url = _unslack(target)
    if _SAFE_URL.match(url):
        return _unslack(label) if label else url, url
    return _unslack(label or target), None


def to_html(text: str) -> str:
    """Slack mrkdwn as an HTML fragment (quotes and code blocks included)."""
    out: list[str] = []
    for i, part in enumerate(_CODE_BLOCK.split(text)):
        if i % 2:
            out.append(f"<pre><code>{html.escape(_unslack(part.strip(chr(10))))}</code></pre>")
        elif part:
            out.append(_lines_html(part))
    return "".join(out)


def _lines_html(text: str) -> str:
    out: list[str] = []
    quote: list[str] = []
    for line in text.strip("\n").split("\n"):
        quoted = re.match(r"^(?:&gt;|>)\s?(.*)$", line)
        if quoted:
            quote.append(inline_html(quoted.group(1)))
            continue
        if quote:
            out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
            quote = []
        out.append(inline_html(line) + "<br>")
    if quote:
        out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
    joined = "".join(out)
    return joined[: -len("<br>")] if joined.endswith("<br>") else joined


def inline_html(text: str) -> str:
    """One line of mrkdwn as inline HTML."""
    holes: list[str] = []

    def hole(markup: str) -> str:
        holes.append(markup)
        return f"\x00{len(holes) - 1}\x01"

    def code(found: re.Match[str]) -> str:
        return hole(f"<code>{html.escape(_unslack(found.group(1)))}</code>")

    def angle(found: re.Match[str]) -> str:
        label, url = angle_label(found.group(1))
        shown = html.escape(emojize(label))
        if url is None:
            kind = "mention" if label.startswith(("@", "#")) else "text"
            return hole(f'<span class="slack-{kind}">{shown}</span>')
        href = html.escape(url, quote=True)
        return hole(f'<a href="{href}" rel="nofollow noopener noreferrer">{shown}</a>')

    text = _ANGLE.sub(angle, _INLINE_CODE.sub(code, text))
    escaped = html.escape(emojize(_unslack(text)), quote=False)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    escaped = _ITALIC.sub(r"<em>\1</em>", escaped)
    escaped = _STRIKE.sub(r"<del>\1</del>", escaped)
    return _fill(escaped, holes)


def _fill(text: str, holes: list[str]) -> str:
    return _HOLE.sub(lambda found: holes[int(found.group(1))], text)


def to_markdown(text: str) -> str:
    """Slack mrkdwn as Markdown, for the message's text (search, transcripts, chat)."""
    out: list[str] = []
    for i, part in enumerate(_CODE_BLOCK.split(text)):
        out.append(f"\n```\n{_unslack(part.strip(chr(10)))}\n```\n" if i % 2 else _md_text(part))
    return "".join(out).strip("\n")


def _md_text(text: str) -> str:
    holes: list[str] = []

    def keep(markup: str) -> str:
        holes.append(markup)
        return f"\x00{len(holes) - 1}\x01"

    def angle(found: re.Match[str]) -> str:
        label, url = angle_label(found.group(1))
        return keep(f"[{emojize(label)}]({url})" if url else emojize(label))

    def code(found: re.Match[str]) -> str:
        return keep(f"`{_unslack(found.group(1))}`")

    text = _ANGLE.sub(angle, _INLINE_CODE.sub(code, text))
    text = emojize(_unslack(text))
    rules: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
        (_BOLD, lambda m: f"**{m.group(1)}**"),
        (_ITALIC, lambda m: f"*{m.group(1)}*"),
        (_STRIKE, lambda m: f"~~{m.group(1)}~~"),
    ]
    for pattern, replace in rules:
        text = pattern.sub(replace, text)
    return _fill(text, holes)
