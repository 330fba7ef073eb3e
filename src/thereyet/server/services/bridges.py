"""Room bridges: a room's new messages mirrored to a channel through the outbox.

A message that came in through an integration is marked `inbound` and never
mirrored out: were the bridged channel's own messages fed back to the room
through a hook, each would otherwise travel round forever. The mark is the
message's origin, so no rewording on the way can get an echo past it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ..hub import Hub
from ..store import integrations as store
from ..store import outbox as outbox_store
from ..store import rooms as room_store
from ..store.writer import Tx
from .errors import Conflict, NotFound
from .hook_posts import INBOUND

BRIDGE_BATCH = 50


class BridgeService:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def bridge(self, room: str, channel: str) -> dict[str, Any]:
        def write(tx: Tx) -> dict[str, Any]:
            room_id = room_store.room_id(tx.conn, room)
            if room_id is None:
                raise NotFound(f"no room named {room!r}", field="room")
            found = outbox_store.channel_by_name(tx.conn, channel)
            if found is None:
                raise NotFound(f"no channel named {channel!r}", field="channel")
            if store.bridge(tx.conn, room_id, found.id) is not None:
                raise Conflict(f"room {room!r} is already mirrored to {channel!r}", field="channel")
            bridge_id = store.insert_bridge(tx.conn, room_id, found.id, tx.now)
            return {"id": bridge_id, "room": room, "channel": channel}

        return await self.hub.writer.run(write)

    def bridges(self) -> list[dict[str, Any]]:
        with self.hub.engines.read.connect() as conn:
            return [
                {
                    "id": b.id,
                    "room": b.room,
                    "channel": b.channel,
                    "last_message_id": b.last_message_id,
                }
                for b in store.list_bridges(conn)
            ]

    async def unbridge(self, bridge_id: int) -> None:
        def write(tx: Tx) -> None:
            if not store.delete_bridge(tx.conn, bridge_id):
                raise NotFound(f"no bridge with id {bridge_id}")

        await self.hub.writer.run(write)

    async def mirror(self) -> int:
        """Queue new room messages for each bridge's channel; return how many it went
        past (queued, or left out because they came in through an integration).

        The outbox rows and the bridge's cursor move in one transaction, and the
        cursor moves by a conditional UPDATE, so two nodes never queue one message twice.
        """

        def anything_new(conn: Connection) -> bool:
            return any(
                store.messages_after(conn, b.room_id, b.last_message_id, 1)
                for b in store.list_bridges(conn)
            )

        if not await self.hub.read(anything_new):
            return 0  # the usual case: no write transaction at all

        def write(tx: Tx) -> int:
            passed = 0
            for b in store.list_bridges(tx.conn):
                found = store.messages_after(tx.conn, b.room_id, b.last_message_id, BRIDGE_BATCH)
                if not found or not store.advance_bridge(
                    tx.conn, b.id, b.last_message_id, found[-1].id
                ):
                    continue
                passed += len(found)
                for m in found:
                    if m.data and m.data.get(INBOUND):
                        continue  # it may be the channel's echo of what the bridge sent
                    body = f"{m.author}: {m.body}" if m.kind == "text" else m.body
                    outbox_store.insert_message(
                        tx.conn,
                        kind="notify",
                        channel_id=b.channel_id,
                        event="message",
                        job=b.room,
                        title=f"#{b.room}",
                        body=body[:20_000],
                        payload={"room": b.room, "message_id": m.id},
                        next_attempt_at=tx.now,
                        created_at=tx.now,
                    )
            return passed

        return await self.hub.writer.run(write)
