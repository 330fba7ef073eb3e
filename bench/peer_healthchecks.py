"""healthchecks and thereyet side by side: pings/s of each, in the same run, with the same load.

Sets up a scratch healthchecks instance (the open-source Django project, from a
checkout given with --healthchecks, run by its own interpreter --hc-python): its
own temporary SQLite file, migrated, one user with a project and N checks; then
serves it with `gunicorn -w 2 hc.wsgi` (sync workers). In the same run a real
`thereyet server` (SQLite with synchronous=FULL as shipped) gets the same number
of checks. Each round measures every server in turn (healthchecks, thereyet,
healthchecks, ...), only the one measured running, loaded by bench/ping.py's wrk
(2 threads, keep-alive connections, a Lua script walking the checks' ping URLs)
after a one-second warm-up: first an endpoint of the same process that writes
nothing (healthchecks' `GET /api/v3/status/`, one `SELECT 1`; thereyet's
`GET /api/v1/health`), then `GET /ping/<uuid>`.

Every 2xx ping is checked as recorded: for healthchecks the sum of its checks'
`n_pings` before and after (it prunes a check's Ping rows to the last 100 every
100th ping, so their count is not it; the newest Ping row of each check must
carry that check's `n_pings`), for thereyet the runs counted in its database.

healthchecks has no rate limit on pings; a GET ping has no body, so its body
limit does not apply. The pruning is part of what a ping costs it as shipped.
thereyet's per-check ping limit is raised for the run and its retention is
off, as in bench/ping.py.

    python bench/peer_healthchecks.py --healthchecks /work/peer/healthchecks
        --hc-python /work/peer/hc-venv/bin/python [--checks 1,200] [--rounds 3]
        [--seconds 5] [--connections 32] [--db URL] [--also "-w 2 --threads 4"]

--db runs thereyet on PostgreSQL too, and healthchecks (DB=postgres) as an
extra line: both on scratch databases of that server; --hc-conn-max-age sets
healthchecks' DB_CONN_MAX_AGE there (default 0, its own: a new connection for
each request). --also measures
healthchecks on SQLite again each round under other gunicorn worker options.
Extra lines are labelled "extra"; the ratios are against healthchecks on
SQLite with `-w 2`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hub import HOST, free_port, running_hub, scratch_pg_database, terminate, wait_answering
from ping import _line, wrk
from ping_load import count_runs, seed_checks
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HC_WORKERS = "-w 2"
PEER = "healthchecks (SQLite), gunicorn -w 2"

# Run by healthchecks' interpreter in its checkout: a user, a project, N checks.
_HC_SEED = """
import sys, uuid
import django
django.setup()
from django.contrib.auth.models import User
from hc.accounts.models import Profile, Project
from hc.api.models import Check
user = User.objects.create_user(f"bench-{uuid.uuid4().hex[:8]}", "bench@example.org")
Profile.objects.for_user(user)
project = Project.objects.create(owner=user, name="bench", badge_key=str(uuid.uuid4()))
checks = [Check(project=project, name=f"bench-{n}", code=uuid.uuid4()) for n in range(int(sys.argv[1]))]
Check.objects.bulk_create(checks)
print("\\n".join(str(c.code) for c in checks))
"""

_HC_VERSIONS = """
import django, gunicorn, sys
print(f"Django {django.get_version()}, gunicorn {gunicorn.__version__}, Python {sys.version.split()[0]}")
"""

_RECORDED = """
SELECT (SELECT COALESCE(SUM(n_pings), 0) FROM api_check),
       (SELECT COALESCE(SUM(m), 0) FROM (SELECT MAX(n) AS m FROM api_ping GROUP BY owner_id) AS newest)
