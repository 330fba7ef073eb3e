"""Real servers for tests: the hub in uvicorn on a free port, an HTTP recorder that
stands in for the services the hub calls, and Prometheus Alertmanager."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

T = TypeVar("T")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RestartableServer:
    """An app served by uvicorn in a thread on a loopback port that stays the same when
    the server is stopped and started again (an outage, without a process start's cost).

    Each start serves a new app from `make_app`, so it runs its lifespan afresh."""

    def __init__(self, make_app: Callable[[], Any], **uvicorn_options: Any) -> None:
        self.make_app = make_app
        self.uvicorn_options = uvicorn_options  # e.g. timeout_keep_alive=1
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
            self.make_app(),
            **{
                "log_level": "warning",
                "lifespan": "on",
                "timeout_graceful_shutdown": 1,
                **self.uvicorn_options,
            },
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


def wait_for(check: Callable[[], T | None], timeout: float = 30, every: float = 0.2) -> T:
    """Poll `check` until it gives something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError("timed out waiting")


@dataclass
class Recorder:
    """An HTTP server on 127.0.0.1 that records requests and answers `status`."""

    port: int = 0
    status: int = 200
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
