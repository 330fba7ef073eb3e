"""How a run ends and what it records, in-process: a real sender holds what the run
owes the hub (its outbox), read here before anything is sent (no hub)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from thereyet.client import runs, state
from thereyet.client.config import Config
from thereyet.client.runs import Run, clean_name, current_run, error_summary, job
from thereyet.client.sender import Sender

WALL = 1_700_000_000.0


@pytest.fixture
def sender(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sender:
    monkeypatch.delenv("THEREYET_RUN_ID", raising=False)
    config = Config(url="http://127.0.0.1:1", token="ty_x", spool_dir=tmp_path / "spool")
    return Sender(config, clock=lambda: 1000.0, wall=lambda: WALL)


def _finish(sender: Sender, run: Run) -> dict[str, Any] | None:
    return sender.boxes[run.id].finish


class BadRow(Exception):
    pass


@pytest.mark.parametrize(
    ("raised", "finish"),
    [
        (None, {"status": "succeeded", "id": "finish"}),
        (SystemExit(0), {"status": "succeeded", "id": "finish", "exit_code": 0}),
        (SystemExit(None), {"status": "succeeded", "id": "finish", "exit_code": 0}),
        (SystemExit(3), {"status": "failed", "id": "finish", "exit_code": 3}),
        (SystemExit("no input"), {"status": "failed", "id": "finish", "exit_code": 1}),
        (
            KeyboardInterrupt(),
            {"status": "cancelled", "id": "finish", "error": "interrupted (KeyboardInterrupt)"},
        ),
    ],
)
def test_how_a_with_block_ends_is_how_the_run_ends(sender, raised, finish):
    run = Run("export", sender=sender)
    with pytest.raises(BaseException) if raised else contextlib.nullcontext(), run:
        assert current_run() is run
        if raised:
            raise raised
    assert current_run() is None
    assert _finish(sender, run) == finish


def test_an_exception_fails_the_run_with_its_summary_and_where_it_was_raised(sender):
    run = Run("export", sender=sender)
    with pytest.raises(BadRow), run:
        raise BadRow("row 7 has no id")
    finish = _finish(sender, run)
    assert finish is not None and finish["status"] == "failed" and "exit_code" not in finish
    head, where = finish["error"].split("\n", 1)
    assert head.endswith("BadRow: row 7 has no id")
    assert where.startswith("  at ") and "test_run_rules.py" in where
    assert "in test_an_exception_fails_the_run" in where


def test_an_error_summary_is_clipped_and_names_at_most_three_frames():
    def deep(n: int) -> None:
        if n == 0:
            raise ValueError("x" * 50)
        deep(n - 1)

    try:
        deep(5)
    except ValueError as exc:
        summary = error_summary(exc)
        clipped = error_summary(exc, limit=20)
    head, *frames = summary.split("\n")
    assert head == "ValueError: " + "x" * 50
    assert len(frames) == 3
    assert all(re.fullmatch(r"  at .+test_run_rules\.py:\d+ in deep", f) for f in frames)
    assert clipped == "ValueError: xxxxxxxx"


def test_an_error_summary_keeps_the_exceptions_notes():
    exc = BadRow("no id")
    exc.add_note("in file rows.csv")
    exc.add_note("line 7")
    assert error_summary(exc) == "test_run_rules.BadRow: no id\nin file rows.csv\nline 7"


def test_only_the_first_finish_counts(sender):
    run = Run("export", sender=sender)
    run.finish("failed", exit_code=2, error="disk full")
    run.finish("succeeded")
    run.cancel("too late")
    assert _finish(sender, run) == {
        "status": "failed",
        "id": "finish",
        "exit_code": 2,
        "error": "disk full",
    }


def test_a_cancel_says_why(sender):
    run = Run("export", sender=sender)
    run.cancel("stopped by SIGTERM")
    assert _finish(sender, run) == {
        "status": "cancelled",
        "id": "finish",
        "error": "stopped by SIGTERM",
    }


@pytest.mark.parametrize(
    ("uncaught", "status", "error"),
    [
        (None, "succeeded", None),
        (KeyboardInterrupt(), "cancelled", "interrupted (KeyboardInterrupt)"),
        (BadRow("bad"), "failed", "test_run_rules.BadRow: bad"),
    ],
)
def test_a_run_left_open_at_exit_ends_as_the_process_does(sender, uncaught, status, error):
    run = Run("export", sender=sender)
    run.finish_at_exit(uncaught)
    finish = _finish(sender, run)
    assert finish is not None and finish["status"] == status
    assert (error is None) == ("error" not in finish)
    if error is not None:
        assert finish["error"].startswith(error)
    run.finish_at_exit(BadRow("later"))
    assert _finish(sender, run) == finish


def test_a_succeeded_run_without_a_total_takes_its_count_as_total(sender):
    counted = Run("export", sender=sender)
    counted.progress(7)
    counted.finish()
    failed = Run("export", sender=sender)
    failed.progress(7)
    failed.finish("failed")
    given = Run("export", sender=sender, total=10)
    given.progress(7)
    given.finish()
    assert counted.progress_snapshot() == (7, 7, None)
    assert failed.progress_snapshot() == (7, None, None)
    assert given.progress_snapshot() == (7, 10, None)


def test_progress_keeps_the_total_and_unit_it_is_not_given(sender, caplog):
    run = Run("export", sender=sender, total=100, unit="rows")
    run.progress(5)
    run.progress(6, unit="tables")
    run.advance()
    run.advance(2.5)
    run.advance("many")  # type: ignore[arg-type]
    assert run.progress_snapshot() == (9.5, 100, "tables")
    assert caplog.messages == ["thereyet: advance() wants a number, not 'many'"]


def test_stats_are_numbers_or_short_text_with_short_names_and_units(sender):
    run = Run("export", sender=sender)
    run.stat("rows_per_s", 12.5, "rows/s")
    run.stat("flag", True)
    run.stat("broken", float("nan"))
    run.stat("huge", float("inf"))
    run.stat("phase", "p" * 300, "u" * 40)
    run.stat("n" * 70, 1)
    run.stat("", 2)
    run.stat("obj", [1, 2])  # type: ignore[arg-type]
    assert run.stats_snapshot() == {
        "rows_per_s": (12.5, "rows/s"),
        "flag": ("True", None),
        "broken": ("nan", None),
        "huge": ("inf", None),
        "phase": ("p" * 255, "u" * 32),
        "n" * 64: (1, None),
        "stat": (2, None),
        "obj": ("[1, 2]", None),
    }


def test_log_lines_and_notes_are_clipped_and_streams_checked(sender):
    run = Run("export", sender=sender)
    run.log("x" * 20_000, stream="stderr")
    run.log(42, stream="elsewhere")  # type: ignore[arg-type]
    run.note("y" * 30_000)
    events = list(sender.boxes[run.id].events)
    assert [(e["type"], e.get("stream")) for e in events] == [
        ("log", "stderr"),
        ("log", "log"),
        ("note", None),
    ]
    assert len(events[0]["text"]) == 16_000 and events[1]["text"] == "42"
    assert len(events[2]["text"]) == 20_000
    assert events[0]["ts"] == "2023-11-14T22:13:20.000Z"


def test_a_file_is_attached_by_its_absolute_path_and_guessed_type(sender, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = Run("export", sender=sender)
    run.attach("report.csv")
    run.attach("blob", name="data.bin")
    assert list(sender.boxes[run.id].attachments) == [
        {"path": str(tmp_path / "report.csv"), "name": "report.csv", "content_type": "text/csv"},
        {
            "path": str(tmp_path / "blob"),
            "name": "data.bin",
            "content_type": "application/octet-stream",
        },
    ]


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Nightly Export.py", "nightly-export.py"),
        ("--a//b__", "a-b"),
        ("x" * 70, "x" * 64),
        ("!!!", "job"),
        ("ÜBER", "ber"),
    ],
)
def test_job_and_room_names_are_made_acceptable_to_the_hub(raw, name):
    assert clean_name(raw) == name


def test_a_run_without_a_job_is_named_after_the_script(sender, monkeypatch):
    monkeypatch.setattr("sys.argv", ["/opt/jobs/Nightly Backup.py", "--full"])
    assert Run(sender=sender).job == "nightly-backup"
    monkeypatch.setattr("sys.argv", [""])
    assert Run(sender=sender).job == "python"
    monkeypatch.setattr("sys.argv", [])
    assert Run(sender=sender).job == "python"


def test_the_run_an_agent_started_is_reported_into_but_not_created_or_ended(sender, monkeypatch):
    monkeypatch.setenv("THEREYET_RUN_ID", "agent-run-1")
    monkeypatch.setattr(runs, "_inherited_taken", False)
    mine = Run("export", sender=sender)
    other = Run("export", sender=sender)
    assert mine.id == "agent-run-1" and other.id != "agent-run-1"
    assert sender.boxes["agent-run-1"].create is None
    assert sender.boxes[other.id].create is not None
    mine.finish("failed")
    assert mine.finished and sender.boxes["agent-run-1"].finish is None  # the agent ends it


def test_a_run_given_an_id_is_created_with_it_and_its_room_and_unit(sender):
    run = Run("export", sender=sender, id="r-42", room="Ops Room", unit="u" * 40, total=5)
    create = sender.boxes["r-42"].create
    assert create is not None
    assert (create["id"], create["room"], create["unit"], create["total"]) == (
        "r-42",
        "ops-room",
        "u" * 32,
        5,
    )
    assert create["started_at"] == "2023-11-14T22:13:20.000Z" and run.id == "r-42"


def test_a_run_takes_the_configured_room_when_given_none(tmp_path, monkeypatch):
    monkeypatch.delenv("THEREYET_RUN_ID", raising=False)
    config = Config(url="http://127.0.0.1:1", token="ty_x", room="Migration", spool_dir=tmp_path)
    sender = Sender(config)
    run = Run("export", sender=sender)
    create = sender.boxes[run.id].create
    assert create is not None and create["room"] == "migration"
    bare = Sender(Config(url="http://127.0.0.1:1", token="ty_x", spool_dir=tmp_path))
    create = bare.boxes[Run("export", sender=bare).id].create
    assert create is not None and "room" not in create and "total" not in create


def test_track_counts_a_list_and_a_generator_and_ends_its_run(sender):
    inner = Run("export", sender=sender)
    with inner:
        assert list(inner.track([1, 2, 3])) == [1, 2, 3]
        assert inner.progress_snapshot() == (3, 3, None)
        assert list(inner.track(x for x in range(4))) == [0, 1, 2, 3]
        assert inner.progress_snapshot() == (7, 3, None)
    assert _finish(sender, inner) == {"status": "succeeded", "id": "finish"}
    whole = Run("import", sender=sender)
    for _ in whole._track(range(5), None, finish=True):
        pass
    assert whole.finished and whole.progress_snapshot() == (5, 5, None)
    assert _finish(sender, whole) == {"status": "succeeded", "id": "finish"}


def test_track_inside_a_run_keeps_its_total_and_leaves_it_open(sender):
    run = Run("export", sender=sender, total=100)
    assert list(run.track([])) == []
    assert run.progress_snapshot() == (0, 100, None)
    assert list(run.track(iter([1, 2]), total=10)) == [1, 2]
    assert run.progress_snapshot() == (2, 100, None)
    assert not run.finished
    open_ended = Run("export", sender=sender)
    assert list(open_ended.track((x for x in "ab"), total=10)) == ["a", "b"]
    assert open_ended.progress_snapshot() == (2, 10, None) and not open_ended.finished


def test_a_track_loop_left_early_is_finished_only_after_the_grace(sender):
    run = Run("export", sender=sender)
    for i in run._track(range(100), None, finish=True):
        if i == 41:
            break
    assert run.progress_snapshot()[0] == 42 and not run.finished
    run.expire(1004.9, grace=5.0)
    assert not run.finished
    run.expire(1005.0, grace=5.0)
    assert run.finished and _finish(sender, run) == {"status": "succeeded", "id": "finish"}


@pytest.fixture
def process_sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process-wide SDK set in code for an unreachable hub; it keeps what it is given."""
    monkeypatch.delenv("THEREYET_RUN_ID", raising=False)
    monkeypatch.setenv("THEREYET_CONFIG", str(tmp_path / "none.toml"))
    state.reset()
    state.configure(
        url="http://127.0.0.1:1", token="ty_x", spool_dir=tmp_path / "spool", exit_timeout=0
    )
    yield
    state.reset()


