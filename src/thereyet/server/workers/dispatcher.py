"""The dispatcher: deliver outbox rows (notifications and callbacks) with retries.

Each tick claims a few due rows, sends them in parallel threads (a slow or
failing channel holds up only its own rows), then records each outcome:
sent, or a retry after a growing delay, or failed after the last attempt.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

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
        """Deliver one batch of due rows. True if there was any.

        Channels are served in parallel; the rows of one channel one after the other,
        oldest first, stopping at the first failure (the rest wait for the next try)."""
        batch = await self.notifications.claim_due(now, BATCH)
        if not batch:
            return False
        lines: dict[Any, list[Delivery]] = {}
        for delivery in sorted(batch, key=lambda d: d.id):
            key = (delivery.channel_id, None if delivery.channel_id else delivery.id)
            lines.setdefault(key, []).append(delivery)
        done = await asyncio.gather(
            *(asyncio.to_thread(deliver_in_order, ds) for ds in lines.values())
        )
        outcomes = [outcome for tried, _ in done for outcome in tried]
        untried = [d for _, rest in done for d in rest]
        await self.notifications.record(outcomes, now, untried)
        return True


def deliver_in_order(
    deliveries: list[Delivery],
) -> tuple[list[tuple[Delivery, str | None]], list[Delivery]]:
    """Send one channel's rows in order until one fails; return the outcomes of those
    tried and the rows left untried."""
    tried: list[tuple[Delivery, str | None]] = []
    for i, delivery in enumerate(deliveries):
        error = deliver(delivery)
        tried.append((delivery, error))
        if error is not None:
            return tried, deliveries[i + 1 :]
    return tried, []
