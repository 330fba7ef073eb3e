"""`thereyet run -- CMD`: run a command as a run of a job.

The command's output passes through untouched; complete lines also go to the
run's log, and progress is read from them: `42%`, `420/1000`, or a one-line
JSON object such as {"progress": 0.42} or {"done": 420, "total": 1000}.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from .runs import Run, Status

TAIL_LINES = 20
_FRACTION = re.compile(r"(?<![\d./])(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)(?![\d./])")
_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s?%")


@dataclass(frozen=True)
class Reading:
    """What one output line says about the run."""

    done: float | None = None
    total: float | None = None
    unit: str | None = None
    note: str | None = None
    stats: tuple[tuple[str, Any], ...] = ()


def read_line(line: str) -> Reading | None:
    """Progress (or a note, or stats) said by one line of output, if any."""
    text = line.strip()
    if text.startswith("{") and text.endswith("}"):
        found = _read_json(text)
        if found is not None:
            return found
    fractions = [
        (float(a), float(b)) for a, b in _FRACTION.findall(text) if 0 <= float(a) <= float(b)
    ]
    if fractions and fractions[-1][1] > 0:
        done, total = fractions[-1]
        return Reading(done=done, total=total)
    percents = [float(p) for p in _PERCENT.findall(text) if float(p) <= 100]
    if percents:
        return Reading(done=percents[-1], total=100, unit="%")
    return None


def _read_json(text: str) -> Reading | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    number = (int, float)
    note = data.get("note") if isinstance(data.get("note"), str) else None
    stats_in = data.get("stats")
    stats = tuple(
        (str(k), v)
        for k, v in (stats_in.items() if isinstance(stats_in, dict) else ())
        if isinstance(v, int | float | str) and not isinstance(v, bool)
    )
    progress = data.get("progress")
    if isinstance(progress, number) and not isinstance(progress, bool) and 0 <= progress <= 1:
        return Reading(done=round(progress * 100, 4), total=100, unit="%", note=note, stats=stats)
    done, total = data.get("done"), data.get("total")
    if isinstance(done, number) and not isinstance(done, bool) and done >= 0:
        unit = data.get("unit") if isinstance(data.get("unit"), str) else None
        whole = total if isinstance(total, number) and not isinstance(total, bool) else None
        return Reading(done=done, total=whole, unit=unit, note=note, stats=stats)
    if note or stats:
        return Reading(note=note, stats=stats)
    return None


class Output:
    """Splits a stream into lines for the run: `\\r` ends a progress update, `\\n` a line."""

    def __init__(self, run: Run, stream: str, tail: deque[str]) -> None:
        self.run, self.stream, self.tail = run, stream, tail
        self._partial = b""

    def feed(self, chunk: bytes) -> None:
        data = self._partial + chunk
        pieces = re.split(rb"(\r\n|\r|\n)", data)
        self._partial = pieces.pop()  # the unfinished end
        for text, end in zip(pieces[::2], pieces[1::2], strict=True):
            self._line(text.decode("utf-8", "replace"), logged=end != b"\r")

    def close(self) -> None:
        if self._partial:
            self._line(self._partial.decode("utf-8", "replace"), logged=True)
            self._partial = b""

    def _line(self, text: str, *, logged: bool) -> None:
        reading = read_line(text)
        if reading is not None:
            if reading.done is not None:
                self.run.progress(reading.done, reading.total, reading.unit)
            if reading.note:
                self.run.note(reading.note)
            for name, value in reading.stats:
                self.run.stat(name, value)
        if logged and text.strip():
            self.run.log(text, stream=self.stream)
            self.tail.append(text)


def _pump(source: IO[bytes], sink: IO[bytes], output: Output) -> None:
    try:
        while chunk := os.read(source.fileno(), 65536):
            try:
                sink.write(chunk)
                sink.flush()
            except (OSError, ValueError):
                pass  # our own stdout is gone; keep reading so the command never blocks
            output.feed(chunk)
    finally:
        output.close()


FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Launch:
    """How to start a command: its working directory, its environment (None: ours),
    through `/bin/sh -c` or not, in a process group of its own or not; and the signals
    sent to it on our behalf (`received`)."""

    cwd: str | None = None
    env: dict[str, str] | None = None
    shell: bool = False
    own_group: bool = False
    received: list[int] = field(default_factory=list)

    def popen(self, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv[0] if self.shell else list(argv),
            shell=self.shell,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL if self.own_group else None,
            start_new_session=self.own_group,
        )


def run_command(
    argv: Sequence[str],
    run: Run,
    *,
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
    how: Launch | None = None,
) -> int:
    """Run `argv` reporting to `run`; finish the run; return the command's exit code.

    SIGTERM and SIGHUP are passed on to the command; SIGINT too, unless it came
    from the terminal (then the command got it already). `how` says where and with
    what environment to run it (an agent's runs), and collects the signals sent to
    it from elsewhere: a command stopped by one of them was cancelled.
    """
    how = how or Launch()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    received = how.received
    forwarder = _Forwarder(received)  # before the start: a signal meanwhile is kept for it
    try:
        child = how.popen(argv)
    except OSError as exc:
        forwarder.restore()
        run.finish("failed", exit_code=127, error=f"cannot start {argv[0]}: {exc}")
        print(f"thereyet: cannot start {argv[0]}: {exc}", file=sys.stderr)
        return 127
    forwarder.started(child)
    if on_start is not None:
        on_start(child)
    assert child.stdout is not None and child.stderr is not None
    pumps = [
        threading.Thread(
            target=_pump,
            args=(child.stdout, stdout or sys.stdout.buffer, Output(run, "stdout", tail)),
            daemon=True,
        ),
        threading.Thread(
            target=_pump,
            args=(child.stderr, stderr or sys.stderr.buffer, Output(run, "stderr", tail)),
            daemon=True,
        ),
    ]
    for pump in pumps:
        pump.start()
    code = child.wait()
    for pump in pumps:
        pump.join()
    child.stdout.close()
    child.stderr.close()
    forwarder.restore()
    _finish(run, code, received, tail)
    return 128 - code if code < 0 else code


def _finish(run: Run, code: int, received: list[int], tail: deque[str]) -> None:
    if code == 0:
        run.finish("succeeded", exit_code=0)
        return
    shown = "\n".join(tail)
    if code < 0:
        name = signal.Signals(-code).name
        stopped = received or -code in (signal.SIGINT, signal.SIGTERM)
        status: Status = "cancelled" if stopped else "failed"
        run.finish(status, exit_code=128 - code, error=f"killed by {name}\n{shown}".strip())
        return
    run.finish(
        "cancelled" if received else "failed",
        exit_code=code,
        error=f"exit code {code}\n{shown}".strip(),
    )


class _Forwarder:
    """Passes the FORWARDED signals this process gets on to its command (in the main
    thread only, where Python runs signal handlers). Installed before the command starts,
    so that a signal that comes meanwhile is not this process's end (the default for
    SIGTERM) with its command left running: it is passed on as the command starts."""

    def __init__(self, received: list[int]) -> None:
        self.received = received
        self.child: subprocess.Popen[bytes] | None = None
        self.early: list[int] = []  # caught before the command started
        self.from_terminal = sys.stdin is not None and sys.stdin.isatty()
        self.previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in FORWARDED:
                self.previous[signum] = signal.signal(signum, self._caught)

    def _caught(self, signum: int, _frame: Any) -> None:
        self.received.append(signum)
        if self.child is None:
            self.early.append(signum)  # even a terminal's SIGINT: the command missed it
        elif not (signum == signal.SIGINT and self.from_terminal):
            self._send(signum)  # (the terminal sent SIGINT to the whole foreground group)

    def started(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child
        while self.early:
            self._send(self.early.pop(0))

    def _send(self, signum: int) -> None:
        if self.child is not None:
            with contextlib.suppress(OSError):
                self.child.send_signal(signum)

    def restore(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
