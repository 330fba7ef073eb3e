"""PostgreSQL round trips of the writer's groups, counted on the wire (store.pipeline).

A proxy between the hub and PostgreSQL reads the client's protocol messages and
counts those the client then waits on: Sync (the end of an extended-protocol
batch) and Query (a simple-protocol statement). A group's BEGIN and savepoints
wait for its first statement, and writes held in a `held` block go with the
COMMIT; a held write that fails later makes the group again, with nobody blamed
for it but its own change.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import func, insert, select
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, _empty_pg, make_settings
from thereyet.server.app import create_app
from thereyet.server.clock import FakeClock
from thereyet.server.domain.schedules import parse_schedule
from thereyet.server.services.pings import Ping
from thereyet.server.store import pipeline
from thereyet.server.store.engine import make_engines
from thereyet.server.store.migrate import upgrade
from thereyet.server.store.tables import job_events, jobs, rooms
from thereyet.server.store.writer import Tx, Writer

pytestmark = pytest.mark.postgres


class WireCounter:
    """A TCP proxy to PostgreSQL counting, per client connection, the messages the
    client waits on (each is one round trip)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.waits: list[int] = []  # by connection, in order of connecting
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def total(self) -> int:
        with self._lock:
            return sum(self.waits)

    def by_connection(self) -> list[int]:
        with self._lock:
            return list(self.waits)

    def most_since(self, before: list[int]) -> int:
        """The most round trips one connection waited for since `before` (by_connection):
        a hub's writer, among its other connections (the live bus's, say)."""
        now = self.by_connection()
        return max(n - (before[i] if i < len(before) else 0) for i, n in enumerate(now))

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self._lock:
                self.waits.append(0)
                index = len(self.waits) - 1
            threading.Thread(
                target=self._pump_client, args=(client, server, index), daemon=True
            ).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
        source.close()

    def _pump_client(self, client: socket.socket, server: socket.socket, index: int) -> None:
        buffer, started = b"", False
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                server.sendall(data)
                buffer += data
                while True:
                    if not started:  # the startup message: a length, no type byte
                        if len(buffer) < 4 or len(buffer) < struct.unpack("!i", buffer[:4])[0]:
                            break
                        buffer, started = buffer[struct.unpack("!i", buffer[:4])[0] :], True
                        continue
                    if len(buffer) < 5:
                        break
                    size = struct.unpack("!i", buffer[1:5])[0] + 1
                    if len(buffer) < size:
                        break
                    if buffer[:1] in (b"S", b"Q"):
                        with self._lock:
                            self.waits[index] += 1
                    buffer = buffer[size:]
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_WR)
        client.close()

    def url(self, url: str) -> str:
        """`url` through this proxy, in plain text (so that its messages can be read)."""
        parts = urlsplit(url)
        netloc = f"{parts.username}@127.0.0.1:{self.port}"
        query = "sslmode=disable&gssencmode=disable"
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def wire(pg_database: str) -> Iterator[tuple[WireCounter, str]]:
    parts = urlsplit(pg_database)
    counter = WireCounter(parts.hostname or "127.0.0.1", parts.port or 5432)
    yield counter, counter.url(pg_database)
    counter.close()


@pytest.fixture
def wired_writer(wire: tuple[WireCounter, str]) -> Iterator[tuple[WireCounter, Writer, Any]]:
    counter, url = wire
    engines = make_engines(url)
    upgrade(engines.write)
    with engines.write.begin() as conn:
        conn.execute(rooms.delete())
    writer = Writer(engines.write, lambda: datetime.now(UTC))
    writer.start()
    writer.run_sync(lambda tx: None)  # connected: what is counted is the groups'
    yield counter, writer, engines
    writer.stop()
    engines.dispose()


_INSERT_ROOM = "INSERT INTO rooms (name, title, topic, created_at) VALUES (%s, %s, '', %s)"


