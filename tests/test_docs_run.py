"""Every shell example in README.md and docs/ runs, in order, against a live hub.

A shell block is preceded by a marker line:

    <!-- runnable -->
    <!-- runnable; the reader types: first line / second line -->
    <!-- not runnable: the reason -->

The runnable blocks of all files run in one bash session (README.md first, then
docs/ by name), as a reader pasting them one after the other would, in a fresh
directory with a real `thereyet server --demo --data-dir .data` (what
scripts/serve starts). `localhost:8480` in an example means that hub. curl runs
with --fail-with-body, so an example the hub answers with an error fails too.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.servers import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell", "console"}
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
MARKER = re.compile(
    r"<!--\s*(?:(runnable)(?:;\s*the reader types:\s*(?P<typed>.*?))?|not runnable:\s*(?P<why>.+?))\s*-->"
)

# What the reader has at hand besides the hub: their own script, a picture, a secret.
READERS_FILES = {
    "backup.sh": "#!/bin/sh\necho 'copying 10/20'\necho 'copying 20/20'\n",
    "secret.txt": "a long ci password\n",
}
ONE_PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4d60000000049454e44ae426082"
)


@dataclass(frozen=True)
class Example:
    where: str  # file:line
    code: str
    runnable: bool
    typed: str | None  # what the reader types at the prompts, lines separated by " / "
    why_not: str | None


def examples(path: Path) -> list[Example]:
    """The shell blocks of one Markdown file, with their markers."""
    text = path.read_text()
    found = []
    for block in FENCE.finditer(text):
        if block.group(1) not in SHELL:
            continue
        before = text[: block.start()].rstrip().rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        line = text[: block.start()].count("\n") + 1
        found.append(
            Example(
                where=f"{path.relative_to(ROOT)}:{line}",
                code=block.group(2),
                runnable=bool(marker and marker.group(1)),
                typed=marker.group("typed") if marker else None,
                why_not=marker.group("why") if marker else None,
            )
        )
    return found


ALL = [example for path in DOCS for example in examples(path)]


def test_every_shell_example_is_marked_runnable_or_says_why_not():
    unmarked = [e.where for e in ALL if not e.runnable and not e.why_not]
    assert unmarked == [], "mark these <!-- runnable --> or <!-- not runnable: why -->"
    assert sum(e.runnable for e in ALL) >= 10


def _script(port: int) -> str:
    lines = [
        "set -euo pipefail",
        # An HTTP error fails the example (unless it asks for --fail itself).
        "curl() {",
        '    for a in "$@"; do case "$a" in --fail*|-f*|-[!-]*f*) command curl "$@"; return;; esac; done',
        '    command curl --fail-with-body "$@"',
        "}",
    ]
    for example in (e for e in ALL if e.runnable):
        code = re.sub(r"(localhost|127\.0\.0\.1):8480", f"127.0.0.1:{port}", example.code)
        lines.append(f"echo '>>> {example.where}' >&2")
        if example.typed is None:
            lines.append("{\n" + code + "} </dev/null")
        else:
            typed = "\n".join(part.strip() for part in example.typed.split(" / "))
            lines.append("{\n" + code + "} <<'__TYPED__'\n" + typed + "\n__TYPED__")
    lines.append("echo '>>> all examples ran' >&2")
    return "\n".join(lines) + "\n"


@pytest.fixture
def demo_hub(tmp_path):
    """`thereyet server --demo --data-dir .data` in a fresh directory, as scripts/serve runs it."""
    port = free_port()
    env = {**os.environ, "THEREYET_ADMIN_TOKEN": ADMIN_TOKEN}
    for name in ("THEREYET_URL", "THEREYET_TOKEN", "THEREYET_DATA_DIR", "THEREYET_DB"):
        env.pop(name, None)
    command = [sys.executable, "-m", "thereyet.cli.main", "server", "--demo"]
    process = subprocess.Popen(
        [*command, "--data-dir", ".data", "--port", str(port), "--log-level", "warning"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answers() -> bool:
        assert process.poll() is None, "the hub exited at start"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(answers, timeout=30, every=0.1)
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _reader_env(tmp_path: Path, port: int) -> dict[str, str]:
    """A reader's shell: the hub's admin token in TOKEN and ADMIN_TOKEN, THEREYET_URL,
    their own HOME; the `thereyet` command on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THEREYET_")}
    env.update(
        HOME=str(tmp_path / "home"),
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}",
        TOKEN=ADMIN_TOKEN,
        ADMIN_TOKEN=ADMIN_TOKEN,
        THEREYET_URL=f"http://127.0.0.1:{port}",
    )
    return env


@pytest.mark.slow
def test_the_shell_examples_in_the_docs_run_in_order_against_a_live_hub(demo_hub, tmp_path):
    for name, content in READERS_FILES.items():
        (tmp_path / name).write_text(content)
    (tmp_path / "backup.sh").chmod(0o755)
    (tmp_path / "graph.png").write_bytes(ONE_PIXEL_PNG)
    (tmp_path / "home").mkdir()
    (tmp_path / "examples.sh").write_text(_script(demo_hub))
    done = subprocess.run(
        ["bash", "examples.sh"],
        cwd=tmp_path,
        env=_reader_env(tmp_path, demo_hub),
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,  # no terminal: password prompts read what the reader types
    )
    last = [line for line in done.stderr.splitlines() if line.startswith(">>> ")][-1:]
    assert done.returncode == 0, f"the example at {last} failed:\n{done.stdout}\n{done.stderr}"
    assert last == [">>> all examples ran"]
