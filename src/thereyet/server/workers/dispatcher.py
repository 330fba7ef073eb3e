"""The dispatcher: deliver outbox rows (notifications and callbacks) with retries.

Each tick claims a few due rows, sends them in parallel threads (a slow or
failing channel holds up only its own rows), then records each outcome:
sent, or a retry after a growing delay, or failed after the last attempt.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from ..domain.notify_types import notify_type
from ..integrations import apprise_sender, callback_sender
from ..services.notifications import Delivery, NotificationService

BATCH = 100


def deliver(delivery: Delivery) -> str | None:
    """Send one row; None on success, else the reason it failed."""
    try:
        if delivery.kind == "callback":
            payload = delivery.payload
            callback_sender.post(payload["url"], payload["body"], payload.get("headers"))
        else:
            if delivery.channel_url is None:
                return "the channel is gone"
            kind = notify_type(delivery.event, delivery.payload)
            apprise_sender.send(delivery.channel_url, delivery.title, delivery.body, kind.value)
    except apprise_sender.SendError as exc:
        return str(exc) or type(exc).__name__
    return None


class Dispatcher:
    name = "dispatcher"

    def __init__(self, notifications: NotificationService) -> None:
        self.notifications = notifications

    async def tick(self, now: datetime) -> bool:
        """Deliver one batch of due rows. True if there was any."""
        batch = await self.notifications.claim_due(now, BATCH)
        if not batch:
            return False
        outcomes = await asyncio.gather(*(asyncio.to_thread(deliver, d) for d in batch))
        await self.notifications.record(list(zip(batch, outcomes, strict=True)), now)
        return True
