"""The bus bridged through PostgreSQL LISTEN/NOTIFY: what one node publishes, every node
delivers.

Each node keeps two connections of its own, outside the pools: one that LISTENs, and
one that sends. What is published here waits in a queue; the sender takes all of it
at once, lets a message with an "id" supersede an older one of the same topic and id
(live views want the latest state of a run, not every step), packs the rest into
payloads under PostgreSQL's 8,000-byte NOTIFY limit and sends them in one
statement. A message too large to cross whole crosses as its id when its topic has
a loader (Bus.by_reference), else it stays on this node (and is counted as dropped).

What only subscribers want (a run's live view, a dashboard row) is published only
where a subscriber may see it (Bus.is_heard): nodes tell each other which topics they
subscribe to (bus_interest.py). A node that begins to subscribe to a topic is told
by each other node, once that node sends it (bus.HEARD_ELSEWHERE); what was committed
before, it did not send, so the subscriber takes a fresh snapshot then.

The listener skips what its own node sent (delivered here already, when published)
and delivers the rest on this node's bus. When its connection is lost (PostgreSQL
restarted, failed over, or the session was killed) it connects again by itself, with
growing pauses, and then delivers bus.RESUMED: messages sent meanwhile are lost, so
caches forget what they hold. The sender keeps what it could not send and tries
again once PostgreSQL answers.

Delivery is at most once per node, and best effort: a node that dies between a
commit and its NOTIFY leaves other nodes' live views one update behind (the next
update, or a browser's reconnect, mends that) and their caches up to their own
expiry (RecentlyChecked: 5 s).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url

from .bus import HEARD_ELSEWHERE, RESUMED, Bus
from .bus_interest import REFRESH_SECONDS, Interest

log = logging.getLogger(__name__)

CHANNEL = "thereyet_bus"
# All of a batch's payloads in one statement (one round trip, one transaction, so
# they reach the listeners together and in order), rather than one round trip each
# between a BEGIN and a COMMIT. The array goes in binary (%b): in text, psycopg escapes
# every quote of the JSON in Python, 2 ms of CPU for three full payloads against 0.05.
_NOTIFY_ALL = "SELECT pg_notify(%s, payload) FROM unnest(%b::text[]) AS payload"
MAX_PAYLOAD = 7_900  # bytes; PostgreSQL refuses a NOTIFY payload of 8,000 or more
MAX_PENDING = 50_000  # messages waiting to cross; beyond, the oldest are dropped
LISTEN_POLL_SECONDS = 0.5  # how soon the listener notices that it should stop
RETRY_SECONDS = (0.1, 0.2, 0.5, 1.0, 2.0)  # pauses between attempts to reconnect
# Between bridges only, never delivered on a bus: which topics a node subscribes to.
WANT, UNWANT, ASK, ACK, GONE = "bus:want", "bus:unwant", "bus:ask", "bus:ack", "bus:gone"
_CONTROL = frozenset({WANT, UNWANT, ASK, ACK, GONE})
_ANNOUNCE_CHARS = 3_000  # topics named in one "want", together (well under MAX_PAYLOAD)


@dataclass
class BridgeCounts:
    sent: int = 0  # messages that crossed (after superseding)
    payloads: int = 0  # NOTIFY payloads sent
    bytes: int = 0  # their size, together
    received: int = 0  # messages delivered here from other nodes
    own: int = 0  # payloads of this node's own that the listener skipped
    dropped: int = 0  # messages that could not cross (too large, or too many waiting)
    reconnects: int = 0  # times the listener connected again


def conninfo(url: str) -> str:
    """A libpq connection string for a SQLAlchemy PostgreSQL URL (whatever its driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresBridge:
    """Carries a Bus's messages to every node listening on the same database."""

    def __init__(
        self,
        bus: Bus,
        url: str,
        *,
        origin: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bus = bus
        self.dsn = conninfo(url)
        self.origin = origin or uuid.uuid4().hex[:12]  # this process, not its name
        self._own = f'{{"n":"{self.origin}",'  # how this node's payloads begin
        self.counts = BridgeCounts()
        self.interest = Interest(clock)
        self._refresh_at = 0.0
        # One "want" at a time, so a whole list never overtakes a topic added meanwhile.
        self._announcing = threading.Lock()
        self.listening = threading.Event()
        self._pending: dict[tuple[str, Any], tuple[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._serial = itertools.count()
        self._threads: list[threading.Thread] = []
        self._listen_conn: Any = None

    # -- life ------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Attach to the bus and start listening; return once the listener is listening
        (or after `timeout`: it keeps trying by itself)."""
        self.bus.outward = self.send
        self.bus.elsewhere = self.interest.heard
        self.bus.watch = self._watch
        for name, target in (("listen", self._listen_loop), ("send", self._send_loop)):
            thread = threading.Thread(target=target, name=f"bus-bridge-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if not self.listening.wait(timeout):
            log.warning("bus bridge: not listening yet; live updates from other nodes wait")

    def stop(self) -> None:
        """Send what is waiting, stop both threads and close their connections."""
        self.bus.outward = self.bus.elsewhere = self.bus.watch = None
        self.send(GONE, {})
        self._stop.set()
        self._wake.set()
        for thread in reversed(self._threads):  # the sender first: it wakes the listener
            thread.join(5)

    @property
    def listen_pid(self) -> int | None:
        """The PostgreSQL backend process of the listening connection, if connected."""
        conn = self._listen_conn
        return None if conn is None or conn.closed else int(conn.info.backend_pid)

    # -- sending ---------------------------------------------------------------------

    def send(self, topic: str, data: dict[str, Any]) -> None:
        """Queue a message for the other nodes; callable from any thread, never blocks."""
        ident = data.get("id")
        key = (topic, ident if ident is not None else ("#", next(self._serial)))
        with self._lock:
            self._pending.pop(key, None)  # the newer one goes to the back
            self._pending[key] = (topic, data)
            if len(self._pending) > MAX_PENDING:
                del self._pending[next(iter(self._pending))]
                self.counts.dropped += 1
        self._wake.set()

    def _take(self) -> dict[tuple[str, Any], tuple[str, dict[str, Any]]]:
        with self._lock:
            taken, self._pending = self._pending, {}
        return taken

    def _put_back(self, taken: dict[tuple[str, Any], tuple[str, dict[str, Any]]]) -> None:
        """Unsent messages wait again, behind nothing newer of the same topic and id."""
        with self._lock:
            newer = self._pending
            self._pending = {k: v for k, v in taken.items() if k not in newer}
            self._pending.update(newer)

    def _send_loop(self) -> None:
        import psycopg

        conn: psycopg.Connection[Any] | None = None
        with contextlib.suppress(psycopg.Error):  # ready for the first message (else: later)
            conn = self._connect()
        failures = 0
        while True:
            stopping = self._stop.is_set()
            if failures:  # PostgreSQL is away: try again after a pause, not at every message
                self._stop.wait(_pause(failures))
            elif not stopping:
                self._wake.wait(REFRESH_SECONDS)
                self._wake.clear()
            if not stopping and self.interest.clock() >= self._refresh_at:
                self._announce()
            taken = self._take()
            if taken:
                payloads = pack(self.origin, taken.values(), self.bus, self.counts)
                try:
                    conn = conn if conn is not None and not conn.closed else self._connect()
                    conn.execute(_NOTIFY_ALL, (CHANNEL, payloads))
                    self.counts.sent += len(taken)
                    self.counts.payloads += len(payloads)
                    self.counts.bytes += sum(map(len, payloads))
                    failures = 0
                except psycopg.Error as exc:
                    failures += 1
                    log.warning("bus bridge: could not send (%s); will retry", _first_line(exc))
                    _close(conn)
                    conn = None
                    if not stopping:
                        self._put_back(taken)
            if stopping:
                self._wake_listener(conn)
                _close(conn)
                return

    # -- which topics this node subscribes to (see bus_interest.py) -----------------

    def _watch(self, topic: str, subscribed: bool) -> None:
        if not topic.startswith("bus:"):
            with self._announcing:
                self.send(WANT if subscribed else UNWANT, {"topics": [topic], "ack": subscribed})

    def _announce(self, *, ack: bool | str = False) -> None:
        """Tell the other nodes every topic subscribed to here (and no others). With `ack`
        (True: every node; else the one node it names), they answer once they send them
        (they may not have until now)."""
        self._refresh_at = self.interest.clock() + REFRESH_SECONDS
        with self._announcing:
            topics = [t for t in self.bus.subscribed() if not t.startswith("bus:")]
            whole, chunk, size = True, list[str](), 0
            for topic in topics:
                if chunk and size + len(topic) > _ANNOUNCE_CHARS:
                    self.send(WANT, {"topics": chunk, "whole": whole, "ack": ack})
                    whole, chunk, size = False, [], 0
                chunk.append(topic)
                size += len(topic) + 3
            if chunk or whole:
                self.send(WANT, {"topics": chunk, "whole": whole, "ack": ack})

    def _control(self, origin: str, topic: str, data: dict[str, Any]) -> None:
        """A message between bridges: which topics `origin` subscribes to."""
        if topic == WANT:
            self.interest.want(origin, data["topics"], whole=bool(data.get("whole")))
            ack = data.get("ack")
            if (ack is True or ack == self.origin) and data["topics"]:
                # Sent from now on; what this node committed before, `origin` reads.
                self.send(ACK, {"to": origin, "topics": data["topics"]})
        elif topic == UNWANT:
            self.interest.unwant(origin, data["topics"])
        elif topic == ASK:  # a node (re)started listening: it may not have sent our topics
            self._announce(ack=origin)
        elif topic == ACK and data.get("to") == self.origin:
            for heard in data["topics"]:
                self.bus.deliver(HEARD_ELSEWHERE, {"topic": heard})
        elif topic == GONE:
            self.interest.gone(origin)

    def _wake_listener(self, conn: Any) -> None:
        """An empty payload of our own, so that our listener stops at once rather than
        at its next poll (a hub's shutdown, and each PostgreSQL test, wait for it)."""
        if conn is not None and not conn.closed:
            with contextlib.suppress(Exception):
                conn.execute(
                    "SELECT pg_notify(%s, %s)", (CHANNEL, f'{{"n":"{self.origin}","m":[]}}')
                )

    # -- listening -------------------------------------------------------------------

    def _listen_loop(self) -> None:
        import psycopg

        failures = 0
        while not self._stop.is_set():
            try:
                self._listen_conn = conn = self._connect()
                conn.execute(f"LISTEN {CHANNEL}")
                # Others said which topics they subscribe to while this node did not
                # listen: send everything until they have said it again. And what they
                # sent meanwhile was lost here: once they answer, viewers here take a
                # fresh snapshot.
                self.interest.warm()
                self.send(ASK, {})
                self._announce(ack=True)
                if failures:
                    self.counts.reconnects += 1
                    log.warning("bus bridge: listening again")
                    self.bus.deliver(RESUMED, {})
                failures = 0
                self.listening.set()
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=LISTEN_POLL_SECONDS):
                        self.receive(note.payload)
                        if self._stop.is_set():
                            break
            except psycopg.Error as exc:
                self.listening.clear()
                if not self._stop.is_set():
                    failures += 1
                    log.warning("bus bridge: lost its connection (%s)", _first_line(exc))
                    self._stop.wait(_pause(failures))
            finally:
                _close(self._listen_conn)
                self._listen_conn = None
        self.listening.clear()

    def receive(self, payload: str) -> None:
        """Deliver here what another node sent (one NOTIFY payload)."""
        if payload.startswith(self._own):  # delivered here already, when published
            self.counts.own += 1
            return
        try:
            message = json.loads(payload)
            origin, items = message["n"], message["m"]
        except (ValueError, KeyError, TypeError):
            log.warning("bus bridge: ignored a payload not of our making")
            return
        if origin == self.origin:
            self.counts.own += 1
            return
        for item in items:
            topic, data = item[0], item[1]
            if topic in _CONTROL:
                self._control(origin, topic, data)
                continue
            if len(item) > 2:  # crossed as its id: made again here, if anyone listens
                found = self.bus.loader(topic)
                if found is None or not self.bus.has_subscribers(topic):
                    continue
                data = found[0](topic, str(data["id"]))
                if data is None:
                    continue
            self.counts.received += 1
            self.bus.deliver(topic, data)

    def _connect(self) -> Any:
        import psycopg

        # Keep-alives: a connection to a primary that vanished (a failover) is noticed
        # in about 15 s rather than after the kernel's two hours.
        return psycopg.connect(
            self.dsn,
            autocommit=True,
            connect_timeout=5,
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=3,
        )


def pack(
    origin: str,
    messages: Iterable[tuple[str, dict[str, Any]]],
    bus: Bus,
    counts: BridgeCounts,
) -> list[str]:
    """NOTIFY payloads of at most MAX_PAYLOAD bytes holding `messages`, in order:
    {"n": origin, "m": [[topic, data], [topic, {"id": id}, 1], ...]}."""
    head, tail = f'{{"n":"{origin}","m":[', "]}"
    room = MAX_PAYLOAD - len(head) - len(tail)
    payloads: list[str] = []
    parts: list[str] = []
    size = 0
    for topic, data in messages:
        item = _encode(topic, data, bus, room)
        if item is None:
            counts.dropped += 1
            continue
        if parts and size + len(item) + 1 > room:
            payloads.append(head + ",".join(parts) + tail)
            parts, size = [], 0
        parts.append(item)
        size += len(item) + 1
    if parts:
        payloads.append(head + ",".join(parts) + tail)
    return payloads


def _encode(topic: str, data: dict[str, Any], bus: Bus, room: int) -> str | None:
    """One message as it crosses (ASCII JSON, so characters are bytes), or None."""
    found = bus.loader(topic)
    whole = found is None or not found[1]
    if whole:
        item = json.dumps([topic, data], separators=(",", ":"), default=str)
        if len(item) <= room:
            return item
    if found is None or data.get("id") is None:
        log.warning("bus bridge: a message on %s is too large to cross", topic)
        return None
    return json.dumps([topic, {"id": data["id"]}, 1], separators=(",", ":"), default=str)


def _pause(failures: int) -> float:
    return RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]


def _close(conn: Any) -> None:
    """Close `conn` if there is one (it may be gone already); always None."""
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
