"""How `thereyet run` reads progress from a command's output and ends its run,
in-process with real commands (no hub): the shapes of a line it understands, what
it leaves alone, and the run's status from the command's exit."""

from __future__ import annotations

import io
import signal
import sys
from collections import deque
from pathlib import Path

import pytest

from thereyet.client.command import Launch, Output, Reading, read_line, run_command
from thereyet.client.config import Config
from thereyet.client.runs import Run
from thereyet.client.sender import Sender


@pytest.mark.parametrize(
    ("line", "reading"),
    [
        ("copied 420/1000 files", Reading(done=420, total=1000)),
        ("  42%|####      | 420/1000 [00:01<00:02]", Reading(done=420, total=1000)),
        ("progress: 42.5 %", Reading(done=42.5, total=100, unit="%")),
        ('{"progress": 0.42}', Reading(done=42.0, total=100, unit="%")),
        ('{"done": 7, "total": 9, "unit": "tables"}', Reading(done=7, total=9, unit="tables")),
        ('{"note": "batch 2"}', Reading(note="batch 2")),
        ("date 2026/11/22 at 10:00", None),
        ("1000/10 is not progress", None),
        ("hello world", None),
        ('{"progress": 4.2}', None),
    ],
)
def test_progress_is_read_from_common_output_shapes(line, reading):
    assert read_line(line) == reading


@pytest.mark.parametrize(
    ("line", "reading"),
    [
        ("100%", Reading(done=100, total=100, unit="%")),
        ("150% done, then 30%", Reading(done=30, total=100, unit="%")),
        ("0/0", None),
        ("3/5 then 4/5", Reading(done=4, total=5)),
        ("  7 / 9  ", Reading(done=7, total=9)),
        ("version 1.2.3/4", None),
        ('{"progress": 1}', Reading(done=100, total=100, unit="%")),
        ('{"progress": true}', None),
        ('{"progress": -0.1}', None),
        ('{"done": 3}', Reading(done=3)),
        ('{"done": -1, "total": 5}', None),
        ('{"done": true}', None),
        ('{"done": 2, "total": "many", "unit": 5}', Reading(done=2)),
        (
            '{"done": 2, "note": "n", "stats": {"rate": 5, "ok": true, "tag": "a"}}',
            Reading(done=2, note="n", stats=(("rate", 5), ("tag", "a"))),
        ),
        ('{"stats": {"rate": 1.5}}', Reading(stats=(("rate", 1.5),))),
        ('{"note": 7}', None),
        ("[1, 2]", None),
        ('{"a": 1} 50%', Reading(done=50, total=100, unit="%")),
        ("{not json} 2/4", Reading(done=2, total=4)),
        ("0/5 files", Reading(done=0, total=5)),
        ("5/5 files", Reading(done=5, total=5)),
        ("1/1", Reading(done=1, total=1)),
        ("0.5/1", Reading(done=0.5, total=1)),
        ("101%", None),
        ("0%", Reading(done=0, total=100, unit="%")),
        ('{"progress": 0}', Reading(done=0, total=100, unit="%")),
        ('{"progress": 1.5}', None),
        ('{"progress": 0.1234567}', Reading(done=12.3457, total=100, unit="%")),
        (
            '{"progress": 0.5, "note": "n", "stats": {"a": 1}}',
            Reading(done=50, total=100, unit="%", note="n", stats=(("a", 1),)),
        ),
        ('{"done": 0, "total": 3}', Reading(done=0, total=3)),
        ('{"done": 0.5}', Reading(done=0.5)),
    ],
)
def test_the_edges_of_what_a_line_says(line, reading):
    assert read_line(line) == reading


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.delenv("THEREYET_RUN_ID", raising=False)
    config = Config(url="http://127.0.0.1:1", token="ty_x", spool_dir=tmp_path / "spool")
    return Run("cmd", sender=Sender(config))


def _logged(run: Run) -> list[tuple[str, str]]:
    box = run._box
    assert box is not None
    return [(e["stream"], e["text"]) for e in box.events if e["type"] == "log"]


def test_a_carriage_return_updates_progress_without_a_log_line(run):
    tail: deque[str] = deque(maxlen=5)
    out = Output(run, "stdout", tail)
    out.feed(b"10/100\r20/1")
    assert run.progress_snapshot() == (10, 100, None)
    out.feed(b"00\rcopied 30/100 rows\nhalf a li")
    assert run.progress_snapshot() == (30, 100, None)
    assert _logged(run) == [("stdout", "copied 30/100 rows")]
    out.feed(b"ne\r\n\n   \n")
    out.feed(b"unfinished")
    out.close()
    out.close()
    assert _logged(run) == [
        ("stdout", "copied 30/100 rows"),
        ("stdout", "half a line"),
        ("stdout", "unfinished"),
    ]
    assert list(tail) == ["copied 30/100 rows", "half a line", "unfinished"]


