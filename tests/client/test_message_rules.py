"""Messages in rooms, in-process: `say()` and the logging handler queue what they are
given on the process's sender (an unreachable hub here, so it stays queued)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from thereyet.client import state
from thereyet.client.config import Config
from thereyet.client.handler import RoomHandler
from thereyet.client.messages import say
from thereyet.client.sender import Sender


@pytest.fixture
def queued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sender]:
    monkeypatch.setenv("THEREYET_CONFIG", str(tmp_path / "none.toml"))
    state.reset()
    state.configure(
        url="http://127.0.0.1:1", token="ty_x", spool_dir=tmp_path / "spool", exit_timeout=0
    )
    sender = state.sender()
    assert sender is not None
    sender.retry_at = float("inf")  # keep everything queued, to be read here
    yield sender
    state.reset()


def test_say_queues_a_message_for_the_cleaned_room_name(queued):
    say("Ops Room", 42)  # type: ignore[arg-type]
    [message] = list(queued.messages)
    assert (message["room"], message["text"]) == ("ops-room", "42")
    assert len(message["id"]) == 32 and "attach" not in message


def test_say_with_a_file_queues_it_with_its_type_and_an_id_of_its_own(queued, tmp_path):
    (tmp_path / "report.csv").write_text("a,b\n")
    say("ops", "the report", attach=tmp_path / "report.csv")
    [message] = list(queued.messages)
    item = message["attach"]
    assert (item["path"], item["name"], item["content_type"]) == (
        str(tmp_path / "report.csv"),
        "report.csv",
        "text/csv",
    )
    assert len(item["id"]) == 32 and item["id"] != message["id"]


def test_a_file_of_unknown_type_is_sent_as_bytes(queued, tmp_path):
    (tmp_path / "dump.qqq").write_bytes(b"\x00")
    say("ops", "the dump", attach=tmp_path / "dump.qqq")
    assert queued.messages[0]["attach"]["content_type"] == "application/octet-stream"


def test_the_process_sender_takes_over_the_spool_and_delivers_through_its_thread(
    tmp_path, monkeypatch
):
    from tests.servers import recording_server, wait_for
    from thereyet.client import spool

    monkeypatch.setenv("THEREYET_CONFIG", str(tmp_path / "none.toml"))
    with recording_server() as recorder:
        recorder.status = 201
        url = f"http://{recorder.url}"
        left = {"kind": "messages", "messages": [{"room": "ops", "text": "left", "id": "m0"}]}
        spool.write(tmp_path / "spool", url, "m-left", left)
        state.reset()
        state.configure(url=url, token="ty_x", spool_dir=tmp_path / "spool", send_interval=0.05)
        try:
            sender = state.sender()
            assert sender is not None and sender._thread is not None
            assert sender._thread.name == "thereyet-sender" and sender._thread.daemon
            say("ops", "hello")
            wait_for(lambda: len(recorder.requests) == 2, timeout=10, what="both messages")
            assert [r["json"]["text"] for r in recorder.requests] == ["left", "hello"]
            assert state.flush(5) is True
        finally:
            state.reset()
    assert list((tmp_path / "spool").iterdir()) == []


def test_say_without_a_configured_sdk_does_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("THEREYET_CONFIG", str(tmp_path / "none.toml"))
    state.reset()
    state.configure(enabled=False)
    say("ops", "nobody hears this")
    assert state.sender() is None
    state.reset()


def test_the_room_handler_sends_records_at_or_above_its_level_but_never_its_own(tmp_path):
    config = Config(url="http://127.0.0.1:1", token="ty_x", spool_dir=tmp_path)
    sender = Sender(config)
    logger = logging.getLogger("export.job")
    handler = RoomHandler("Ops Room", sender=sender)
    logger.addHandler(handler)
    try:
        logger.info("fine")
        logger.warning("disk %d%% full", 91)
        logger.error("gave up")
        for own in ("thereyet", "thereyet.agent"):  # the SDK's own: never sent (no loops)
            handler.handle(
                logging.makeLogRecord(
                    {"name": own, "msg": "hub unreachable", "levelno": 40, "levelname": "ERROR"}
                )
            )
        handler.handle(
            logging.makeLogRecord(
                {"name": "thereyetx", "msg": "not ours", "levelno": 40, "levelname": "ERROR"}
            )
        )
    finally:
        logger.removeHandler(handler)
    assert [(m["room"], m["text"]) for m in sender.messages] == [
        ("ops-room", "WARNING export.job: disk 91% full"),
        ("ops-room", "ERROR export.job: gave up"),
        ("ops-room", "ERROR thereyetx: not ours"),
    ]
    assert all(re.fullmatch("[0-9a-f]{32}", m["id"]) for m in sender.messages)


def test_the_room_handler_takes_the_process_sender_when_given_none(queued):
    handler = RoomHandler("ops", level=logging.INFO)
    handler.handle(
        logging.makeLogRecord({"name": "job", "msg": "hello", "levelno": 20, "levelname": "INFO"})
    )
    assert [m["text"] for m in queued.messages] == ["INFO job: hello"]