def _read_then_hold(tx: Tx, names: list[str]) -> list[Any]:
    """A batch handler as the pings' is: one read, then writes nobody reads back."""
    pipeline.fetch(tx.conn, "SELECT count(*) FROM rooms")
    with pipeline.held(tx.conn):
        for name in names:
            pipeline.execute(tx.conn, _INSERT_ROOM, (name, name, tx.now))
    return list(names)


def _add_room(name: str) -> Callable[[Tx], str]:
    def write(tx: Tx) -> str:
        tx.conn.execute(insert(rooms).values(name=name, title=name, topic="", created_at=tx.now))
        return name

    return write


def _room_names(engines: Any) -> list[str]:
    with engines.read.connect() as conn:
        return sorted(conn.execute(select(rooms.c.name)).scalars())


def _hold(writer: Writer) -> threading.Event:
    """Hold the writer in a group of its own (which sends nothing) until the event is
    set; changes handed in meanwhile wait for the next group."""
    gate, holding = threading.Event(), threading.Event()

    def hold(tx: Tx) -> None:
        holding.set()
        gate.wait(30)

    writer.submit(hold)
    assert holding.wait(30)
    return gate


def _group(
    writer: Writer, counter: WireCounter, handed_in: Callable[[], list[Any]]
) -> tuple[list[Any], int]:
    """Hand in changes while the writer is held, then let it make them as one group:
    their answers, and the round trips the group waited for."""
    gate = _hold(writer)
    before: list[int] = []

    async def main() -> list[Any]:
        calls = [asyncio.ensure_future(call) for call in handed_in()]
        while writer.queue_depth < len(calls):
            await asyncio.sleep(0.01)
        before.append(counter.total())
        gate.set()
        return list(await asyncio.gather(*calls, return_exceptions=True))

    answers = asyncio.run(main())
    return answers, counter.total() - before[0]


def test_a_group_that_reads_then_holds_its_writes_waits_for_two_round_trips(wired_writer):
    counter, writer, engines = wired_writer
    names = [f"r{i}" for i in range(16)]
    answers, round_trips = _group(
        writer,
        counter,
        lambda: [writer.run_batched(_read_then_hold, n, _add_room(f"alone-{n}")) for n in names],
    )
    assert answers == names
    assert writer.batched == 16
    assert round_trips == 2  # BEGIN and SAVEPOINT with the read; the inserts with the COMMIT
    assert _room_names(engines) == sorted(names)


def test_the_begin_and_a_savepoint_go_with_the_first_statement_s_round_trip(wired_writer):
    counter, writer, engines = wired_writer
    answers, round_trips = _group(
        writer, counter, lambda: [writer.run(_add_room(n)) for n in ("a", "b")]
    )
    assert answers == ["a", "b"]
    # SQLAlchemy's statements are each waited for, after what was queued:
    # (BEGIN, SAVEPOINT), insert a, (RELEASE, SAVEPOINT), insert b, COMMIT.
    assert round_trips == 5
    assert _room_names(engines) == ["a", "b"]


def test_a_group_that_writes_nothing_sends_nothing(wired_writer):
    counter, writer, _ = wired_writer
    commits = writer.commits
    answers, round_trips = _group(writer, counter, lambda: [writer.run(lambda tx: "nothing")])
    assert answers == ["nothing"]
    assert writer.commits == commits + 2  # the gate's group and this one
    assert round_trips == 0


def _hold_a_duplicate(tx: Tx, names: list[str]) -> list[Any]:
    """Holds an insert that fails when sent if the room exists already."""
    pipeline.fetch(tx.conn, "SELECT 1")
    with pipeline.held(tx.conn):
        for name in names:
            pipeline.execute(tx.conn, _INSERT_ROOM, (name, name, tx.now))
    return list(names)


def _taken(engines: Any) -> None:
    with engines.write.begin() as conn:
        conn.execute(insert(rooms).values(name="taken", title="", topic="", created_at=_now()))


