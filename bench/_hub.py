"""Start a real hub (`thereyet server`) as a subprocess for a benchmark, on loopback."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

ADMIN_TOKEN = "ty_benchadmin_" + "b" * 32
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Arrival(NamedTuple):
    """One POST a Recorder received: when (monotonic and wall clock) and its JSON body."""

    monotonic: float
    wall: float
    body: Any


class Recorder:
    """A local HTTP service (for pages and callbacks) that notes each POST it receives,
    in order of arrival, and answers `status`. Stop it with `close()`."""

    def __init__(self, status: int = 200) -> None:
        self.arrivals: list[Arrival] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                monotonic, wall = time.monotonic(), time.time()
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                recorder.arrivals.append(Arrival(monotonic, wall, body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer((HOST, self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Hub:
    """A running hub subprocess and a way to call it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    def call(self, method: str, path: str, body: Any = None) -> Any:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, payload, headers)
            response = conn.getresponse()
            data = response.read()
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
            return json.loads(data)
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop the hub the way an operator would (SIGTERM), waiting for it to exit."""
        terminate(self.process)


def terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM `process` if it still runs and wait for it to exit (SIGKILL after 20 s)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_answering(
    process: subprocess.Popen[bytes],
    port: int,
    log: Path,
    path: str = "/api/v1/health",
    what: str = "the hub",
) -> None:
    """Wait until `process` answers GET `path` with 200 (30 s at most)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited at start:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{what} did not answer within 30 s:\n{log.read_text()[-2000:]}")


@contextlib.contextmanager
def running_hub(
    data_dir: Path, db: str | None = None, node: str = "bench", env: dict[str, str] | None = None
) -> Iterator[Hub]:
    """Start `thereyet server` on a free loopback port; stop it on the way out.

    `env` adds to the environment (PYTHONPATH=other/src runs another source tree)."""
    port = free_port()
    env = {**os.environ, "THEREYET_ADMIN_TOKEN": ADMIN_TOKEN, "THEREYET_NODE": node, **(env or {})}
    command = [sys.executable, "-m", "thereyet.cli.main", "server", "--host", HOST]
    command += ["--port", str(port), "--data-dir", str(data_dir), "--log-level", "warning"]
    if db:
        command += ["--db", db]
    log = data_dir / "hub.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    hub = Hub(process, port, log)
    try:
        wait_answering(process, port, log)
        yield hub
    finally:
        hub.stop()


@contextlib.contextmanager
def scratch_pg_database(url: str) -> Iterator[str]:
    """A new PostgreSQL database on the server of `url`, dropped on the way out."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"thereyet_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


REPO = Path(__file__).resolve().parent.parent


@dataclass
class Nodes:
    """Hub nodes on one database, and nginx in front of them (deploy/nginx.conf)."""

    hubs: list[Hub]
    front: Hub  # calls go through nginx; its `process` is the first node's

    @property
    def pids(self) -> list[int]:
        return [hub.process.pid for hub in self.hubs]


@contextlib.contextmanager
def running_nodes(
    data_dir: Path, db: str, count: int, env: dict[str, str] | None = None
) -> Iterator[Nodes]:
    """Start `count` nodes on PostgreSQL database `db` behind Debian's nginx, configured
    from the repo's deploy/nginx.conf; stop them all on the way out."""
    with contextlib.ExitStack() as stack:
        hubs = [
            stack.enter_context(running_hub(data_dir / f"node-{i}", db, f"node-{i}", env))
            for i in range(count)
        ]
        port = stack.enter_context(_nginx(data_dir / "nginx", [hub.port for hub in hubs]))
        front = Hub(hubs[0].process, port, hubs[0].log)
        wait_answering(hubs[0].process, port, hubs[0].log)
        yield Nodes(hubs, front)


@contextlib.contextmanager
def _nginx(workdir: Path, ports: list[int]) -> Iterator[int]:
    import re
    import shutil

    workdir.mkdir(parents=True, exist_ok=True)
    listen = free_port()
    site = (REPO / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"    server {HOST}:{p};\n" for p in ports)
    site = re.sub(r"(?m)^    server 127\.0\.0\.1:\d+;\n(?:    server .*;\n)*", servers, site)
    site = re.sub(r"listen \d+;", f"listen {HOST}:{listen};", site)
    (workdir / "site.conf").write_text(site)
    main = workdir / "nginx.conf"
    temp = " ".join(
        f"{kind}_temp_path {workdir}/{kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    main.write_text(
        f"daemon off;\nworker_processes 1;\npid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/error.log warn;\nevents {{ worker_connections 8192; }}\n"
        f"http {{ access_log off; {temp} uwsgi_temp_path {workdir}/uwsgi; "
        f"scgi_temp_path {workdir}/scgi; include {workdir}/site.conf; }}\n"
    )
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([binary, "-p", str(workdir), "-c", str(main), "-e", "stderr"])
    try:
        yield listen
    finally:
        process.terminate()
        process.wait(10)
