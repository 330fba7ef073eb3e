"""A kept-alive connection the hub closed while idle is no outage: the client sends
again on a fresh one, and warns only about real failures, at most once a minute."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from tests.conftest import ADMIN_TOKEN, make_settings, migrated_sqlite
from tests.servers import RestartableServer, free_port
from thereyet.client.config import Config
from thereyet.client.runs import Run
from thereyet.client.sender import Sender
from thereyet.client.transport import Transport, path
from thereyet.server.app import create_app

KEEP_ALIVE = 1  # seconds the hub keeps an idle connection open


@pytest.fixture
def quick_closing_hub(tmp_path) -> Iterator[str]:
    """A real hub that closes connections idle for more than KEEP_ALIVE seconds."""
    settings = make_settings(migrated_sqlite(tmp_path / "hub.db"), tmp_path / "hub")
    served = RestartableServer(lambda: create_app(settings), timeout_keep_alive=KEEP_ALIVE)
    served.start()
    try:
        yield served.url
    finally:
        served.stop()


def _wait_until_the_hub_closed_the_idle_connection() -> None:
    time.sleep(KEEP_ALIVE + 0.5)  # a real server's idle timeout: real time has to pass


def test_a_call_after_the_hub_closed_the_idle_connection_succeeds(quick_closing_hub):
    transport = Transport(quick_closing_hub, ADMIN_TOKEN)
    assert transport.call("GET", path("me")).status == 200
    first = transport._conn
    _wait_until_the_hub_closed_the_idle_connection()
    assert transport.call("POST", path("runs"), {"job": "slow-printer"}).status == 201
    assert transport._conn is not first  # answered on a fresh connection
    transport.close()


def test_a_job_printing_less_often_than_the_keep_alive_gets_no_unreachable_warnings(
    quick_closing_hub, tmp_path, caplog
):
    config = Config(url=quick_closing_hub, token=ADMIN_TOKEN, spool_dir=tmp_path / "spool")
    sender = Sender(config)
    run = Run("slow-printer", sender=sender)
    caplog.set_level(logging.WARNING, logger="thereyet")
    for line in range(3):
        run.log(f"line {line}")
        sender.step(time.monotonic())
        _wait_until_the_hub_closed_the_idle_connection()
    run.finish()
    assert sender.close(5)
    assert [r.getMessage() for r in caplog.records] == []
    assert sender.failures == 0


def test_the_hub_answering_again_is_told_only_after_an_outage_was_warned_about(
    quick_closing_hub, tmp_path, caplog
):
    config = Config(url=quick_closing_hub, token=ADMIN_TOKEN, spool_dir=tmp_path / "spool")
    sender = Sender(config)
    caplog.set_level(logging.WARNING, logger="thereyet")
    run = Run("recovering", sender=sender)
    real = sender.transport
    sender.transport = Transport(f"http://127.0.0.1:{free_port()}", ADMIN_TOKEN)
    sender.step(1000.0)
    sender.transport = real
    sender.retry_at = float("-inf")
    run.log("back")
    sender.step(1001.0)
    assert [r.getMessage().split(";")[-1].strip() for r in caplog.records] == [
        "will keep trying, then spool to disk",
        "reports resume",
    ]
    run.finish()
    assert sender.close(5)