def test_a_held_write_failing_at_the_commit_makes_the_group_again(wired_writer):
    counter, writer, engines = wired_writer
    _taken(engines)
    # The held insert of "taken" fails when the COMMIT sends it. Made again, the
    # batch fails in its own block and each of its items is made alone; the change
    # before the batch is not blamed, and the group commits once.
    answers, _ = _group(
        writer,
        counter,
        lambda: [
            writer.run(_add_room("before")),
            writer.run_batched(_hold_a_duplicate, "fine", _add_room("fine-alone")),
            writer.run_batched(_hold_a_duplicate, "taken", _add_room("taken")),
        ],
    )
    assert answers[:2] == ["before", "fine-alone"]
    assert type(answers[2]).__name__ == "IntegrityError"
    assert _room_names(engines) == ["before", "fine-alone", "taken"]


def test_a_held_write_failing_with_a_later_change_does_not_fail_that_change(wired_writer):
    counter, writer, engines = wired_writer
    _taken(engines)
    answers, _ = _group(
        writer,
        counter,
        lambda: [
            writer.run_batched(_hold_a_duplicate, "taken", _add_room("taken")),
            writer.run(_add_room("after")),  # its statement sends the held insert
        ],
    )
    assert type(answers[0]).__name__ == "IntegrityError"
    assert answers[1] == "after"
    assert _room_names(engines) == ["after", "taken"]


def _now() -> datetime:
    return datetime.now(UTC)


@contextlib.contextmanager
def _quiet_hub(
    wire: tuple[WireCounter, str], pg_database: str, tmp_path: Any, clock: FakeClock
) -> Iterator[tuple[TestClient, Any]]:
    """A hub app on an emptied database, through the wire counter, its workers stopped
    (only what the test hands the writer is counted); its client (as admin) and state."""
    _empty_pg(pg_database)
    _, url = wire
    engines = make_engines(url)
    upgrade(engines.write)
    engines.dispose()
    app = create_app(make_settings(url, tmp_path), clock)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        state: Any = app.state
        assert client.portal is not None
        client.portal.call(state.timely_workers.stop)
        client.portal.call(state.workers.stop)
        client.portal.call(state.heartbeat.stop)
        yield client, state


@pytest.mark.parametrize("kind", ["again", "first", "scheduled"])
def test_a_group_of_pings_waits_for_two_round_trips(
    wire, pg_database, tmp_path, clock: FakeClock, kind
):
    """Pinged again (their jobs' last status stays), for the first time (each job's last
    status is written too, with the COMMIT), or on a schedule (each job's next occurrence
    too, worked out from the schedule read with the checks)."""
    first = kind != "again"
    body = {"schedule": "*/5 * * * *"} if kind == "scheduled" else {}
    counter, _ = wire
    with _quiet_hub(wire, pg_database, tmp_path, clock) as (client, state):
        assert client.portal is not None
        uuids = [
            client.put(f"/api/v1/jobs/check-{n}/schedule", json=body)
            .json()["ping_url"]
            .split("/")[-1]
            for n in range(16)
        ]
        for u in [] if first else uuids:  # each check's first ping posts its first-success card
            assert client.get(f"/ping/{u}").status_code == 200
        writer = state.hub.writer
        gate = _hold(writer)

        def release_when_all_wait() -> None:
            deadline = time.monotonic() + 30
            while writer.queue_depth < len(uuids) and time.monotonic() < deadline:
                time.sleep(0.01)
            before.extend(counter.by_connection())
            gate.set()

        async def ping_all() -> list[int]:
            return list(
                await asyncio.gather(*(state.pings.by_uuid(u, Ping("success")) for u in uuids))
            )

        before: list[int] = []
        commits = writer.commits
        threading.Thread(target=release_when_all_wait).start()
        assert client.portal.call(ping_all) == [200] * len(uuids)
        assert writer.commits == commits + 2  # the gate's group, then the pings'
        # The gate's group sent nothing; the pings': BEGIN with the checks and the
        # limit's lock, then the runs, events, buckets and last statuses with the COMMIT
        # (on the writer's connection; the live bus's tells the other nodes meanwhile).
        assert counter.most_since(before) == 2
        runs = client.get("/api/v1/jobs").json()["jobs"]
        pinged = 1 if first else 2
        assert {j["name"]: j["run_count"] for j in runs} == {
            f"check-{n}": pinged for n in range(16)
        }
        rows = client.portal.call(state.hub.writer.run, _watch_columns)
        due = parse_schedule(body["schedule"]).next_after(clock.now()) if body else None
        waiting = (due, "ok") if due else (None, None)
        assert rows == {f"check-{n}": ("succeeded", *waiting) for n in range(16)}


