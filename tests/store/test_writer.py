"""The single writer: group commit, one savepoint per change, answers after commit."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from tests.conftest import _empty_pg
from thereyet.server.clock import FakeClock
from thereyet.server.store.engine import make_engines
from thereyet.server.store.migrate import upgrade
from thereyet.server.store.tables import rooms
from thereyet.server.store.writer import ALONE, Tx, Writer, WriterStopped


@pytest.fixture
def engines(db_url):
    engines = make_engines(db_url)
    upgrade(engines.write)
    yield engines
    engines.dispose()


@pytest.fixture
def writer(engines, clock: FakeClock):
    writer = Writer(engines.write, clock.now)
    yield writer
    writer.stop()


def add_room(name: str):
    def write(tx: Tx) -> str:
        tx.conn.execute(insert(rooms).values(name=name, title=name, topic="", created_at=tx.now))
        return name

    return write


def room_names(engines) -> list[str]:
    with engines.read.connect() as conn:
        return sorted(conn.execute(select(rooms.c.name)).scalars())


def test_pending_changes_are_committed_together(writer, engines):
    futures = [writer.submit(add_room(f"r{i}")) for i in range(50)]
    writer.start()
    assert [f.result(10) for f in futures] == [f"r{i}" for i in range(50)]
    assert writer.commits == 1
    assert len(room_names(engines)) == 50


def half_written_then_refused(tx: Tx) -> None:
    add_room("half-written")(tx)
    raise ValueError("refused")


def test_a_failing_change_is_rolled_back_alone(writer, engines):
    ok1 = writer.submit(add_room("before"))
    bad = writer.submit(half_written_then_refused)
    ok2 = writer.submit(add_room("after"))
    writer.start()
    assert ok1.result(10) == "before" and ok2.result(10) == "after"
    with pytest.raises(ValueError, match="refused"):
        bad.result(10)
    assert room_names(engines) == ["after", "before"]
    assert writer.commits == 1


def test_the_last_change_of_a_group_is_rolled_back_when_it_fails(writer, engines):
    # A change's savepoint is released or rolled back to only when the next change
    # opens its own (_Savepoints): the group's last one is undone before the commit.
    ok = writer.submit(add_room("before"))
    bad = writer.submit(half_written_then_refused)
    writer.start()
    assert ok.result(10) == "before"
    with pytest.raises(ValueError, match="refused"):
        bad.result(10)
    assert room_names(engines) == ["before"]
    assert writer.commits == 1


def test_a_caller_is_answered_only_after_its_change_is_visible_to_readers(writer, engines):
    writer.start()
    seen: list[int] = []

    def check() -> None:
        writer.run_sync(add_room("visible"))
        with engines.read.connect() as conn:
            seen.append(conn.execute(select(func.count()).select_from(rooms)).scalar_one())

    thread = threading.Thread(target=check)
    thread.start()
    thread.join(10)
    assert seen == [1]


def test_after_commit_hooks_run_only_for_committed_changes(writer):
    ran: list[str] = []

    def good(tx: Tx) -> None:
        tx.after_commit(lambda: ran.append("good"))

    def bad(tx: Tx) -> None:
        tx.after_commit(lambda: ran.append("bad"))
        raise RuntimeError("no")

    futures = [writer.submit(good), writer.submit(bad)]
    writer.start()
    futures[0].result(10)
    with pytest.raises(RuntimeError):
        futures[1].result(10)
    assert ran == ["good"]


def test_a_stopped_writer_finishes_handed_in_work_and_refuses_more(writer, engines):
    future = writer.submit(add_room("last"))
    writer.start()
    writer.stop()
    assert future.result(1) == "last"
    with pytest.raises(WriterStopped):
        writer.submit(add_room("too-late"))


async def test_async_callers_await_the_commit(writer, engines):
    writer.start()
    assert await writer.run(add_room("awaited")) == "awaited"
    assert room_names(engines) == ["awaited"]


def test_batched_changes_are_made_together_and_left_ones_alone(writer, engines):
    def handler(tx: Tx, items: list[str]) -> list[object]:
        return [add_room(name)(tx) if not name.startswith("odd") else ALONE for name in items]

    async def main() -> list[str]:
        names = ["b1", "odd", "b2"]
        tasks = [
            asyncio.create_task(writer.run_batched(handler, n, add_room(f"{n}-alone")))
            for n in names
        ]
        await asyncio.sleep(0)  # each task hands its change in; then the writer starts
        writer.start()
        return list(await asyncio.gather(*tasks))

    assert asyncio.run(main()) == ["b1", "odd-alone", "b2"]
    assert writer.commits == 1 and writer.batched == 2
    assert room_names(engines) == ["b1", "b2", "odd-alone"]


def test_a_lone_batched_change_is_still_made_by_its_handler(writer, engines):
    """A change with nobody to share its group with goes through its handler too: the
    handler is the cheaper way even for one (a ping alone costs twice the statements)."""
    seen: list[list[str]] = []

    def handler(tx: Tx, items: list[str]) -> list[object]:
        seen.append(items)
        return [add_room(name)(tx) for name in items]

    async def main() -> str:
        writer.start()
        return await writer.run_batched(handler, "only", add_room("only-alone"))

    assert asyncio.run(main()) == "only"
    assert seen == [["only"]] and writer.batched == 1
    assert room_names(engines) == ["only"]


def test_a_batch_may_refuse_an_item_with_an_error_and_record_the_others(writer, engines):
    def handler(tx: Tx, items: list[str]) -> list[object]:
        return [LookupError(n) if n == "refused" else add_room(n)(tx) for n in items]

    async def main() -> list[object]:
        tasks = [
            asyncio.create_task(writer.run_batched(handler, n, add_room(f"{n}-alone")))
            for n in ("b1", "refused", "b2")
        ]
        await asyncio.sleep(0)
        writer.start()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    first, refused, last = asyncio.run(main())
    assert (first, last) == ("b1", "b2")
    assert isinstance(refused, LookupError) and refused.args == ("refused",)
    assert room_names(engines) == ["b1", "b2"]  # the refused item was not made alone


def test_a_failing_batch_is_rolled_back_and_made_one_by_one(writer, engines):
    def handler(tx: Tx, items: list[str]) -> list[object]:
        for name in items:
            add_room(f"{name}-half-written")(tx)
        raise RuntimeError("the batch breaks")

    async def main() -> list[str]:
        tasks = [asyncio.create_task(writer.run_batched(handler, n, add_room(n))) for n in "abc"]
        await asyncio.sleep(0)
        writer.start()
        return list(await asyncio.gather(*tasks))

    assert asyncio.run(main()) == ["a", "b", "c"]
    assert writer.batched == 0
    assert room_names(engines) == ["a", "b", "c"]


@pytest.mark.postgres
def test_a_group_is_made_again_when_the_database_dropped_the_connection(pg_database):
    engines = make_engines(pg_database)
    upgrade(engines.write)
    writer = Writer(engines.write, lambda: datetime.now(UTC))
    writer.start()
    try:
        pid = writer.run_sync(
            lambda tx: tx.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        )
        with engines.read.connect() as conn:  # what a database restart does to it
            conn.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,))
        assert writer.run_sync(add_room("after-the-drop")) == "after-the-drop"
        assert "after-the-drop" in room_names(engines)
    finally:
        writer.stop()
        engines.dispose()


REFUSE_AT_COMMIT = """
CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.name = 'poison' THEN RAISE EXCEPTION 'poison refused at commit'; END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER refuse_poison AFTER INSERT ON rooms
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_poison();
"""


@pytest.mark.postgres
def test_a_failed_group_commit_answers_every_waiter_with_the_error(pg_database):
    """Each change passes its savepoint, but the commit fails (a deferred constraint):
    nothing of the group is durable, so every caller in it is told, none told success."""
    engines = make_engines(pg_database)
    upgrade(engines.write)
    _empty_pg(pg_database)
    with engines.write.begin() as conn:
        conn.exec_driver_sql(REFUSE_AT_COMMIT)
    writer = Writer(engines.write, lambda: datetime.now(UTC))
    try:
        futures = [writer.submit(add_room(n)) for n in ("a", "poison", "b")]
        writer.start()
        for future in futures:
            with pytest.raises(Exception, match="poison refused at commit"):
                future.result(10)
        assert writer.commits == 0 and room_names(engines) == []
        # The writer goes on, on a new connection: the next group commits.
        assert writer.run_sync(add_room("next")) == "next"
        assert room_names(engines) == ["next"]
    finally:
        writer.stop()
        with engines.write.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER refuse_poison ON rooms")
            conn.exec_driver_sql("DROP FUNCTION refuse_poison()")
        engines.dispose()
