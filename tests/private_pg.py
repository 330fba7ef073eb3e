"""A PostgreSQL server of a test's own, which it may restart without disturbing the
other tests on the shared server."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.servers import free_port


class PrivatePostgres:
    """A PostgreSQL server of a test's own (initdb in a temporary directory, run as the
    postgres user on a free port), so that a test may restart or stop it without
    disturbing other tests on the shared server.

        with PrivatePostgres.running() as pg:
            url = pg.url                 # a database "hub" on it, trust auth
            pg.restart()                 # pg_ctl restart -m fast, as a service restart does
            pg.restart(mode="immediate") # as a crash: no clean shutdown
    """

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not found:
            raise RuntimeError("PostgreSQL's server binaries are not installed")
        self.bin = found[-1].parent
        self.dir = Path(tempfile.mkdtemp(prefix="thereyet-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(
            "initdb", "--no-sync", "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )

    @classmethod
    @contextlib.contextmanager
    def running(cls) -> Iterator[PrivatePostgres]:
        pg = cls()
        try:
            pg.start()
            pg._as_postgres("createdb", "-h", str(pg.dir), "-p", str(pg.port), "hub")
            yield pg
        finally:
            pg.stop()
            shutil.rmtree(pg.dir, ignore_errors=True)

    @staticmethod
    def available() -> str | None:
        """None if a private server can be made here, else why not (for pytest.skip)."""
        if not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
            return "PostgreSQL's server binaries are not installed"
        if os.geteuid() != 0:
            return "making a private PostgreSQL server needs root (to run it as postgres)"
        return None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/hub"

    def _as_postgres(self, tool: str, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.dir)
        assert done.returncode == 0, f"{tool} failed: {done.stdout}{done.stderr}"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.dir / "postgres.log")
        self._as_postgres("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", *args)

    def start(self) -> None:
        self._ctl("start")

    def restart(self, mode: str = "fast") -> None:
        """Stop (sessions are cut; `mode` as pg_ctl's -m) and start again on the same port."""
        self._ctl("restart", "-m", mode)

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._ctl("stop", "-m", mode)