"""


@dataclass
class Healthchecks:
    """A scratch healthchecks instance: its checkout, interpreter, database and checks.

    `pg_url` (a SQLAlchemy URL) puts it on PostgreSQL; otherwise SQLite in `data`."""

    checkout: Path
    python: Path
    data: Path
    pg_url: str | None = None
    conn_max_age: int = 0
    uuids: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.pg_url or f"sqlite:///{self.data / 'hc.sqlite'}"

    def env(self, port: int = 8000) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # not our tree
        env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "hc.settings",
            "DEBUG": "False",
            "SECRET_KEY": secrets.token_hex(25),
            "ALLOWED_HOSTS": HOST,
            "SITE_ROOT": f"http://{HOST}:{port}",
            "DB_NAME": str(self.data / "hc.sqlite"),
        }
        if self.pg_url:
            pg = make_url(self.pg_url)
            env.update(DB="postgres", DB_HOST=pg.host or "", DB_PORT=str(pg.port or ""))
            env.update(DB_NAME=pg.database or "", DB_USER=pg.username or "postgres")
            env.update(DB_PASSWORD=pg.password or "", DB_CONN_MAX_AGE=str(self.conn_max_age))
        return env

    def run(self, *args: str) -> str:
        command = [str(self.python), *args]
        done = subprocess.run(
            command, cwd=self.checkout, env=self.env(), capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"{shlex.join(command)} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    def set_up(self, checks: int) -> None:
        """Migrate its database and seed `checks` checks."""
        self.data.mkdir(parents=True, exist_ok=True)
        self.run("manage.py", "migrate", "-v0")
        self.uuids = self.run("-c", _HC_SEED, str(checks)).split()

    def recorded(self) -> int:
        """Pings recorded: the checks' `n_pings`, checked against their newest Ping rows."""
        engine = create_engine(self.url)
        with engine.connect() as conn:
            counted, newest = conn.execute(text(_RECORDED)).one()
        engine.dispose()
        if counted != newest:
            raise RuntimeError(f"n_pings {counted} but the newest Ping rows say {newest}")
        return int(counted)

    def journal_mode(self) -> str:
        engine = create_engine(self.url)
        with engine.connect() as conn:
            mode = conn.execute(text("PRAGMA journal_mode")).scalar()
        engine.dispose()
        return str(mode)

    def versions(self) -> str:
        found = self.run("-c", _HC_VERSIONS).strip()
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            commit = subprocess.run(
                ["git", "-C", str(self.checkout), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            return f"healthchecks {commit}, {found}"
        return f"healthchecks (not a git checkout: {self.checkout}), {found}"


@contextlib.contextmanager
def serving(hc: Healthchecks, workers: str) -> Iterator[int]:
    """Serve `hc` with gunicorn (`workers`, say "-w 2") on a free port; stop it on the way out."""
    port = free_port()
    command = [str(hc.python), "-m", "gunicorn", *shlex.split(workers), "--no-control-socket"]
    command += ["-b", f"{HOST}:{port}", "hc.wsgi"]
    log = hc.data / "gunicorn.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=hc.checkout, env=hc.env(port), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_answering(process, port, log, "/api/v3/status/", "gunicorn")
        yield port
    finally:
        terminate(process)


def verified(before: int, after: int, result: dict[str, Any], connections: int) -> str:
    """Every 2xx ping recorded: wrk's count, give or take the pings in flight at its end."""
    recorded = after - before
    answered = result["requests"] - result["non2xx"]
    ok = answered <= recorded <= answered + connections and result["non2xx"] == 0
    return f"  verified: {answered} answered 2xx, {recorded} recorded: {'OK' if ok else 'MISMATCH'}"


def load(
    name: str,
    port: int,
    baseline: str,
    uuids: list[str],
    recorded: Callable[[], int],
    args: argparse.Namespace,
) -> float:
    """Warm up, load `baseline` then the pings, print both and the check; pings/s."""
    paths = [f"/ping/{u}" for u in uuids]
    wrk(port, paths[:1000], 1, args.connections, args.tmp)
    wrk(port, [baseline], 1, args.connections, args.tmp)
    base = wrk(port, [baseline], args.seconds, args.connections, args.tmp)
    time.sleep(1)
    before = recorded()
    ping = wrk(port, paths, args.seconds, args.connections, args.tmp)
    time.sleep(1)
    print(f"  {name}:")
    print(_line(f"GET {baseline} (writes nothing)", base))
    print(_line("GET /ping/<uuid> (records a ping)", ping))
    print(verified(before, recorded(), ping, args.connections))
    print(f"  ratio ping / no-write endpoint: {ping['rate'] / base['rate']:.2f}")
    return float(ping["rate"])


@dataclass
class Contender:
    """One server measured each round: its label and how to start and load it."""

    name: str
    measure: Callable[[argparse.Namespace], float]


def healthchecks(name: str, hc: Healthchecks, workers: str) -> Contender:
    def measure(args: argparse.Namespace) -> float:
        with serving(hc, workers) as port:
            return load(name, port, "/api/v3/status/", hc.uuids, hc.recorded, args)

    return Contender(name, measure)


def thereyet(name: str, data: Path, db_url: str | None, n: int) -> Contender:
    """A hub on `db_url` (SQLite in `data` if None), made, migrated and seeded now."""
    url = db_url or f"sqlite:///{data / 'thereyet.db'}"
    with running_hub(data, db_url):
        pass  # made and migrated
    uuids = seed_checks(url, n, prefix=f"check{n}")

    def measure(args: argparse.Namespace) -> float:
        with running_hub(data, db_url) as hub:
            return load(name, hub.port, "/api/v1/health", uuids, lambda: count_runs(url), args)

    return Contender(name, measure)


def contenders(args: argparse.Namespace, n: int) -> list[Contender]:
    """healthchecks on SQLite, thereyet on SQLite, then the --db and --also lines."""
    hc = Healthchecks(args.hc_checkout, args.hc_python, args.tmp / f"hc-{n}")
    hc.set_up(n)
    print(
        f"{n} check{'s' if n != 1 else ''} (healthchecks' SQLite journal_mode: {hc.journal_mode()}):"
    )
    found = [
        healthchecks(PEER, hc, HC_WORKERS),
        thereyet("thereyet (SQLite)", args.tmp / f"thereyet-sqlite-{n}", None, n),
    ]
    if args.pg_thereyet:
        data = args.tmp / f"thereyet-pg-{n}"
        found.append(thereyet("thereyet (PostgreSQL)", data, args.pg_thereyet, n))
        on_pg = Healthchecks(args.hc_checkout, args.hc_python, args.tmp / f"hc-pg-{n}")
        on_pg.pg_url, on_pg.conn_max_age = args.pg_healthchecks, args.hc_conn_max_age
        on_pg.set_up(n)
        name = f"extra: healthchecks (PostgreSQL, DB_CONN_MAX_AGE={on_pg.conn_max_age}), -w 2"
        found.append(healthchecks(name, on_pg, HC_WORKERS))
    found += [healthchecks(f"extra: healthchecks (SQLite), {w}", hc, w) for w in args.also]
    return found


def compare(args: argparse.Namespace, n: int) -> None:
    """Set everything up with `n` checks, then measure each in turn for --rounds rounds."""
    servers = contenders(args, n)
    rates: dict[str, list[float]] = {server.name: [] for server in servers}
    for round_ in range(1, args.rounds + 1):
        print(f" round {round_}")
        for server in servers:
            rates[server.name].append(server.measure(args))
    print(f"  pings/s, mean over {args.rounds} rounds:")
    for name, found in rates.items():
        rounds = ", ".join(f"{rate:.0f}" for rate in found)
        print(f"    {name:44} {sum(found) / len(found):7.0f} /s  (rounds: {rounds})")
    for name, found in rates.items():
        if name.startswith("thereyet"):
            ratio = sum(found) / sum(rates[PEER])
            print(f"  ratio {name} / {PEER}: {ratio:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--healthchecks", required=True, help="a healthchecks checkout")
    parser.add_argument("--hc-python", required=True, help="the interpreter of its venv")
    parser.add_argument("--checks", default="1,200")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--db", help="a PostgreSQL URL; scratch databases are made on its server")
    parser.add_argument(
        "--hc-conn-max-age",
        type=int,
        default=0,
        help="healthchecks' DB_CONN_MAX_AGE on PostgreSQL (its default 0: a connection a request)",
    )
    parser.add_argument(
        "--also", action="append", default=[], help='other gunicorn options, say "-w 2 --threads 4"'
    )
    args = parser.parse_args()
    args.hc_checkout = Path(args.healthchecks).resolve()
    args.hc_python = Path(args.hc_python)
    os.environ.update(
        THEREYET_PING_RATE_PER_MINUTE="10000000",
        THEREYET_PING_BURST="1000000",
        THEREYET_KEEP_RUNS="0",
    )
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        args.tmp = Path(tmp)
        print(Healthchecks(args.hc_checkout, args.hc_python, args.tmp).versions())
        print(f"wrk, 2 threads, {args.connections} connections, {args.seconds} s each")
        args.pg_thereyet = args.pg_healthchecks = None
        if args.db:
            args.pg_thereyet = stack.enter_context(scratch_pg_database(args.db))
            args.pg_healthchecks = stack.enter_context(scratch_pg_database(args.db))
        for n in (int(x) for x in args.checks.split(",")):
            compare(args, n)
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
