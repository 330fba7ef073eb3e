"""Keep secrets that travel in URLs out of the access log.

Some URLs are their own credential: share links, integration hooks, alert
endpoints, ping URLs, signed iCal feeds and one-click links. The access log
shows where requests went, with those parts replaced by "…".
"""

from __future__ import annotations

import logging
import re

_SECRETS = [
    (re.compile(r"(/share/)[^/?#\s]+"), r"\1…"),
    (re.compile(r"(/hooks/(?:[a-z]+/)?)[^/?#\s]+"), r"\1…"),
    (re.compile(r"(/api/v1/alerts/)[^/?#\s]+"), r"\1…"),
    (re.compile(r"(/ping/)[^/?#\s]+"), r"\1…"),
    (re.compile(r"([?&](?:share|sig|token|key)=)[^&#\s]+"), r"\1…"),
]


def redact(text: str) -> str:
    """`text` with every secret part of a URL replaced by "…"."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def redact_access_log(logger_name: str = "uvicorn.access") -> None:
    """Install the filter once on the access logger."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