def test_the_job_decorator_makes_each_call_a_run(process_sdk):
    @job
    def nightly_backup(n: int) -> int:
        return n * 2

    @job("custom-name", room="ops")
    def failing() -> None:
        raise BadRow("nope")

    assert nightly_backup(21) == 42
    with pytest.raises(BadRow):
        failing()
    sender = state.sender()
    assert sender is not None
    made = [box.create for box in sender.boxes.values()]
    assert [(c or {}).get("job") for c in made] == ["nightly_backup", "custom-name"]
    assert [(c or {}).get("room") for c in made] == [None, "ops"]
    finishes = [box.finish for box in sender.boxes.values()]
    assert [(f or {}).get("status") for f in finishes] == ["succeeded", "failed"]


def test_without_a_sender_a_run_does_nothing(process_sdk):
    state.configure(enabled=False)
    assert state.sender() is None
    run = Run("export")
    run.log("x")
    run.note("y")
    run.progress(3)
    run.attach("x.txt")
    run.finish()
    assert run.finished and list(run.track([1, 2])) == [1, 2]


def test_an_async_job_is_a_run_while_it_is_awaited(process_sdk):
    import asyncio

    @job
    async def fetch() -> Run | None:
        await asyncio.sleep(0)
        return current_run()

    inside = asyncio.run(fetch())
    assert inside is not None and inside.job == "fetch" and inside.finished
