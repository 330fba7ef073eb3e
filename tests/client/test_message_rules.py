"""Messages in rooms, in-process: `say()` and the logging handler queue what they are
given on the process's sender (an unreachable hub here, so it stays queued)."""

from __future__ import annotations

import logging
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
        logging.getLogger("thereyet").error("hub unreachable")
        logging.getLogger("thereyet.agent").error("agent trouble")
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


def test_the_room_handler_takes_the_process_sender_when_given_none(queued):
    handler = RoomHandler("ops", level=logging.INFO)
    handler.handle(
        logging.makeLogRecord({"name": "job", "msg": "hello", "levelno": 20, "levelname": "INFO"})
    )
    assert [m["text"] for m in queued.messages] == ["INFO job: hello"]
