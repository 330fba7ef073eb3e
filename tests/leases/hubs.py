"""Real hub nodes for lease tests: `thereyet server` processes on one PostgreSQL
database, each on a free loopback port, each with its own log, any of them armed
with a fault point (THEREYET_FAULT) where it kills itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ADMIN_TOKEN, PG_URL
from tests.servers import free_port


@dataclass
class Node:
    """One `thereyet server` process (started again on the same port and name)."""

    name: str
    db: str
    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0  # time.monotonic() of the last start

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir / "hub.log"

    def start(self, fault: str = "", **env: str) -> None:
        """Start the process and return once it answers its health check."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "thereyet.cli.main", "server", "--db", self.db]
        command += ["--port", str(self.port), "--data-dir", str(self.data_dir)]
        command += ["--log-level", "warning"]
        environ = {k: v for k, v in os.environ.items() if not k.startswith("THEREYET_FAULT")}
        environ |= {"THEREYET_ADMIN_TOKEN": ADMIN_TOKEN, "THEREYET_NODE": self.name, **env}
        if fault:
            environ["THEREYET_FAULT"] = fault
        self.started_at = time.monotonic()
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, env=environ, stdout=out, stderr=out)
        deadline = time.monotonic() + 120  # a loaded CI machine starts slowly
        while True:
            assert self.process.poll() is None, f"{self.name} exited at start:\n{self.output()}"
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{self.name} did not start:\n{self.output()}"
            time.sleep(0.05)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the node dies at whatever line it is on."""
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
        self.wait()

    def stop(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.terminate()
        self.wait()

    def wait(self, timeout: float = 20) -> None:
        if self.process is not None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def died_by_fault(self, timeout: float = 30) -> str:
        """Wait for an armed node to kill itself; return the fault point it names."""
        assert self.process is not None
        self.process.wait(timeout)
        assert self.process.returncode == -signal.SIGKILL, self.output()
        lines = [line for line in self.output().splitlines() if "fault point" in line]
        assert lines, self.output()
        return lines[-1]

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return httpx.Client(base_url=self.url, timeout=60, headers=headers)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        with self.api() as client:
            response = client.request(method, path, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()


@contextmanager
def nodes(db: str, root: Path, *names: str) -> Iterator[list[Node]]:
    """Nodes (not yet started) on `db`; every one still running is killed at the end."""
    made = [Node(name, db, root / name) for name in names]
    try:
        yield made
    finally:
        for node in made:
            node.kill()


@contextmanager
def scratch_databases(count: int) -> Iterator[list[str]]:
    """`count` fresh PostgreSQL databases (at THEREYET_TEST_PG_URL), dropped at the end."""
    names = [f"thereyet_leases_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield [
            make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
            for name in names
        ]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
