"""The fuzz stage: schemathesis against the hub's own OpenAPI, on a real hub (uvicorn).

Every operation gets generated requests (examples, fuzzing, then the stateful
phase that chains them through the links it infers), and every answer is
checked: no 5xx, the documented status codes, content types and response
schemas (errors are declared as ErrorOut, web/responses.py). One check is left
out: `positive_data_acceptance` expects any schema-valid request to succeed,
but a valid id of something that does not exist is rightly a 404.

With success answers declared too (web/answers.py), the stateful phase follows
the links it infers from them: from the list of tokens to "revoke a token" it
would revoke the very token it calls with, and every later request would be a
401. So that one operation is given a spare token of its own to revoke
(fuzz_config); it is fuzzed like the rest otherwise.

A fixed seed makes a failure repeatable; 10 examples per operation keep the
stage to about a minute. The long run (20,000+ requests) is in docs/benchmarks.md.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, make_settings
from tests.servers import serve
from tests.trust.conftest import make_integrations
from thereyet.server.app import create_app

SEED = 20261206
pytestmark = pytest.mark.slow


def fuzz_config(directory: Path, spare_token_id: str) -> Path:
    """schemathesis's configuration: "revoke a token" revokes only the spare token."""
    config = directory / "schemathesis.toml"
    config.write_text(
        "[[operations]]\n"
        'include-name = "DELETE /api/v1/tokens/{token_id}"\n'
        f'parameters = {{ "path.token_id" = "{spare_token_id}" }}\n'
    )
    return config


def spare_token(api: httpx.Client) -> str:
    """The id of an admin token made for the fuzzer to revoke."""
    made = api.post("/api/v1/tokens", json={"name": "fuzz-spare", "scope": "admin"})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def schemathesis_command(url: str, examples: int, config: Path, seed: int = SEED) -> list[str]:
    """The schemathesis CLI run this stage (and the long run in docs/benchmarks.md) uses."""
    runner = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert runner, "schemathesis is not installed (it is in the test extra)"
    return [
        runner,
        f"--config-file={config}",
        "run",
        f"{url}/api/openapi.json",
        "--wait-for-schema=30",
        f"--header=Authorization: Bearer {ADMIN_TOKEN}",
        "--checks=all",
        "--exclude-checks=positive_data_acceptance",
        "--phases=examples,fuzzing,stateful",
        f"--max-examples={examples}",
        f"--seed={seed}",
        "--generation-deterministic",
        "--no-color",
    ]


@pytest.fixture
def hub_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real hub with something in it (a room, a run, integrations, an on-call service),
    and the fuzzer's configuration for it."""
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path))
    with serve(app) as url, httpx.Client(base_url=url) as api:
        api.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        make_integrations(api)
        assert api.post("/api/v1/runs", json={"job": "export", "room": "ops"}).is_success
        yield url, fuzz_config(tmp_path, spare_token(api))


def test_schemathesis_finds_no_server_error_and_no_answer_unlike_the_schema(
    hub_url: tuple[str, Path], tmp_path: Path
) -> None:
    url, config = hub_url
    command = schemathesis_command(url, examples=10, config=config)
    # Run where its cache (.schemathesis/) cannot end up in the repository.
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    assert " passed" in done.stdout and "failed" not in done.stdout.split("SUMMARY")[-1], report
    assert httpx.get(f"{url}/api/v1/health").json()["status"] == "ok"
