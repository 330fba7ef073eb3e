"""Real agents for tests: `python -m thereyet agent` processes, each with its own name
(and tags, slots...), against real hub processes.

    hub = AgentHub.start(tmp_path)             # a `thereyet server`, agents lost after 3 s
    a1 = hub.agent("a1", tags="linux,db")       # a real agent process, registered
    hub.job("backup", command=[...], tags=["db"])
    run_id = hub.run_now("backup")              # `!run backup` in the room, as a person does
    hub.wait_run(run_id, "succeeded")

Commands the jobs run write a line to `hub.starts` when they begin, so a test can
tell how many times each run really started, on which agent.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import ADMIN_TOKEN
from tests.servers import HubProcess, wait_for

LOST_AFTER = 3.0  # seconds: agents silent this long are lost (the hub's setting, for tests)


def call(url: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http)
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@dataclass
class AgentProcess:
    """One `thereyet agent` process; killed (SIGKILL), paused (SIGSTOP) or stopped."""

    name: str
    url: str
    token: str
    workdir: Path
    args: list[str] = field(default_factory=list)
    prefix: list[str] = field(default_factory=list)  # e.g. `ip netns exec NS`
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> AgentProcess:
        command = [*self.prefix, sys.executable, "-m", "thereyet", "agent", "--url", self.url]
        command += ["--token", self.token, "--name", self.name, "--wait", "1", "--grace", "1"]
        command += ["--state-dir", str(self.workdir / "state"), *self.args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("THEREYET_")}
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        return self

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class AgentHub:
    """A hub process, an agent token, the agents started against it and a starts log."""

    hub: HubProcess
    workdir: Path
    token: str = ""
    agents: list[AgentProcess] = field(default_factory=list)

    @classmethod
    def start(cls, workdir: Path, db: str = "", **env: str) -> AgentHub:
        settings = {"THEREYET_AGENT_LOST_AFTER": str(LOST_AFTER), **env}
        hub = HubProcess(workdir / "hub", db=db, env=settings)
        hub.start()
        made = cls(hub, workdir)
        made.token = made.api("POST", "/api/v1/tokens", {"name": "agents", "scope": "agent"})[
            "token"
        ]
        return made

    @property
    def url(self) -> str:
        return self.hub.url

    @property
    def starts(self) -> Path:
        return self.workdir / "starts.log"

    def api(self, method: str, path: str, body: Any = None, token: str = ADMIN_TOKEN) -> Any:
        status, answer = call(self.url, token, method, path, body)
        assert 200 <= status < 300, f"{method} {path}: {status} {answer}"
        return answer

    def agent(
        self, name: str, *args: str, url: str | None = None, prefix: list[str] | None = None
    ) -> AgentProcess:
        """Start an agent process and return once the hub lists it online."""
        agent = AgentProcess(
            name, url or self.url, self.token, self.workdir / "agents", list(args), prefix or []
        )
        self.agents.append(agent.start())
        wait_for(lambda: self.agent_state(name) == "online", 30, what=f"agent {name} online")
        return agent

    def agent_state(self, name: str) -> str | None:
        found = [a for a in self.api("GET", "/api/v1/agents")["agents"] if a["name"] == name]
        return found[0]["state"] if found else None

    def job(self, name: str, script: str, **target: Any) -> None:
        """A job whose command is `sh -c script`, noting its start in the starts log."""
        mark = f'echo "$THEREYET_RUN_ID" >> {self.starts}; '
        body = {"kind": "agent", "command": ["sh", "-c", mark + script], **target}
        self.api("PUT", f"/api/v1/jobs/{name}/schedule", {"target": body, "room": "ops"})

    def say(self, text: str) -> None:
        self.api("POST", "/api/v1/rooms/ops/messages", {"text": text})

    def run_now(self, job: str) -> str:
        """`!run job` in the room; the id of the run it started."""
        before = {r["id"] for r in self.runs(job)}
        self.say(f"!run {job}")
        new = wait_for(
            lambda: [r for r in self.runs(job) if r["id"] not in before], 30, what=f"a run of {job}"
        )
        return str(new[0]["id"])

    def runs(self, job: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/api/v1/runs?job={job}&limit=100")["runs"])

    def run(self, run_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api("GET", f"/api/v1/runs/{run_id}")
        return found

    def wait_run(self, run_id: str, *statuses: str, timeout: float = 30) -> dict[str, Any]:
        return wait_for(
            lambda: (view := self.run(run_id))["status"] in statuses and view,
            timeout,
            what=f"run {run_id} {'/'.join(statuses)}",
        )

    def wait_all(self, job: str, count: int, status: str = "succeeded") -> list[dict[str, Any]]:
        """The job's runs, once there are `count` and all of them have `status`."""
        return wait_for(
            lambda: (
                len(runs := self.runs(job)) == count
                and all(r["status"] == status for r in runs)
                and runs
            ),
            30,
            what=f"{count} runs of {job} {status}",
        )

    def started(self) -> list[str]:
        """Run ids, once per time a command began."""
        return self.starts.read_text().split() if self.starts.exists() else []

    def close(self) -> None:
        for agent in self.agents:
            agent.stop()
        with contextlib.suppress(Exception):
            self.hub.stop()
