"""`thereyet agent`: run the hub's jobs on this host, standard library only.

The agent registers, then long-polls the hub (`/api/v1/agents/NAME/poll`): every
poll is also its heartbeat and says which runs it still runs. Nothing listens on
the host; it works through proxies and NAT like any HTTP client.

For each run it is handed, it first tells the hub it starts it (the hub answers
409 if the run is no longer its own, and then it does not run it), then runs the
job's declared argument list (a shell only when the job says so) in the job's
working directory, with the job's environment plus THEREYET_URL, THEREYET_RUN_ID
and THEREYET_TOKEN (a token good for that run only). Output and progress go to the
run through `thereyet run`'s own code (client/command.py). A cancel sends SIGTERM
to the command's process group, and SIGKILL after a grace.

While the hub is away the commands go on; their reports wait in memory and are
delivered when it answers again (or spooled, if the agent has to stop first).
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from .command import Launch, run_command
from .config import Config
from .runs import Run
from .sender import Sender
from .transport import HubError, Transport, path

log = logging.getLogger("thereyet.agent")
REGISTER_BACKOFF = (0.5, 1, 2, 5, 10)


@dataclass(frozen=True)
class AgentOptions:
    url: str
    token: str
    name: str
    host: str
    tags: tuple[str, ...] = ()
    slots: int = 1
    allow: tuple[str, ...] = ()  # globs a command's program must match (none: any)
    wait: float = 8.0  # how long one poll may wait for work (the hub waits at most 8 s)
    grace: float = 10.0  # between SIGTERM and SIGKILL
    state_dir: Path = field(default_factory=lambda: Path.home() / ".local/state/thereyet")
    deliver_timeout: float = 600.0  # how long a finished run's reports are tried before spooling
    parent: int | None = None  # stop when this process is gone (the demo hub's own agent)


def refusal(options: AgentOptions, grant: dict[str, Any]) -> str | None:
    """Why this agent will not run the granted command (its --allow), or None."""
    if not options.allow:
        return None
    if grant["shell"]:
        return "this agent runs no shell commands (it was started with --allow)"
    program = grant["command"][0]
    if not os.path.isabs(program):
        program = shutil.which(program, path=(grant["env"] or {}).get("PATH")) or program
    if any(fnmatch.fnmatch(program, pattern) for pattern in options.allow):
        return None
    return f"{program} is not allowed on agent {options.name} (--allow {' '.join(options.allow)})"


@dataclass
class Job:
    """One command this agent runs."""

    run_id: str
    launch: Launch = field(default_factory=Launch)
    child: subprocess.Popen[bytes] | None = None
    why_stopped: str | None = None

    def signal(self, signum: int) -> None:
        child = self.child
        if child is None or child.poll() is not None:
            return
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signum)


class Agent:
    def __init__(self, options: AgentOptions) -> None:
        self.options = options
        self.transport = Transport(options.url, options.token, timeout=options.wait + 15)
        self.jobs: dict[str, Job] = {}
        self.started: set[str] = set()  # never start a run twice in this process
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    # -- the loop ----------------------------------------------------------------------

    def serve(self) -> int:
        """Register, then poll until stopped; stop the commands still running on the way out."""
        self._register()
        failures = 0
        while not self.stopping.is_set():
            if self._orphaned():
                break
            try:
                answer = self._call("poll", {"running": self._running(), "wait": self.options.wait})
            except HubError as exc:
                failures += 1
                if exc.status in (404, 409):
                    # The hub forgot this agent (a restored backup, an admin removed it),
                    # or its name went to another token: register again, which ends
                    # this agent if the name is no longer its own.
                    self._register()
                    continue
                self._pause(failures, exc)
                continue
            failures = 0
            self._act(answer)
        self._stop_all()
        return 0

    def _act(self, answer: dict[str, Any]) -> None:
        for run_id in answer.get("cancel") or []:
            self.cancel(run_id, "cancelled from the hub")
        for offer in answer.get("work") or []:
            if len(self._running()) >= self.options.slots:
                # Handed more than it has free slots (a run that just ended is still
                # being reported): the rest wait their turn, without polling in a loop.
                self.stopping.wait(0.2)
                break
            self._start(offer)

    def _register(self) -> None:
        body = {
            "name": self.options.name,
            "host": self.options.host,
            "tags": list(self.options.tags),
            "version": __version__,
            "slots": self.options.slots,
            "running": self._running(),
        }
        attempt = 0
        while not self.stopping.is_set():
            try:
                answer = self.transport.call("POST", path("agents", "register"), body).body
            except HubError as exc:
                if not exc.retry:
                    raise
                self._pause(attempt + 1, exc)
                attempt += 1
                continue
            log.info("registered with %s as %s", self.options.url, self.options.name)
            for run_id in answer.get("cancel") or []:
                self.cancel(run_id, "the hub no longer runs it here")
            return

    def _orphaned(self) -> bool:
        return self.options.parent is not None and os.getppid() != self.options.parent

    def _pause(self, failures: int, exc: HubError) -> None:
        if self._orphaned():
            self.stopping.set()
            return
        # Never quieter than a poll would be: a long silence would make the hub take
        # this agent for lost as soon as it is back.
        delay = min(REGISTER_BACKOFF[min(failures, len(REGISTER_BACKOFF)) - 1], self.options.wait)
        delay = max(delay, 0.5)
        log.warning("hub: %s; trying again in %s s", exc.reason, delay)
        self.stopping.wait(delay)

    def _call(self, verb: str, body: dict[str, Any]) -> Any:
        return self.transport.call("POST", path("agents", self.options.name, verb), body).body

    def _running(self) -> list[str]:
        with self.lock:
            return sorted(self.jobs)

    # -- one run -----------------------------------------------------------------------

    def _start(self, offer: dict[str, Any]) -> None:
        run_id = offer["run_id"]
        if run_id in self.started:
            return
        job = Job(run_id)
        with self.lock:  # named in polls from before the hub hears of the start
            self.jobs[run_id] = job
        try:
            target = path("agents", self.options.name, "runs", run_id, "start")
            grant = self.transport.call("POST", target).body
        except HubError as exc:
            with self.lock:
                self.jobs.pop(run_id, None)
            log.warning("not starting run %s: %s", run_id, exc.reason)
            return
        self.started.add(run_id)
        thread = threading.Thread(target=self._run, args=(job, grant), name=f"run-{run_id}")
        thread.daemon = True
        thread.start()

    def _run(self, job: Job, grant: dict[str, Any]) -> None:
        spool = self.options.state_dir / f"agent-{self.options.name}" / job.run_id
        config = Config(url=self.options.url, token=grant["token"], spool_dir=spool)
        sender = Sender(config)
        sender.start()
        run = Run(grant["job"], id=job.run_id, sender=sender, existing=True)
        try:
            refused = refusal(self.options, grant)
            if refused is not None:
                run.finish("failed", exit_code=126, error=refused)
            else:
                self._execute(job, grant, run)
        except Exception as exc:  # the agent outlives any one run
            log.exception("run %s", job.run_id)
            run.finish("failed", error=f"the agent could not run it: {exc}")
        finally:
            sender.close(timeout=self.options.deliver_timeout)
            with self.lock:
                self.jobs.pop(job.run_id, None)
            with contextlib.suppress(OSError):
                spool.rmdir()  # left only when reports had to be spooled

    def _execute(self, job: Job, grant: dict[str, Any], run: Run) -> None:
        env = {**os.environ, **(grant["env"] or {})}
        env.update(
            THEREYET_URL=self.options.url, THEREYET_TOKEN=grant["token"], THEREYET_RUN_ID=job.run_id
        )
        job.launch = Launch(cwd=grant["cwd"], env=env, shell=grant["shell"], own_group=True)
        limit = grant.get("time_limit")
        timer = None
        if limit:
            timer = threading.Timer(limit, self._time_up, (job, run, limit))
            timer.daemon = True
            timer.start()

        def started(child: subprocess.Popen[bytes]) -> None:
            job.child = child

        with open(os.devnull, "wb") as sink:
            run_command(
                grant["command"], run, stdout=sink, stderr=sink, on_start=started, how=job.launch
            )
        if timer is not None:
            timer.cancel()

    def _time_up(self, job: Job, run: Run, limit: float) -> None:
        run.finish("failed", error=f"stopped: the job's time limit of {limit:g} s was reached")
        self._stop(job)

    def cancel(self, run_id: str, why: str) -> None:
        """Stop a run's command: SIGTERM to its process group, SIGKILL after the grace."""
        with self.lock:
            job = self.jobs.get(run_id)
        if job is None or job.why_stopped is not None:
            return
        job.why_stopped = why
        job.launch.received.append(signal.SIGTERM)
        self._stop(job)

    def _stop(self, job: Job) -> None:
        job.signal(signal.SIGTERM)
        killer = threading.Timer(self.options.grace, job.signal, (signal.SIGKILL,))
        killer.daemon = True
        killer.start()

    def _stop_all(self) -> None:
        """On the way out (SIGTERM, Ctrl-C): stop every command and report how it ended."""
        with self.lock:
            jobs = list(self.jobs.values())
        for job in jobs:
            self.cancel(job.run_id, "the agent is stopping")
        deadline = time.monotonic() + self.options.grace + 5
        while self._running() and time.monotonic() < deadline:
            time.sleep(0.1)
