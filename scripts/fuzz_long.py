"""The long fuzz run: schemathesis against a real `thereyet server`, every operation,
until at least --requests requests were sent; prints how many answered 5xx (target 0).

Starts a hub (SQLite, or --db PostgreSQL) on a free loopback port, puts a room,
a run, integrations and an on-call service in it, runs the same schemathesis
command as the suite's fuzz stage (all checks, stateful phase, fixed seed) with
more examples per operation, counts the requests and statuses from its HAR
report, and checks that the hub still answers.

    python scripts/fuzz_long.py [--examples 300] [--minutes M] [--db URL] [--random --seed N]
                                [--output F]

With --minutes, schemathesis is interrupted (as Ctrl-C does) after M minutes and
reports what it ran by then.
"""

from __future__ import annotations

import argparse
import collections
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _hub import ADMIN_TOKEN, running_hub  # noqa: E402


def seed(hub: object) -> str:
    """Put a room, a run, integrations and an on-call service in the hub; the id of the
    spare admin token the fuzzer may revoke (see tests/trust/test_fuzz_openapi.py)."""
    call = hub.call  # type: ignore[attr-defined]
    call("POST", "/api/v1/rooms", {"name": "ops", "title": "ops", "topic": ""})
    call("PUT", "/api/v1/oncall/people/ana", {"timezone": "UTC"})
    steps = [{"targets": [{"kind": "person", "name": "ana"}], "delay_minutes": 5}]
    call("PUT", "/api/v1/oncall/policies/default", {"steps": steps})
    call("PUT", "/api/v1/oncall/services/payments", {"room": "ops", "policy": "default"})
    for kind in ("pagerduty", "alertmanager"):
        call(
            "POST",
            "/api/v1/oncall/integrations",
            {"name": kind, "service": "payments", "kind": kind},
        )
    for fmt in ("slack", "github", "gitlab", "jenkins", "nagios"):
        call("POST", "/api/v1/integrations", {"name": fmt, "format": fmt, "room": "ops"})
    call("POST", "/api/v1/runs", {"job": "export", "room": "ops"})
    return str(call("POST", "/api/v1/tokens", {"name": "fuzz-spare", "scope": "admin"})["id"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--db", default=None)
    parser.add_argument("--minutes", type=float, help="stop schemathesis after this long")
    parser.add_argument(
        "--random", action="store_true", help="use --seed instead of deterministic generation"
    )
    parser.add_argument("--output", type=Path, help="keep schemathesis's whole report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_hub(Path(tmp) / "hub", args.db) as hub:
        spare = seed(hub)
        har = Path(tmp) / "run.har"
        from tests.trust.test_fuzz_openapi import fuzz_config, schemathesis_command

        url = f"http://127.0.0.1:{hub.port}"
        config = fuzz_config(Path(tmp), spare)
        command = schemathesis_command(url, args.examples, config, args.seed)
        command[command.index(f"--header=Authorization: Bearer {_test_token()}")] = (
            f"--header=Authorization: Bearer {ADMIN_TOKEN}"
        )
        command += ["--report=har", f"--report-har-path={har}"]
        if args.random:
            command.remove("--generation-deterministic")
        started = time.monotonic()
        done = run_bounded(command, Path(tmp), args.minutes)
        took = time.monotonic() - started
        entries = json.loads(har.read_text())["log"]["entries"]
        statuses = collections.Counter(e["response"]["status"] for e in entries)
        operations = {(e["request"]["method"], e["request"]["url"].split("?")[0]) for e in entries}
        server_errors = sum(n for status, n in statuses.items() if status >= 500)
        healthy = hub.call("GET", "/api/v1/health")["status"] == "ok"
        if args.output:
            args.output.write_text(done.stdout + done.stderr)
        print(done.stdout[-3000:])
        print(f"requests: {len(entries)} in {took:.0f} s ({len(entries) / took:.1f}/s)")
        print(f"distinct method+URL pairs: {len(operations)}")
        print(f"statuses: {dict(sorted(statuses.items()))}")
        print(f"5xx answers: {server_errors}; hub answers afterwards: {healthy}")
        print(f"schemathesis exit status: {done.returncode}")
        return 0 if server_errors == 0 and healthy else 1


def run_bounded(
    command: list[str], cwd: Path, minutes: float | None
) -> subprocess.CompletedProcess[str]:
    """Run schemathesis; after `minutes`, interrupt it as Ctrl-C does, so that it still
    writes its report (and the HAR) of what it ran."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
    )
    try:
        out, err = process.communicate(timeout=None if minutes is None else minutes * 60)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate()
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def _test_token() -> str:
    from tests.conftest import ADMIN_TOKEN as TEST_TOKEN

    return TEST_TOKEN


if __name__ == "__main__":
    sys.exit(main())