def _watch_columns(tx: Tx) -> dict[str, tuple[Any, ...]]:
    found = tx.conn.execute(
        select(jobs.c.name, jobs.c.last_status, jobs.c.due_at, jobs.c.schedule_state)
    )
    return {str(name): tuple(rest) for name, *rest in found}


def test_a_ping_groups_reads_and_buckets_are_planned_afresh_its_inserts_prepared(
    pg_database, tmp_path, clock
):
    """The checks' read and the limit's lock ask whether each check has an open run, and
    the limit's write-back joins the buckets: plans the driver prepared while `runs` or
    `rate_buckets` was small scan the whole table in each group until PostgreSQL's next
    analyze; planned afresh each time, they use the indexes. The inserts, whose plans do
    not depend on how many rows there are, stay prepared (psycopg prepares a statement
    on its fifth use)."""
    _empty_pg(pg_database)  # no buckets or jobs of an earlier test
    app = create_app(make_settings(pg_database, tmp_path), clock)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        state: Any = app.state
        made = [client.put(f"/api/v1/jobs/check-{n}/schedule", json={}).json() for n in range(3)]
        paths = ["/ping/" + job["ping_url"].rsplit("/", 1)[1] for job in made]
        for _ in range(8):  # one by one: each is a group of its own
            for path in paths:
                assert client.get(path).status_code == 200

        def prepared(tx: Tx) -> list[str]:
            found = tx.conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements")
            return [str(s) for s in found.scalars()]

        assert client.portal is not None
        statements = client.portal.call(state.hub.writer.run, prepared)
    assert any(s.startswith("INSERT INTO run_events") for s in statements), statements
    assert any(s.startswith("INSERT INTO runs") for s in statements), statements
    afresh = ("FROM jobs WHERE ping_uuid", "INTO rate_buckets", "UPDATE rate_buckets")
    assert not [s for s in statements if any(a in s for a in afresh)], statements


def test_the_monitor_says_a_ticks_misses_in_round_trips_that_do_not_grow_with_them(
    wire, pg_database, tmp_path, clock: FakeClock
):
    """The monitor claims the jobs a tick finds missed in one statement, and writes
    their events, reads their rooms, routes and incident rules once for them all: 24
    misses wait for as many round trips as 4 (each was about six of its own)."""
    counter, _ = wire
    with _quiet_hub(wire, pg_database, tmp_path, clock) as (client, state):
        assert client.portal is not None
        trips, said = [], []
        for count in (4, 24):
            clock.set(clock.now().replace(second=0, microsecond=0) + timedelta(minutes=10))
            for n in range(count):
                body = {"schedule": "* * * * *", "limits": {"grace": 30}}
                client.put(f"/api/v1/jobs/miss-{count}-{n}/schedule", json=body)
            clock.advance(120)  # past the first occurrence's deadline
            before = counter.by_connection()
            said.append(client.portal.call(state.monitoring.step, clock.now()))
            trips.append(counter.most_since(before))
        kinds = client.portal.call(state.hub.writer.run, _job_event_kinds)
    assert said == [4, 24]
    assert kinds == {"missed": 28}
    assert trips[0] == trips[1]


def _job_event_kinds(tx: Tx) -> dict[str, int]:
    found = tx.conn.execute(select(job_events.c.kind, func.count()).group_by(job_events.c.kind))
    return {str(kind): int(n) for kind, n in found}
