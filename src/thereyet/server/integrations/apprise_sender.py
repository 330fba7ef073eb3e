"""Outbound notifications through Apprise (Slack, Mattermost, email, ntfy, webhooks...).

Contract: `send` returns when the channel accepted the message and raises
SendError (with the reason Apprise gave) when it did not; the dispatcher
treats an error as "try again later".
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # Apprise loads its plugins on first use; one of them imports the deprecated
    # imghdr module. Load them here, once, with that warning silenced.
    warnings.simplefilter("ignore", DeprecationWarning)
    import apprise

    apprise.Apprise().add("json://localhost")

TIMEOUT_SECONDS = 15.0


class SendError(Exception):
    pass


def is_supported(url: str) -> bool:
    """Whether Apprise understands this URL (its scheme and required parts)."""
    return bool(apprise.Apprise().add(url))


def send(url: str, title: str, body: str, notify_type: str = "info") -> None:
    """Deliver one message to the channel at `url`; `notify_type` is Apprise's
    info, success, warning or failure (how the channel colours or tags it)."""
    sender = apprise.Apprise()
    if not sender.add(url):
        raise SendError("Apprise does not understand this channel URL")
    result = sender.notify(
        body=body, title=title, notify_type=apprise.NotifyType(notify_type), timeout=TIMEOUT_SECONDS
    )
    if not result:
        reasons = [entry.message for entry in result.logs() if entry.message]
        raise SendError("; ".join(reasons[-3:]) or "the channel refused the message")
