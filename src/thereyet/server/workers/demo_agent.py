"""The demo's own agent: `thereyet server --demo` starts `thereyet agent` next to itself,
so `!run league-matches` in the demo room runs a real command, as on a team's server."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

from ..config import Settings
from ..domain.access import Scope
from ..services.errors import Conflict, NotFound
from ..services.schedules import JobConfig, ScheduleService
from ..services.tokens import TokenService

NAME = "demo-agent"
TOKEN_NAME = f"agent: {NAME}"
JOB = "league-matches"
# Plays 64 matches in about 15 s, saying "n/64" as it goes (progress, read from the output).
PLAY = (
    "import time\n"
    "for n in range(1, 65):\n"
    "    time.sleep(0.25)\n"
    "    print(f'match {n}/64 played', flush=True)\n"
)


def local_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}"


class DemoAgent:
    """Give the demo job an agent target and start one local agent for it."""

    job = JOB

    def __init__(self, schedules: ScheduleService, tokens: TokenService, settings: Settings):
        self.schedules = schedules
        self.tokens = tokens
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, room: str) -> None:
        target = {"kind": "agent", "command": [sys.executable, "-u", "-c", PLAY], "agent": NAME}
        with contextlib.suppress(Conflict):
            await self.schedules.configure(JOB, JobConfig(target=target, room=room))
        # The agent name belongs to a token: the one made at the demo's last start (its
        # agent gone with it) is revoked, which frees the name for this start's own.
        for old in self.tokens.all():
            if old["name"] == TOKEN_NAME and old["revoked_at"] is None:
                with contextlib.suppress(NotFound):
                    await self.tokens.revoke(old["id"])
        token, _ = await self.tokens.create(name=TOKEN_NAME, scope=Scope.AGENT, agent=NAME)
        command = [sys.executable, "-m", "thereyet", "agent", "--url", local_url(self.settings)]
        command += ["--name", NAME, "--tags", "demo", "--slots", "2", "--parent", str(os.getpid())]
        env = {**os.environ, "THEREYET_TOKEN": token}
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
