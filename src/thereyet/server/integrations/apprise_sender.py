"""Outbound notifications through Apprise (Slack, Mattermost, email, ntfy, webhooks...).

Contract: `send` returns when the channel accepted the message and raises
SendError (with the reason Apprise gave) when it did not; the dispatcher
treats an error as "try again later".
"""

from __future__ import annotations

import warnings
from urllib.parse import quote, urlsplit

with warnings.catch_warnings():
    # Apprise loads its plugins on first use; one of them imports the deprecated
    # imghdr module. Load them here, once, with that warning silenced.
    warnings.simplefilter("ignore", DeprecationWarning)
    import apprise

    apprise.Apprise().add("json://localhost")

TIMEOUT_SECONDS = 15.0
# Apprise's plain HTTP webhooks, which take extra headers as "+Name=value" in the URL.
WEBHOOK_SCHEMES = ("json", "jsons", "form", "forms", "xml", "xmls")


class SendError(Exception):
    pass


def is_supported(url: str) -> bool:
    """Whether Apprise understands this URL (its scheme and required parts)."""
    return bool(apprise.Apprise().add(url))


def with_header(url: str, name: str, value: str) -> str:
    """The channel URL with an HTTP header added, for a plain webhook; others unchanged."""
    if urlsplit(url).scheme.lower() not in WEBHOOK_SCHEMES:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}{quote('+' + name)}={quote(value)}"


def send(
    url: str,
    title: str,
    body: str,
    notify_type: str = "info",
    idempotency_key: str | None = None,
) -> None:
    """Deliver one message to the channel at `url`; `notify_type` is Apprise's
    info, success, warning or failure (how the channel colours or tags it).

    A plain webhook (json://, form://, xml://) gets the `Idempotency-Key` header."""
    if idempotency_key is not None:
        url = with_header(url, "Idempotency-Key", idempotency_key)
    sender = apprise.Apprise()
    if not sender.add(url):
        raise SendError("Apprise does not understand this channel URL")
    result = sender.notify(
        body=body, title=title, notify_type=apprise.NotifyType(notify_type), timeout=TIMEOUT_SECONDS
    )
    if not result:
        reasons = [entry.message for entry in result.logs() if entry.message]
        raise SendError("; ".join(reasons[-3:]) or "the channel refused the message")