def test_a_json_line_gives_notes_and_stats_and_bad_bytes_are_replaced(run):
    out = Output(run, "stderr", deque())
    out.feed(b'{"done": 4, "total": 8, "unit": "tables", "note": "phase 2", "stats": {"r": 3}}\n')
    out.feed(b"caf\xe9\n")
    assert run.progress_snapshot() == (4, 8, "tables")
    assert run.stats_snapshot() == {"r": (3, None)}
    box = run._box
    assert box is not None
    assert [e["text"] for e in box.events if e["type"] == "note"] == ["phase 2"]
    assert _logged(run)[-1] == ("stderr", "caf\ufffd")


def _command(run: Run, script: str, **launch: object) -> tuple[int, dict[str, object] | None]:
    out, err = io.BytesIO(), io.BytesIO()
    code = run_command(["sh", "-c", script], run, stdout=out, stderr=err, how=Launch(**launch))
    box = run._box
    assert box is not None
    return code, box.finish


def test_a_command_that_succeeds_succeeds_the_run(run):
    code, finish = _command(run, "echo 3/4")
    assert code == 0 and finish == {"status": "succeeded", "id": "finish", "exit_code": 0}
    assert run.progress_snapshot() == (3, 4, None)


def test_a_command_that_fails_fails_the_run_with_its_code_and_last_lines(run):
    code, finish = _command(run, "echo one; echo two >&2; exit 3")
    assert code == 3
    assert finish is not None and (finish["status"], finish["exit_code"]) == ("failed", 3)
    assert finish["error"].startswith("exit code 3\n")
    assert sorted(finish["error"].split("\n")[1:]) == ["one", "two"]


def test_the_tail_holds_the_last_twenty_lines(run):
    code, finish = _command(run, "for i in $(seq 1 30); do echo line $i; done; exit 1")
    assert code == 1 and finish is not None
    assert finish["error"].split("\n")[1:] == [f"line {i}" for i in range(11, 31)]


def test_a_command_killed_by_a_signal_exits_128_plus_it(run):
    code, finish = _command(run, "kill -KILL $$")
    assert code == 137 and finish is not None
    assert (finish["status"], finish["exit_code"]) == ("failed", 137)
    assert finish["error"] == "killed by SIGKILL"


def test_a_command_stopped_by_sigterm_was_cancelled(run):
    code, finish = _command(run, "kill -TERM $$")
    assert code == 143 and finish is not None
    assert (finish["status"], finish["error"]) == ("cancelled", "killed by SIGTERM")


def test_a_command_that_exits_after_a_signal_sent_to_it_was_cancelled(run):
    code, finish = _command(run, "exit 5", received=[signal.SIGHUP])
    assert code == 5 and finish is not None
    assert (finish["status"], finish["exit_code"]) == ("cancelled", 5)


def test_a_command_that_cannot_start_fails_with_127(run, capsys):
    code = run_command(["/nonexistent/tool"], run)
    box = run._box
    assert box is not None and box.finish is not None
    assert code == 127 and box.finish["exit_code"] == 127 and box.finish["status"] == "failed"
    assert box.finish["error"].startswith("cannot start /nonexistent/tool: ")
    assert "thereyet: cannot start /nonexistent/tool" in capsys.readouterr().err


def test_a_command_runs_where_and_with_what_it_is_told(run, tmp_path):
    out = io.BytesIO()
    how = Launch(cwd=str(tmp_path), env={"GREETING": "hi", "PATH": "/usr/bin:/bin"}, shell=True)  # noqa: S604
    code = run_command(['echo "$GREETING from $(pwd)"'], run, stdout=out, how=how)
    assert code == 0 and out.getvalue() == f"hi from {tmp_path}\n".encode()


def test_each_stream_is_logged_as_itself_and_passed_to_its_own_sink(run):
    out, err = io.BytesIO(), io.BytesIO()
    code = run_command(["sh", "-c", "echo out; echo err >&2"], run, stdout=out, stderr=err)
    assert code == 0 and (out.getvalue(), err.getvalue()) == (b"out\n", b"err\n")
    assert sorted(_logged(run)) == [("stderr", "err"), ("stdout", "out")]


def test_a_command_in_a_group_of_its_own_has_its_own_session_and_no_input(run):
    check = "import os, sys; print(os.getsid(0) == os.getpid(), sys.stdin.read() == '')"
    out = io.BytesIO()
    run_command([sys.executable, "-c", check], run, stdout=out, how=Launch(own_group=True))
    assert out.getvalue() == b"True True\n"
    out = io.BytesIO()
    run_command(
        [sys.executable, "-c", "import os; print(os.getsid(0) == os.getpid())"], run, stdout=out
    )
    assert out.getvalue() == b"False\n"


def test_a_hangup_sent_to_us_is_passed_on_and_the_run_cancelled(run):
    before = signal.getsignal(signal.SIGHUP)
    assert before == signal.SIG_DFL
    # The command waits until we catch SIGHUP (its bit in our SigCgt mask), hangs us up
    # and waits: we must pass the signal on to end it.
    script = (
        "until [ $(( 0x$(awk '/^SigCgt/ {print $2}' /proc/$PPID/status) & 1 )) = 1 ]; "
        "do sleep 0.01; done; kill -HUP $PPID; exec sleep 30"
    )
    code, finish = _command(run, script)
    assert code == 129 and finish is not None
    assert (finish["status"], finish["exit_code"]) == ("cancelled", 129)
    assert signal.getsignal(signal.SIGHUP) == before
