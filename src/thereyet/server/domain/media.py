"""Which attachments a browser may show inline: a short allow-list of raster images.

Anything else (SVG, which can carry script; HTML; a type a browser might sniff)
is served as a download. Media types are compared without their parameters and
case, so `image/svg+xml; charset=utf-8` is still SVG.
"""

from __future__ import annotations

INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def media_type(content_type: str) -> str:
    """The bare media type of a Content-Type value: `Image/PNG; x=y` -> `image/png`."""
    return content_type.split(";", 1)[0].strip().lower()


def shown_inline(content_type: str) -> bool:
    """Whether an attachment of this Content-Type is displayed rather than downloaded."""
    return media_type(content_type) in INLINE_IMAGES
