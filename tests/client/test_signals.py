"""SIGTERM finishes a run as cancelled; `thereyet run` forwards signals to its command."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.client.conftest import client_env
from tests.servers import wait_for

pytestmark = pytest.mark.slow

LOOPING_JOB = """
import sys, time, thereyet
with thereyet.run("long-export", room="ops") as run:
    print(run.id, flush=True)
    for i in range(10_000):
        run.progress(i, 10_000)
        time.sleep(0.01)
"""

TRAPPING_COMMAND = """
import signal, sys, time
def stop(signum, frame):
    print("child got", signal.Signals(signum).name, flush=True)
    sys.exit(143)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
time.sleep(60)
"""


def started(live_hub, run_id: str) -> bool:
    response = live_hub.api.get(f"/api/v1/runs/{run_id}")
    return response.status_code == 200 and (response.json()["progress"]["done"] or 0) > 0


@pytest.fixture
def processes():
    """Processes a test starts, killed at the end whatever happened."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_sigterm_finishes_the_run_as_cancelled_and_the_process_dies_of_it(
    live_hub, tmp_path, processes
):
    job = subprocess.Popen(
        [sys.executable, "-c", LOOPING_JOB],
        env=client_env(live_hub.url, live_hub.token, tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    processes.append(job)
    assert job.stdout is not None
    run_id = job.stdout.readline().strip()
    wait_for(lambda: started(live_hub, run_id))
    job.send_signal(signal.SIGTERM)
    assert job.wait(20) == -signal.SIGTERM
    view = live_hub.run(run_id)
    assert view["status"] == "cancelled"
    assert "SIGTERM" in (view["error"] or "")


def test_thereyet_run_forwards_sigterm_to_its_command_and_reports_cancelled(
    live_hub, tmp_path, processes
):
    wrapper = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "thereyet.cli.main",
            "run",
            "--job",
            "trap",
            "--",
            sys.executable,
            "-c",
            TRAPPING_COMMAND,
        ],
        env=client_env(live_hub.url, live_hub.token, tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    processes.append(wrapper)
    assert wrapper.stdout is not None
    assert wrapper.stdout.readline().strip() == "ready"
    wait_for(lambda: live_hub.runs(job="trap"))
    wrapper.send_signal(signal.SIGTERM)
    rest = wrapper.stdout.read()
    code = wrapper.wait(20)
    assert "child got SIGTERM" in rest
    assert code != 0
    view = wait_for(lambda: (r := live_hub.runs(job="trap")[0])["status"] != "running" and r)
    assert view["status"] == "cancelled"


WRAPPER = [sys.executable, "-m", "thereyet.cli.main", "run"]
SLEEPING_COMMAND = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGINT])
def test_thereyet_run_forwards_hup_and_int_and_exits_128_plus_the_signal(
    live_hub, tmp_path, processes, signum
):
    wrapper = subprocess.Popen(
        [*WRAPPER, "--job", "sleeper", "--", sys.executable, "-c", SLEEPING_COMMAND],
        env=client_env(live_hub.url, live_hub.token, tmp_path),
        stdin=subprocess.DEVNULL,  # not a terminal: the wrapper must pass SIGINT on itself
        stdout=subprocess.PIPE,
        text=True,
    )
    processes.append(wrapper)
    assert wrapper.stdout is not None
    assert wrapper.stdout.readline().strip() == "ready"
    wait_for(lambda: live_hub.runs(job="sleeper"))
    wrapper.send_signal(signum)
    assert wrapper.wait(20) == 128 + signum
    view = wait_for(lambda: (r := live_hub.runs(job="sleeper")[0])["status"] != "running" and r)
    full = live_hub.run(view["id"])
    assert full["exit_code"] == 128 + signum
    assert full["error"].startswith(f"killed by {signal.Signals(signum).name}")


SIGNALLED_WHILE_STARTING = """
import os, signal, sys
from pathlib import Path
from thereyet.client.command import Launch, run_command
from thereyet.client.config import Config
from thereyet.client.runs import Run
from thereyet.client.sender import Sender

class SignalledWhileStarting(Launch):
    def popen(self, argv):
        os.kill(os.getpid(), signal.SIGTERM)  # as the command is being started
        return super().popen(argv)

config = Config(url="http://127.0.0.1:1", token="ty_x", spool_dir=Path(sys.argv[1]))
run = Run("cmd", sender=Sender(config))
code = run_command(["sleep", "30"], run, how=SignalledWhileStarting())
print(code, run._box.finish["status"], flush=True)
"""


def test_a_sigterm_while_the_command_starts_is_passed_on_to_it(tmp_path):
    """A signal that comes after `thereyet run` began starting its command but before the
    command was there to pass it to: the command gets it once started (it was this
    process's end, the command left running and its run never finished)."""
    done = subprocess.run(
        [sys.executable, "-c", SIGNALLED_WHILE_STARTING, str(tmp_path / "spool")],
        capture_output=True,
        text=True,
        timeout=20,  # `sleep 30` not stopped: the test fails here
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["143", "cancelled"]
