"""scripts/serve on a fresh checkout, as a new user on stock Debian runs it:
Debian's own python3 (externally managed, PEP 668) first on PATH, nothing else set."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
DEBIAN_PYTHON = Path("/usr/bin/python3")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DEBIAN_PYTHON.exists(), reason="needs Debian's /usr/bin/python3"),
]


def fresh_checkout(into: Path) -> Path:
    """The repository's files as a clone would have them (no .venv, no .data)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    home.mkdir(exist_ok=True)
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), **extra}


@pytest.mark.long  # a clean install of the hub's packages
def test_serve_installs_into_a_venv_with_debians_python_and_answers(tmp_path):
    checkout = fresh_checkout(tmp_path / "thereyet")
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        ["scripts/serve", "--port", str(port)],
        cwd=checkout,
        env=clean_env(tmp_path / "home"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def answers() -> bool:
        assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(answers, timeout=600, every=0.5)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert "creating a virtual environment" in output
    assert "Collecting fastapi" in output  # the install shows its progress
    assert (checkout / ".venv" / "bin" / "thereyet").exists()
    assert (checkout / ".data" / "thereyet.db").exists()
    assert process.returncode == 0


def test_serve_stops_loudly_when_the_install_fails(tmp_path):
    checkout = fresh_checkout(tmp_path / "thereyet")
    env = clean_env(
        tmp_path / "home", PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=""
    )
    done = subprocess.run(
        ["scripts/serve"], cwd=checkout, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode != 0
    assert "No matching distribution" in done.stdout + done.stderr
    assert "thereyet: not found" not in done.stderr  # it stopped at the install
    assert not (checkout / ".venv" / ".thereyet-installed-server").exists()
