"""Message text to HTML: Markdown with raw HTML turned off, so nobody can inject a script.

markdown-it-py escapes any HTML in the text and refuses `javascript:`,
`vbscript:`, `file:` and non-image `data:` links (they stay plain text). On top
of that, links get rel="nofollow noopener noreferrer", and an image from
another site is shown as a link instead, so opening a room does not tell a
third party who is reading it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

_SAFE_IMAGE_DATA = ("data:image/png;", "data:image/jpeg;", "data:image/gif;", "data:image/webp;")


def _link_open(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
    result: str = self.renderToken(tokens, idx, options, env)
    return result


def _image(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    local = src.startswith("/") and not src.startswith("//")
    if local or src.lower().startswith(_SAFE_IMAGE_DATA):
        result: str = self.image(tokens, idx, options, env)
        return result
    alt = self.renderInlineAsText(token.children or [], options, env) or src
    link = Token("link_open", "a", 1, attrs={"href": src})
    text = Token("text", "", 0, content=alt)
    close = Token("link_close", "a", -1)
    rendered: str = self.render([link, text, close], options, env)
    return rendered


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("image", _image)
    return md


_MD = _renderer()


def render_markdown(text: str) -> str:
    """Safe HTML for a message's Markdown text (block-level: paragraphs, lists, code)."""
    html: str = _MD.render(text)
    return html
