"""Real servers for tests: the hub in uvicorn on a free port, an HTTP recorder that
stands in for the services the hub calls, and Prometheus Alertmanager."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest
import uvicorn

from tests.conftest import ADMIN_TOKEN

T = TypeVar("T")
SRC = str(Path(__file__).resolve().parent.parent / "src")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"


def in_ci() -> bool:
    """True under CI (.ci/run runs with CI=true): what a test needs must be there."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> NoReturn:
    """Skip a test for want of a tool, saying why; under CI, fail instead."""
    if in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


def _own_ports() -> Iterator[int]:
    """This test process's share of the loopback ports below the kernel's ephemeral range,
    from a random start, each once. A port from bind(("127.0.0.1", 0)) is closed before
    the hub binds it, seconds later; meanwhile a Recorder or an outgoing connection could
    be given the same ephemeral port (a hub answered by a Recorder's `{}` failed CI).
    Below the range, only free_port hands ports out, and each xdist worker has its own."""
    try:
        lowest = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        lowest = 32768
    start = max(1024, lowest - 12000)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    share = (lowest - start) // workers
    first = start + worker * share
    offset = random.randrange(share)
    for step in range(share):
        yield first + (offset + step) % share


_PORTS = _own_ports()


def free_port() -> int:
    """A loopback port nothing listens on, never handed out twice by this process (nor
    given to another test worker or to an ephemeral bind)."""
    for port in _PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("this test process used up its share of loopback ports")


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


@dataclass
class HubProcess:
    """`thereyet server` as a subprocess of this checkout's code on a loopback port: the
    one launcher the tests share (single hubs, the nodes of a cluster, nodes armed with
    a fault point). Its port, data directory and log survive restarts.

        hub = HubProcess(tmp_path / "a", db=url, name="node-a").start()
        hub.post("/api/v1/runs", {"job": "export"})
        hub.kill()                                  # kill -9, no goodbye
        hub.start(env={"THEREYET_FAULT": "after-claim"})   # variables for this start only

    `db` defaults to SQLite in `data_dir`; `env` adds variables for every start; `name`
    is the node's name (THEREYET_NODE). stdout and stderr go to `log_path` (default
    `hub.log` in the data directory), appended to on each start and shown when it fails.
    A THEREYET_FAULT* variable of the test's own environment is never passed on."""

    data_dir: Path
    db: str = ""
    port: int = field(default_factory=lambda: free_port())
    env: dict[str, str] = field(default_factory=dict)
    name: str = ""
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0  # time.monotonic() of the last start
    _node: str = ""  # THEREYET_NODE of the last start, if set

    def __post_init__(self) -> None:
        if self.log_path is None:
            self.log_path = self.data_dir / "hub.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        assert self.log_path is not None
        return self.log_path

    def start(
        self, env: dict[str, str] | None = None, *, wait: bool = True, timeout: float = 120
    ) -> HubProcess:
        """Start the hub (extra `env` for this start only); with `wait`, return once it
        answers its health check, failing with its log tail if it does not in time."""
        assert not self.running, f"{self.name or 'the hub'} is already running"
        command = [sys.executable, "-m", "thereyet.cli.main", "server", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--data-dir", str(self.data_dir)]
        command += ["--db", self.db] if self.db else []
        command += ["--log-level", "warning"]
        environ = {k: v for k, v in os.environ.items() if not k.startswith("THEREYET_FAULT")}
        environ |= {
            "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])),
            "THEREYET_ADMIN_TOKEN": ADMIN_TOKEN,
            **({"THEREYET_NODE": self.name} if self.name else {}),
            **self.env,
            **(env or {}),
        }
        self._node = environ.get("THEREYET_NODE", "")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"--- {self.name or 'hub'} starting at {time.time():.3f}\n".encode())
            out.flush()
            self.process = subprocess.Popen(command, env=environ, stdout=out, stderr=out)
        self.started_at = time.monotonic()
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.running, f"{self.name or 'the hub'} exited at start:\n{self.output()}"
            if self.answers():
                return
            time.sleep(0.05)
        raise AssertionError(f"the hub did not answer within {timeout} s:\n{self.output()}")

    def answers(self) -> bool:
        """Whether this start's process answers its health check as ready (and not some
        other server on its port: the answer must name this node)."""
        try:
            health = f"{self.url}/api/v1/health"
            with urllib.request.urlopen(health, timeout=1) as response:  # noqa: S310 (http only)
                body = json.loads(response.read())
        except (OSError, ValueError):
            return False
        node = body.get("node") if isinstance(body, dict) else None
        assert self.process is not None
        mine = node == self._node if self._node else f"-{self.process.pid}-" in str(node)
        assert mine, f"another server answers on {self.url}: {body}"
        return True

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye."""
        if self.process is not None and self.running:
            self.process.kill()
        self.wait()

    def stop(self) -> None:
        """A clean stop (SIGTERM, as systemd sends); SIGKILL if it does not end in time."""
        if self.process is not None and self.running:
            self.process.terminate()
        self.wait()

    def restart(self, env: dict[str, str] | None = None) -> HubProcess:
        self.stop()
        return self.start(env)

    def wait(self, timeout: float = 15) -> None:
        if self.process is not None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self, chars: int = 4000) -> str:
        """The end of the log."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def request(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return http(method, self.url + path, body, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        """GET that must answer 200; its JSON body."""
        status, found = self.request("GET", path, **kw)
        assert status == 200, f"GET {path} on {self.name or self.url}: {status} {found}"
        return found

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        """POST that must answer 2xx; its JSON body."""
        status, found = self.request("POST", path, body, **kw)
        assert 200 <= status < 300, f"POST {path} on {self.name or self.url}: {status} {found}"
        return found


def http(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = ADMIN_TOKEN,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,  # an answer is waited for, not timed (tests/conftest.py)
) -> tuple[int, Any]:
    """One request with the standard library, as admin unless `token` says otherwise
    (None: no token); (status, JSON body or text). Never raises for an HTTP error
    status (a refused token is an answer, not an exception)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (loopback)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


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
    """An HTTP server on 127.0.0.1 that records requests and answers `status`
    (or first the statuses queued in `answers`, one per request), with `body`."""

    port: int = 0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer
    answers: list[int] = field(default_factory=list)
    body: bytes = b"{}"
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
            status = rec.answers.pop(0) if rec.answers else rec.status
            entry = {
                "method": self.command,
                "path": self.path,
                "json": body,
                "raw": raw,
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
            self.wfile.write(rec.body)

        do_GET = do_POST

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
