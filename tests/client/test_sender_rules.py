"""The sender's rules, driven step by step with a fake clock against a recording HTTP
server or an unreachable port (no hub): backoff, warnings, and the spool."""

from __future__ import annotations

import dataclasses
import logging

from tests.conftest import ADMIN_TOKEN
from tests.servers import free_port
from thereyet.client.config import Config
from thereyet.client.runs import Run
from thereyet.client.sender import Backoff, Sender


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _dead_config(tmp_path):
    return Config(
        url=f"http://127.0.0.1:{free_port()}",
        token="ty_nobody",
        spool_dir=tmp_path / "spool",
        timeout=1.0,
    )


def test_an_unreachable_hub_is_retried_with_growing_capped_delays(tmp_path):
    clock = Clock()
    config = dataclasses.replace(_dead_config(tmp_path), progress_interval=1.0)
    sender = Sender(config, clock=clock, backoff=Backoff(base=0.5, cap=2.0, rand=lambda: 1.0))
    Run("nobody-home", sender=sender)
    tried = []
    for _ in range(80):
        before = sender.attempts
        sender.step(clock.now)
        if sender.attempts > before:
            tried.append(round(clock.now - 1000, 1))
        clock.now += 0.1
    assert tried == [0.0, 0.5, 1.5, 3.5, 5.5, 7.5]
    assert sender.pending
    assert sender.spool_rest() == 1


def test_a_real_outage_is_warned_about_at_most_once_a_minute(tmp_path, caplog):
    clock = [1000.0]
    config = Config(
        url=f"http://127.0.0.1:{free_port()}", token=ADMIN_TOKEN, spool_dir=tmp_path / "spool"
    )
    sender = Sender(config, clock=lambda: clock[0])
    Run("nobody-home", sender=sender)
    caplog.set_level(logging.WARNING, logger="thereyet")
    warned_at = []
    for _second in range(150):
        before = len(caplog.records)
        sender.retry_at = float("-inf")  # try every second, whatever the backoff says
        sender.step(clock[0])
        if len(caplog.records) > before:
            warned_at.append(clock[0] - 1000)
        clock[0] += 1
    assert warned_at == [0, 60, 120]
    assert "hub unreachable" in caplog.records[0].getMessage()
    assert "Connection refused" in (sender.last_error or "")
    sender.spool_rest()
