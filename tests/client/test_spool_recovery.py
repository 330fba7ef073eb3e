"""The spool on disk: a file claimed by a process that died is taken over, a file
claimed by a live process is left alone, and a corrupt file is set aside (never
retried, never blocking the others)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from thereyet.client import spool

HUB = "http://127.0.0.1:1"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _claimed_by(directory: Path, pid: int, name: str) -> Path:
    written = spool.write(directory, HUB, name, {"kind": "messages", "messages": []})
    claimed = directory / f"{name}.json.{pid}.claimed"
    os.rename(written, claimed)
    return claimed


def test_a_file_claimed_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    _claimed_by(tmp_path, _dead_pid(), "run-1")
    [(path, payload)] = spool.claim(tmp_path, HUB)
    assert path.name == f"run-1.json.{os.getpid()}.claimed"
    assert payload["kind"] == "messages"


# A live process that holds every signal pending (blocked), so a test can read whether
# one was sent to it: /proc/PID/status lists them in SigPnd and ShdPnd.
HOLDS_SIGNALS = (
    "import signal, sys, time\n"
    "signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals) - {signal.SIGKILL, signal.SIGSTOP})\n"
    "print('ready', flush=True)\n"
    "time.sleep(30)\n"
)


def _pending_signals(pid: int) -> int:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["SigPnd"], 16) | int(fields["ShdPnd"], 16)


def test_a_file_claimed_by_a_live_process_is_left_to_it(tmp_path: Path) -> None:
    alive = subprocess.Popen([sys.executable, "-c", HOLDS_SIGNALS], stdout=subprocess.PIPE)
    try:
        assert alive.stdout is not None and alive.stdout.readline() == b"ready\n"
        claimed = _claimed_by(tmp_path, alive.pid, "run-2")
        assert spool.claim(tmp_path, HUB) == []
        assert claimed.exists()
        assert _pending_signals(alive.pid) == 0  # asked whether it lives, never signalled
    finally:
        alive.kill()
        alive.wait()
        if alive.stdout is not None:
            alive.stdout.close()


def test_a_corrupt_file_is_set_aside_and_the_others_are_still_taken(tmp_path: Path) -> None:
    (tmp_path / "broken-run.json").write_text('{"v": 1, "hub": "http://127.0.0.1:1", "ki')
    spool.write(tmp_path, HUB, "good-run", {"kind": "messages", "messages": [{"text": "hi"}]})
    taken = spool.claim(tmp_path, HUB)
    assert [payload["messages"] for _, payload in taken] == [[{"text": "hi"}]]
    assert (tmp_path / "broken-run.broken").exists()
    assert spool.claim(tmp_path, HUB) == []  # the broken file is not tried again


def test_another_hubs_files_are_left_for_it(tmp_path: Path) -> None:
    spool.write(tmp_path, "http://other:8480", "theirs", {"kind": "messages", "messages": []})
    assert spool.claim(tmp_path, HUB) == []
    assert json.loads((tmp_path / "theirs.json").read_text())["hub"] == "http://other:8480"
