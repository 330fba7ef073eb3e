"""What the SDK does with each kind of answer: it tries again after network trouble,
408, 429 and 5xx (waiting at least as long as `Retry-After` asks), and drops for good
what the hub refuses (401, 403, 404, 422), with a warning, never retrying it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers import Recorder, recording_server
from thereyet.client.config import Config
from thereyet.client.sender import Backoff, Sender


def _sender(recorder: Recorder, tmp_path: Path) -> Sender:
    config = Config(url=f"http://{recorder.url}", token="ty_x", spool_dir=tmp_path)
    # No jitter: the delay is exactly the doubling step (0.5 s after one failure).
    return Sender(config, backoff=Backoff(rand=lambda: 1.0))


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_a_retryable_answer_is_sent_again_no_sooner_than_retry_after(status, tmp_path):
    with recording_server() as recorder:
        sender = _sender(recorder, tmp_path)
        sender.post_message("ops", "hello", "m1")
        recorder.status, recorder.headers = status, {"Retry-After": "30"}
        sender.step(now=100.0)
        assert len(recorder.requests) == 1 and sender.pending
        assert sender.retry_at == pytest.approx(130.0)

        recorder.status, recorder.headers = 201, {}
        sender.step(now=129.0)  # still inside Retry-After: nothing is tried
        assert len(recorder.requests) == 1

        sender.step(now=130.0)
        assert [r["answered"] for r in recorder.requests] == [status, 201]
        assert recorder.requests[1]["json"] == {"text": "hello", "id": "m1"}
        assert not sender.pending and sender.refused == 0


def test_without_retry_after_the_next_try_follows_the_backoff(tmp_path):
    with recording_server() as recorder:
        sender = _sender(recorder, tmp_path)
        sender.post_message("ops", "hello", "m1")
        recorder.status = 503
        sender.step(now=100.0)
        sender.step(now=100.5)
        assert sender.retry_at == pytest.approx(101.5)  # 0.5 s, then 1 s: doubling
        assert len(recorder.requests) == 2


@pytest.mark.parametrize("status", [401, 403, 404, 422])
def test_a_refused_run_is_dropped_with_a_warning_and_never_retried(status, tmp_path, caplog):
    with recording_server() as recorder:
        sender = _sender(recorder, tmp_path)
        sender.outbox("r1", {"id": "r1", "job": "export"})
        recorder.status = status
        sender.step(now=100.0)
        for later in (101.0, 200.0, 10_000.0):
            sender.step(now=later)
        assert [r["path"] for r in recorder.requests] == ["/api/v1/runs"]
        assert sender.refused == 1 and not sender.pending
        assert f"hub answered {status}" in caplog.text and "dropping it" in caplog.text


@pytest.mark.parametrize("status", [401, 403, 422])
def test_a_refused_message_is_dropped_and_the_next_one_still_goes(status, tmp_path):
    with recording_server() as recorder:
        sender = _sender(recorder, tmp_path)
        sender.post_message("ops", "refused", "m1")
        recorder.status = status
        sender.step(now=100.0)
        recorder.status = 201
        sender.post_message("ops", "accepted", "m2")
        sender.step(now=100.1)
        assert [r["json"]["id"] for r in recorder.requests] == ["m1", "m2"]
        assert sender.refused == 1 and not sender.pending
