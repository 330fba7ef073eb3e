"""Built-in commands: `!help`, `!status`, `!eta`, `!run`, and the registry others add to.

Adding a built-in is one function and one registry line (the decorator):

    @builtin("ack {incident:int}", "Acknowledge an incident", roles=("operator", "admin"))
    async def ack(ctx: Context) -> str:
        ...  # ctx.args["incident"] is an int; return what to say in the room

A built-in with side effects (roles given) is denied to everyone else; one
without roles is open to anyone who may post in the room. `!ack`, `!resolve`
and `!oncall` belong to the incidents work and register themselves the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..domain.access import Principal
from ..domain.commands import Caller, CommandError, Policy, parse_template
from ..domain.policy import Action, Resource
from ..domain.runs import RunFilter, RunStatus
from ..hub import Hub
from ..store import monitoring as job_store
from ..store import rooms as room_store
from ..store.writer import Tx
from .command_config import CommandSpec
from .runs import RunService
from .schedules import ScheduleService

Handler = Callable[["Context"], Awaitable[str]]
T = TypeVar("T")


@dataclass
class Services:
    """What built-ins may use. Others add a field here for theirs (e.g. incidents)."""

    hub: Hub
    runs: RunService
    schedules: ScheduleService
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    who: Principal
    caller: Caller
    room: str
    args: dict[str, Any]
    services: Services
    visible: list[CommandSpec]  # what this caller may run here (for !help)

    async def read(self, fn: Callable[[], T]) -> T:
        """A service's read, in a thread: a command is answered on the event loop that
        answers the hub's requests, which must not wait while the database does."""
        return await asyncio.to_thread(fn)


@dataclass(frozen=True)
class Builtin:
    spec: CommandSpec
    handler: Handler


BUILTINS: dict[str, Builtin] = {}


def builtin(
    template: str,
    description: str,
    *,
    roles: tuple[str, ...] = (),
    examples: tuple[str, ...] = (),
) -> Callable[[Handler], Handler]:
    """Register a built-in command; `roles` makes it a command with side effects."""
    parsed = parse_template(template)
    policy = Policy(side_effects=bool(roles), roles=frozenset(roles))

    def register(handler: Handler) -> Handler:
        spec = CommandSpec(parsed, description, policy, examples)
        BUILTINS[parsed.name] = Builtin(spec, handler)
        return handler

    return register


@builtin(
    "help {command=}", "List the commands you may run here, or show one", examples=("!help deploy",)
)
async def help_(ctx: Context) -> str:
    wanted = str(ctx.args.get("command") or "").lstrip("!")
    if wanted:
        spec = next((s for s in ctx.visible if s.name == wanted), None)
        if spec is None:
            raise CommandError(f"no command `!{wanted}` that you may run here")
        lines = [f"`{spec.template.usage()}`: {spec.description}"]
        lines += [f"- e.g. `{e}`" for e in spec.examples]
        return "\n".join(lines)
    lines = [
        f"- `{s.template.usage()}`: {s.description}"
        for s in sorted(ctx.visible, key=lambda s: s.name)
    ]
    return "Commands you may run here:\n" + "\n".join(lines)


@builtin("status {job=}", "What is running now (of one job, if named)", examples=("!status",))
async def status(ctx: Context) -> str:
    job = str(ctx.args.get("job") or "") or None
    flt = RunFilter(job=job, statuses=(RunStatus.QUEUED, RunStatus.RUNNING))
    runs = await ctx.read(lambda: ctx.services.runs.search(ctx.who, flt, limit=20))
    if not runs:
        return f"nothing of {job} is running" if job else "nothing is running"
    return "\n".join(_run_line(r) for r in runs)


@builtin("eta {job}", "When the running job will be done", examples=("!eta customer-export",))
async def eta(ctx: Context) -> str:
    job = str(ctx.args["job"])
    flt = RunFilter(job=job, statuses=(RunStatus.RUNNING,))
    runs = await ctx.read(lambda: ctx.services.runs.search(ctx.who, flt, limit=5))
    if not runs:
        return f"no run of {job} is running"
    return "\n".join(_run_line(r) for r in runs)


def _run_line(view: dict[str, Any]) -> str:
    percent = view["progress"]["percent"]
    done = f" {percent:g}%" if percent is not None else ""
    eta_text = view["eta"].get("text") or "unknown"
    return f"- {view['job']} `{view['id']}` {view['status']}{done}, ETA {eta_text}"


@builtin("run {job}", "Start a job now, as its schedule would", roles=("operator", "admin"))
async def run(ctx: Context) -> str:
    return await start_job(ctx.services, ctx.who, str(ctx.args["job"]))


async def start_job(services: Services, who: Principal, job: str) -> str:
    """Start `job` for `who` the way the scheduler does (its callback target); say which run.

    `who` must be allowed to start runs of the job (inside its limits)."""

    def write(tx: Tx) -> str:
        row = job_store.job_row(tx.conn, job)
        rooms = [] if row is None else room_store.job_room_names(tx.conn, row.id)
        if row is None or not who.may(Resource.JOBS, Action.READ, job=job, rooms=rooms):
            raise CommandError(f"no job named {job!r}", field="job")
        if not who.may(Resource.JOBS, Action.WRITE, job=job, rooms=rooms):
            raise CommandError(f"you may not start runs of job {job!r}", field="job")
        if not row.target:
            raise CommandError(f"job {job!r} has no target the hub can start", field="job")
        run_id = services.schedules.start_in(tx, row, tx.now, trigger="chat")
        return f"started {job}: run `{run_id}`"

    return await services.hub.writer.run(write)
