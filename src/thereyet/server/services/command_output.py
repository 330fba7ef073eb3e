"""Command output on its way into the room, and running an argument list on the hub host."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Protocol

from ..domain.commands import CommandError, split_output

MAX_CHUNKS = 10  # output messages per execution; the attachment holds the rest
FLUSH_LINES = 40
FLUSH_SECONDS = 1.0
MAX_MESSAGE_CHARS = 3000
MAX_KEPT_CHARS = 1024 * 1024  # of output, for the attachment


class OutputSink(Protocol):
    async def say(self, room: str, text: str) -> None: ...

    async def post_output(
        self, record_id: int, room: str, text: str, *, show: bool, fenced: bool
    ) -> None: ...


class OutputStream:
    """Output on its way into the room: flushed every FLUSH_LINES lines or FLUSH_SECONDS,
    at most MAX_CHUNKS messages; the whole of it is kept for the attachment."""

    def __init__(self, sink: OutputSink, record_id: int, room: str, *, fenced: bool = True) -> None:
        self.fenced = fenced  # program output in a code block; a built-in's answer as Markdown
        self.sink = sink
        self.record_id = record_id
        self.room = room
        self.full = ""
        self.chunks = 0
        self._pending: list[str] = []
        self._flushed_at = time.monotonic()

    @property
    def needs_attachment(self) -> bool:
        """More output than one message holds: the room gets the whole of it as a file."""
        return self.full.count("\n") > FLUSH_LINES or len(self.full) > MAX_MESSAGE_CHARS

    async def write(self, text: str) -> None:
        if len(self.full) < MAX_KEPT_CHARS:
            self.full += text if text.endswith("\n") else text + "\n"
        self._pending.extend(text.splitlines() or [""])
        if (
            len(self._pending) >= FLUSH_LINES
            or time.monotonic() - self._flushed_at >= FLUSH_SECONDS
        ):
            await self.flush()

    async def flush(self) -> None:
        self._flushed_at = time.monotonic()
        if not self._pending:
            return
        text, self._pending = "\n".join(self._pending), []
        for chunk in split_output(text, max_lines=FLUSH_LINES, max_chars=MAX_MESSAGE_CHARS):
            self.chunks += 1
            show = self.chunks <= MAX_CHUNKS
            if self.chunks == MAX_CHUNKS + 1:
                await self.sink.say(
                    self.room, f"#{self.record_id}: more output in the attachment at the end"
                )
            await self.sink.post_output(
                self.record_id, self.room, chunk, show=show, fenced=self.fenced
            )


def _child_env() -> dict[str, str]:
    """The hub's environment without its own settings and secrets."""
    return {k: v for k, v in os.environ.items() if not k.startswith("THEREYET_")}


async def run_argv(argv: list[str], timeout: float, out: OutputStream) -> int:
    """Run an argument list (never a shell line), streaming its output; its exit status."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=_child_env(),
        )
    except OSError as exc:
        raise CommandError(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from None
    assert proc.stdout is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError
            try:
                line = await asyncio.wait_for(proc.stdout.readline(), min(FLUSH_SECONDS, left))
            except TimeoutError:
                await out.flush()
                continue
            if not line:
                break
            await out.write(line.decode(errors="replace").rstrip("\n"))
        return await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
