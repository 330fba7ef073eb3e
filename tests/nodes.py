"""Several real hub nodes for tests: `thereyet server` processes on one PostgreSQL database,
optionally behind Debian's real nginx or HAProxy, configured from the repo's deploy/ files.

    with fresh_pg_database() as db, Cluster.start(db, tmp_path, nodes=2, balancer="nginx") as hub:
        a, b = hub.nodes
        a.post("/api/v1/runs", {"job": "export"})      # straight to node A
        hub.get("/api/v1/runs")                         # through the balancer (or node A)
        a.kill()                                        # kill -9, no goodbye
        a.start()                                       # same port, same data dir, same log
        hub.wait_until(lambda: ..., "what we wait for")  # fails with every node's log tail

- Each node is the suite's one launcher, tests.servers.HubProcess (a `thereyet server`
  subprocess of this checkout's code), with its own data directory and a log file kept
  in `tmp_path`; a restarted node appends to the same log.
- `env=` sets THEREYET_* variables (or anything else, such as fault points a test arms)
  for every node; `node.start(env=...)` adds some for one start.
- Every node's admin token is tests.conftest.ADMIN_TOKEN; node names are node-a, node-b, ...
- Nothing is left running: leaving the `with` block kills the nodes and the balancer.

Streams and sign-in as a browser does them: tests/browsing.py. A PostgreSQL server of
a test's own, to restart: tests/private_pg.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.servers import HubProcess, free_port, http

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
PG_URL = os.environ.get("THEREYET_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def fresh_pg_database(base_url: str = PG_URL) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of `base_url`, dropped afterwards
    (with FORCE: nodes killed with -9 may leave sessions behind for a moment)."""
    name = f"thereyet_nodes_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Balancer:
    """Debian's nginx or HAProxy in front of the nodes, run from deploy/nginx.conf or
    deploy/haproxy.cfg with only the listen port and the upstream servers replaced."""

    def __init__(self, kind: str, ports: list[int], workdir: Path) -> None:
        if kind not in ("nginx", "haproxy"):
            raise ValueError(f"unknown balancer {kind!r}")
        self.kind = kind
        self.port = free_port()
        self.workdir = workdir
        self.log_path = workdir / f"{kind}.log"
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = self._write_config(ports)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def available(kind: str) -> str | None:
        """None if `kind` can run here, else why not (for pytest.skip)."""
        return None if shutil.which(kind) else f"{kind} is not installed (apt-get install {kind})"

    def _write_config(self, ports: list[int]) -> Path:
        if self.kind == "nginx":
            return write_nginx_config(self.workdir, self.port, ports)
        return write_haproxy_config(self.workdir, self.port, ports)

    def start(self) -> None:
        binary = shutil.which(self.kind) or f"/usr/sbin/{self.kind}"
        if self.kind == "nginx":
            args = [binary, "-p", str(self.workdir), "-c", str(self.config), "-e", "stderr"]
        else:
            args = [binary, "-db", "-f", str(self.config)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.kind} exited:\n{self.log_text()}"
            with contextlib.suppress(OSError):
                http("GET", self.url + "/api/v1/health", token=None, timeout=2)
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.kind} did not answer:\n{self.log_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def write_nginx_config(workdir: Path, listen: int, ports: list[int]) -> Path:
    """deploy/nginx.conf (a site: upstream + server) with our port and nodes, wrapped in a
    main config whose files all live in `workdir` (nginx runs unprivileged from there)."""
    site = (DEPLOY / "nginx.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in ports)
    site, found = re.subn(
        r"(?m)^    server 127\.0\.0\.1:\d+;\n(?:    server .*;\n)*", servers, site
    )
    assert found == 1, "deploy/nginx.conf: the upstream's server lines were not found"
    site, found = re.subn(r"listen \d+;", f"listen 127.0.0.1:{listen};", site)
    assert found == 1, "deploy/nginx.conf: the listen line was not found"
    (workdir / "site.conf").write_text(site)
    main = workdir / "nginx-main.conf"
    main.write_text(
        f"daemon off;\nmaster_process on;\nworker_processes 1;\npid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/nginx.log warn;\nevents {{ worker_connections 4096; }}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {workdir}/body;\n"
        f"  proxy_temp_path {workdir}/proxy;\n  fastcgi_temp_path {workdir}/fastcgi;\n"
        f"  uwsgi_temp_path {workdir}/uwsgi;\n  scgi_temp_path {workdir}/scgi;\n"
        f"  include {workdir}/site.conf;\n}}\n"
    )
    return main


def write_haproxy_config(workdir: Path, listen: int, ports: list[int]) -> Path:
    """deploy/haproxy.cfg with our port and nodes."""
    config = (DEPLOY / "haproxy.cfg").read_text()
    servers = "".join(
        f"    server node{i} 127.0.0.1:{p} check inter 1s fall 2 rise 1\n"
        for i, p in enumerate(ports, 1)
    )
    config, found = re.subn(
        r"(?m)^    server node\d+ .*\n(?:    server node\d+ .*\n)*", servers, config
    )
    assert found >= 1, "deploy/haproxy.cfg: the backends' server lines were not found"
    config, found = re.subn(r"bind \S+", f"bind 127.0.0.1:{listen}", config)
    assert found == 1, "deploy/haproxy.cfg: the bind line was not found"
    path = workdir / "haproxy.cfg"
    path.write_text(config)
    return path


@dataclass
class Cluster:
    """N nodes on one database, and the balancer in front of them if one was asked for."""

    nodes: list[HubProcess]
    balancer: Balancer | None = None

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        db: str,
        workdir: Path,
        *,
        nodes: int = 2,
        balancer: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Iterator[Cluster]:
        """Start `nodes` nodes on database `db` (one after the other, so the first brings the
        schema up to date), and `balancer` ("nginx" or "haproxy") in front if given."""
        made = [
            HubProcess(
                workdir / f"node-{i}",
                db=db,
                name=f"node-{chr(ord('a') + i)}",
                log_path=workdir / f"node-{chr(ord('a') + i)}.log",
                env=dict(env or {}),
            )
            for i in range(nodes)
        ]
        cluster = cls(made)
        try:
            for node in made:
                node.start()
            if balancer is not None:
                cluster.balancer = Balancer(balancer, [n.port for n in made], workdir / balancer)
                cluster.balancer.start()
            yield cluster
        finally:
            cluster.close()

    @property
    def url(self) -> str:
        """The balancer's URL, or the first node's when there is none."""
        return self.balancer.url if self.balancer else self.nodes[0].url

    def request(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return http(method, self.url + path, body, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        status, found = self.request("GET", path, **kw)
        assert status == 200, f"GET {path} via {self.url}: {status} {found}"
        return found

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        status, found = self.request("POST", path, body, **kw)
        assert 200 <= status < 300, f"POST {path} via {self.url}: {status} {found}"
        return found

    def logs(self) -> str:
        parts = [f"=== {n.name} ({n.log_path})\n{n.output(3000)}" for n in self.nodes]
        if self.balancer is not None:
            parts.append(f"=== {self.balancer.kind}\n{self.balancer.log_text()[-3000:]}")
        return "\n".join(parts)

    def wait_until(
        self, check: Callable[[], T | None], what: str, timeout: float = 15, every: float = 0.05
    ) -> T:
        """Poll `check` until it gives something truthy; else fail naming `what`, with the
        nodes' log tails."""
        deadline = time.monotonic() + timeout
        while True:
            found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {what}\n{self.logs()}"
                )
            time.sleep(every)

    def close(self) -> None:
        if self.balancer is not None:
            self.balancer.stop()
        for node in self.nodes:
            node.kill()
