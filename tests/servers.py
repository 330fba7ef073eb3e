"""Real servers for tests: the hub in uvicorn on a free port, an HTTP recorder that
stands in for the services the hub calls, and Prometheus Alertmanager."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest
import uvicorn

T = TypeVar("T")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"


def in_ci() -> bool:
    """True under CI (.ci/run runs with CI=true): what a test needs must be there."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> NoReturn:
    """Skip a test for want of a tool, saying why; under CI, fail instead."""
    if in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RestartableServer:
    """An app served by uvicorn in a thread on a loopback port that stays the same when
    the server is stopped and started again (an outage, without a process start's cost).

    Each start serves a new app from `make_app`, so it runs its lifespan afresh."""

    def __init__(self, make_app: Callable[[], Any]) -> None:
        self.make_app = make_app
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve a new app on the port (a free one the first time); return once it answers."""
        self._sock = sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.make_app(), log_level="warning", lifespan="on", timeout_graceful_shutdown=1
        )
        self._server = server = uvicorn.Server(config)
        self._thread = thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the hub did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and free the port; a stopped server may be started again."""
        if self._server is not None and self._thread is not None and self._sock is not None:
            self._server.should_exit = True
            self._thread.join(15)
            self._sock.close()
            self._server = None


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free loopback port; yield its base URL."""
    server = RestartableServer(lambda: app)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@dataclass
class HubProcess:
    """`thereyet server` as a subprocess on a loopback port (the one launcher the tests
    share), its output kept in `hub.log` in its data directory, shown when it fails.

    `db` defaults to SQLite in `data_dir`; `env` adds variables (THEREYET_* settings,
    fault points). It can be killed (SIGKILL), stopped (SIGTERM) and started again."""

    data_dir: Path
    db: str = ""
    port: int = field(default_factory=lambda: free_port())
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        """Start the hub; return once it answers its health check."""
        from tests.conftest import ADMIN_TOKEN

        command = [sys.executable, "-m", "thereyet.cli.main", "server", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--data-dir", str(self.data_dir)]
        command += ["--db", self.db] if self.db else []
        command += ["--log-level", "warning"]
        env = {**os.environ, "THEREYET_ADMIN_TOKEN": ADMIN_TOKEN, **self.env}
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the hub exited at start:\n{self.output()}"
            if self.answers():
                return
            time.sleep(0.05)
        raise AssertionError(f"the hub did not answer within {timeout} s:\n{self.output()}")

    def answers(self) -> bool:
        try:
            health = f"{self.url}/api/v1/health"
            with urllib.request.urlopen(health, timeout=1) as response:  # noqa: S310 (http only)
                return bool(response.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        self.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
        self.wait()

    def wait(self) -> None:
        if self.process is not None:
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def log(self) -> Path:
        return self.data_dir / "hub.log"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def start_alertmanager(tmp_path: Path, receivers: str) -> tuple[subprocess.Popen[bytes], str]:
    """Alertmanager on 127.0.0.1, clustering off, groups sent after 2 s to `receivers`
    (the YAML of one receiver named "hub", indented under `receivers:`)."""
    config = tmp_path / "am.yml"
    config.write_text(
        "route:\n  receiver: hub\n  group_by: [alertname]\n  group_wait: 2s\n"
        "  group_interval: 2s\n  repeat_interval: 1h\nreceivers:\n  - name: hub\n" + receivers
    )
    port = free_port()
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_for(
    check: Callable[[], T | None], timeout: float = 30, every: float = 0.05, what: str = ""
) -> T:
    """Poll `check` until it gives something truthy and return that; fail loudly, saying
    what was awaited and for how long, after `timeout` seconds. The one poll helper: a
    test waits for an outcome this way, never by sleeping a guessed time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    name = what or getattr(check, "__name__", "a condition")
    raise AssertionError(f"timed out after {timeout} s waiting for {name}")


@dataclass
class Recorder:
    """An HTTP server on 127.0.0.1 that records requests and answers `status`."""

    port: int = 0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer
    requests: list[dict[str, Any]] = field(default_factory=list)
    on_request: Callable[[dict[str, Any]], None] | None = None

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    def bodies(self) -> list[Any]:
        return [r["json"] for r in self.requests if r["answered"] < 300]


@contextmanager
def recording_server() -> Iterator[Recorder]:
    """Run a Recorder on a free loopback port for the length of the block."""
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            status = rec.status
            entry = {
                "path": self.path,
                "json": body,
                "headers": dict(self.headers),
                "answered": status,
            }
            rec.requests.append(entry)
            if rec.on_request is not None and status < 300:
                rec.on_request(entry)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in rec.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
