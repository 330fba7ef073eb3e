"""The dispatcher: deliver outbox rows (notifications and callbacks) with retries.

Each tick claims a few due rows, sends them in parallel threads (a slow or
failing channel holds up only its own rows), and records each outcome as soon
as it is known: sent, or a retry after a growing delay, or failed after the
last attempt. A node that dies between a send and its record repeats that one
send, with the same `Idempotency-Key` header, once its claim is released.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from .. import faults
from ..domain.notify_types import notify_type
from ..integrations import apprise_sender, callback_sender
from ..services.notifications import Delivery, NotificationService

BATCH = 100


def deliver(delivery: Delivery) -> str | None:
    """Send one row; None on success, else the reason it failed."""
    key = delivery.idempotency_key
    faults.reached_later("dispatcher.mid_send")
    try:
        if delivery.kind == "callback":
            payload = delivery.payload
            headers = {**(payload.get("headers") or {}), "Idempotency-Key": key}
            callback_sender.post(payload["url"], payload["body"], headers)
        else:
            if delivery.channel_url is None:
                return "the channel is gone"
            kind = notify_type(delivery.event, delivery.payload)
            apprise_sender.send(
                delivery.channel_url, delivery.title, delivery.body, kind.value, key
            )
    except apprise_sender.SendError as exc:
        return str(exc) or type(exc).__name__
    faults.reached("dispatcher.after_send")
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
        faults.reached("dispatcher.after_claim")
        lines: dict[Any, list[Delivery]] = {}
        for delivery in sorted(batch, key=lambda d: d.id):
            # A channel's rows, or a job's callbacks (its occurrences), go out in order.
            key = ("channel", delivery.channel_id) if delivery.channel_id else ("job", delivery.job)
            lines.setdefault(key, []).append(delivery)
        await asyncio.gather(*(self._send_in_order(line, now) for line in lines.values()))
        return True

    async def _send_in_order(self, deliveries: list[Delivery], now: datetime) -> None:
        """Send one channel's rows in order, recording each as soon as it was tried (a
        crash repeats at most the one send in flight); at the first failure the rest
        are given back untried."""
        for i, delivery in enumerate(deliveries):
            error = await asyncio.to_thread(deliver, delivery)
            untried = deliveries[i + 1 :] if error is not None else []
            await self.notifications.record([(delivery, error)], now, untried)
            if error is not None:
                return
