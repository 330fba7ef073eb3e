"""Agents: from due time to the process starting on an agent, against the HTTP-callback
target in the same run; an idle agent's CPU and memory; the hub's CPU per idle agent.

    python bench/agents.py --agents 10 --jobs 4 --seconds 30 [--db postgresql://...]
    python bench/agents.py --agents 50 --jobs 50 --every 3 --seconds 60   # full size

One hub (SQLite by default) runs `--jobs` routines every `--every` seconds whose target
is an agent command and `--jobs` routines on the same schedule whose target is an HTTP
callback, at the same time, with `--agents` real `thereyet agent` processes (4 slots
each); 50 routines every 3 s are 1,000 agent runs a minute (and 1,000 callbacks). An agent command
notes the wall clock when it starts; the callback service notes when the call arrives.
Lateness is that moment minus the occurrence's due time (runs.due_at). Then, with the
routines stopped, it measures the hub's CPU for a quiet spell with the agents polling,
and again with no agents (the baseline), and one idle agent's CPU and memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _hub import Recorder, running_hub, scratch_pg_database

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_agents(url: str, token: str, count: int, workdir: Path) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THEREYET_")}
    agents = []
    for n in range(count):
        command = [sys.executable, "-m", "thereyet", "agent", "--url", url, "--token", token]
        command += ["--name", f"bench-{n}", "--slots", "4", "--state-dir", str(workdir)]
        agents.append(
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    return agents


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


def summary(values: list[float]) -> str:
    values = sorted(values)
    if not values:
        return "nothing measured"
    median, p99 = statistics.median(values), percentile(values, 0.99)
    return f"{len(values)} runs, p50 {median:.3f} s, p99 {p99:.3f} s"


def due_times(db: str) -> dict[str, float]:
    engine = create_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, due_at FROM runs WHERE due_at IS NOT NULL"))
        found = {run_id: _utc(due).timestamp() for run_id, due in rows}
    engine.dispose()
    return found


def work_states(db: str) -> str:
    """How the agent runs ended up: 'done 150, queued 2'."""
    engine = create_engine(db)
    with engine.connect() as conn:
        query = (
            "SELECT w.state, r.status, count(*) FROM agent_work w JOIN runs r ON r.id = w.run_id"
            " GROUP BY w.state, r.status"
        )
        found = ", ".join(
            f"{state}/{status} {count}" for state, status, count in conn.execute(text(query))
        )
    engine.dispose()
    return found


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def wait_registered(hub, count: int) -> None:  # type: ignore[no-untyped-def]
    """Wait (at most 120 s) until `count` agents are online."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        agents = hub.call("GET", "/api/v1/agents")["agents"]
        if sum(a["state"] == "online" for a in agents) >= count:
            return
        time.sleep(0.5)
    raise SystemExit(f"only {len(agents)} of {count} agents registered")


def lateness(args: argparse.Namespace, hub, db: str, work: Path, token: str) -> None:  # type: ignore[no-untyped-def]
    recorder = Recorder()
    starts = work / "starts.log"
    agents = start_agents(f"http://127.0.0.1:{hub.port}", token, args.agents, work / "state")
    wait_registered(hub, args.agents)
    mark = f'echo "$THEREYET_RUN_ID $(date +%s.%N)" >> {starts}'
    agent_target = {"kind": "agent", "command": ["sh", "-c", mark]}
    http_target = {"kind": "http", "url": f"http://127.0.0.1:{recorder.port}/start"}
    for n in range(args.jobs):
        for kind, target in (("agent", agent_target), ("http", http_target)):
            body = {"schedule": f"every {args.every}s", "target": target}
            hub.call("PUT", f"/api/v1/jobs/{kind}-{n}/schedule", body)
    begin = time.time() + 3
    time.sleep(args.seconds + 3)
    end = time.time() - 2
    for n in range(args.jobs):
        for kind in ("agent", "http"):
            hub.call("PUT", f"/api/v1/jobs/{kind}-{n}/schedule", {"schedule": ""})
    time.sleep(3)
    states = work_states(db)
    stop(agents)
    recorder.close()
    due = due_times(db)
    started = {}
    for line in starts.read_text().splitlines() if starts.exists() else []:
        run_id, at = line.split()
        started[run_id] = float(at)
    agent_late = [at - due[r] for r, at in started.items() if r in due and begin <= due[r] <= end]
    http_late = [
        a.wall - due[a.body["run_id"]]
        for a in recorder.arrivals
        if a.body["run_id"] in due and begin <= due[a.body["run_id"]] <= end
    ]
    expected = int(args.jobs * (end - begin) / args.every)
    per_minute = args.jobs * 60 / args.every
    print(
        f"routines: {args.jobs} agent + {args.jobs} callback, every {args.every} s "
        f"({per_minute:.0f} agent runs a minute), {args.agents} agents"
    )
    print(f"  agent target, due -> process started: {summary(agent_late)} (of ~{expected} due)")
    print(f"  HTTP callback, due -> call arrived:   {summary(http_late)} (of ~{expected} due)")
    print(f"  agent runs at the end (all of them): {states}")
    ratio = percentile(sorted(agent_late), 0.5) / statistics.median(http_late)
    ratio99 = percentile(sorted(agent_late), 0.99) / percentile(sorted(http_late), 0.99)
    print(f"  ratio agent/callback: p50 {ratio:.2f}, p99 {ratio99:.2f}")


def idle_costs(args: argparse.Namespace, hub, work: Path, token: str) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{hub.port}"
    quiet = cpu_seconds(hub.process.pid)
    time.sleep(args.idle)
    baseline = cpu_seconds(hub.process.pid) - quiet
    agents = start_agents(url, token, args.agents, work / "idle")
    wait_registered(hub, args.agents)
    time.sleep(5)  # registered (the names are those of the agents just stopped) and polling
    hub_before = cpu_seconds(hub.process.pid)
    agent_before = cpu_seconds(agents[0].pid)
    time.sleep(args.idle)
    with_agents = cpu_seconds(hub.process.pid) - hub_before
    agent_cpu = cpu_seconds(agents[0].pid) - agent_before
    rss = rss_mib(agents[0].pid)
    stop(agents)
    per_agent = (with_agents - baseline) / args.agents / args.idle * 100
    print(f"idle, {args.idle:g} s: hub CPU {baseline:.2f} s with no agents (baseline), ")
    print(
        f"  {with_agents:.2f} s with {args.agents} idle agents: {per_agent:.3f} % of a core per agent"
    )
    print(f"  one idle agent: {agent_cpu / args.idle * 100:.3f} % of a core, RSS {rss:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="", help="a PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=4, help="routines of each kind")
    parser.add_argument("--every", type=int, default=1, help="seconds between occurrences")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--idle", type=float, default=30, help="seconds of each idle spell")
    args = parser.parse_args()
    print(f"load average at start: {Path('/proc/loadavg').read_text().strip()}")
    with tempfile.TemporaryDirectory() as data:
        work = Path(data)
        database = scratch_pg_database(args.db) if args.db else _sqlite(work)
        with database as db, running_hub(work / "hub", db) as hub:
            token = hub.call("POST", "/api/v1/tokens", {"name": "b", "scope": "agent"})
            lateness(args, hub, db, work, token["token"])
            idle_costs(args, hub, work, token["token"])
    print(
        f"load average at end: {Path('/proc/loadavg').read_text().strip()} ({os.cpu_count()} cores)"
    )


class _sqlite:
    def __init__(self, work: Path) -> None:
        self.url = f"sqlite:///{work / 'hub.db'}"

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
