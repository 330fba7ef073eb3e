"""ChatOps: commands typed in a room, run with the poster's permissions, each one recorded.

A command posts an acknowledgement at once (or what it waits for: its caller's
`yes CODE`, a second person's `approve CODE`), streams its output into the room
in room-sized chunks, attaches the full output when it is long, and ends with a
result. Every execution is a `command_runs` record: who, where, arguments,
status, output, times. So is every command refused before it ran (unknown, not
allowed to the caller there, wrong arguments): status `refused`, with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .. import faults
from ..domain import policy as access_policy
from ..domain.access import Principal, Scope
from ..domain.commands import (
    Caller,
    CommandError,
    Gate,
    GateState,
    Invocation,
    Reply,
    explain,
    is_command_name,
    read_message,
    render_argv,
    resolve,
)
from ..hub import Hub
from ..store import commands as store
from ..store import rooms as room_store
from ..store.writer import Tx
from .attachments import save_attachment
from .command_builtins import BUILTINS, Context, Services, start_job
from .command_config import Action, CommandFile, CommandSpec
from .command_output import OutputStream, run_argv
from .command_records import gate_data, gate_of, principal_of, record_view
from .errors import NotFound
from .rooms import post_in_rooms
from .stored_commands import StoredCommands

log = logging.getLogger(__name__)

BOT = "thereyet"
_COMMANDS = access_policy.Resource.COMMANDS
_ROLES = {Scope.ADMIN: "admin", Scope.INGEST: "operator"}


def caller_of(who: Principal) -> Caller:
    """The role a poster has for command policies: admin, operator (may post) or viewer.

    A command's `users` are usernames: only a signed-in person goes by one, so a token
    named like a person is never taken for them."""
    name = who.name if who.is_user else who.id
    return Caller(name, _ROLES.get(who.scope, "viewer"))


def may_run(who: Principal, spec: CommandSpec, room: str) -> bool:
    """Whether `who` may run `spec` in `room`: the command's own `allow` lets them, and,
    for a command with side effects, the access policy lets them run commands there."""
    if not spec.policy.allows(caller_of(who), room):
        return False
    return not spec.policy.side_effects or who.may(
        _COMMANDS, access_policy.Action.WRITE, rooms=[room]
    )


def _shown(spec: CommandSpec, args: dict[str, Any]) -> str:
    words = [f"{k}={v}" for k, v in args.items() if v not in ("", None)]
    return "`!" + " ".join([spec.name, *words]) + "`"


@dataclass(frozen=True)
class _Start:
    record_id: int
    spec: CommandSpec
    args: dict[str, Any]
    who: Principal
    room: str


class CommandService:
    def __init__(
        self,
        hub: Hub,
        services: Services,
        commands_file: CommandFile | StoredCommands,
        *,
        new_code: Callable[[], str] = lambda: secrets.token_hex(2),
    ) -> None:
        self.hub = hub
        self.services = services
        self.file = commands_file
        self._new_code = new_code
        self._tasks: set[asyncio.Task[None]] = set()

    # -- what there is ---------------------------------------------------------------

    def catalog(self) -> dict[str, CommandSpec]:
        """Built-ins and the commands file's commands (a built-in keeps its name)."""
        found = {name: b.spec for name, b in BUILTINS.items()}
        for name, spec in self.file.commands().items():
            found.setdefault(name, spec)
        return found

    def config_error(self, who: Principal) -> str | None:
        """What is wrong with the commands file, for those who may manage commands."""
        return self.file.error if who.may(_COMMANDS, access_policy.Action.MANAGE) else None

    def visible(self, who: Principal, room: str | None) -> list[CommandSpec]:
        """The commands `who` may run in `room` (in any room when None)."""
        caller = caller_of(who)
        specs = self.catalog().values()
        if room is None:
            return [s for s in specs if _allows_anywhere(s, caller)]
        return [s for s in specs if may_run(who, s, room)]

    # -- the RoomService hook ----------------------------------------------------------

    async def on_posted(self, who: Principal, room: str, text: str) -> None:
        """Act on a command or a reply to one; tell the room what went wrong."""
        found = read_message(text)
        if found is None:
            return
        try:
            if isinstance(found, Invocation):
                start = await self._invoke(who, room, found)
            else:
                start = await self.hub.writer.run(lambda tx: self._reply(tx, who, room, found))
        except CommandError as exc:
            await self.say(room, f"{who.name}: {exc.message}")
            return
        except Exception:
            # The message itself is posted; a failing command must not undo that.
            log.exception("command in room %s failed", room)
            return
        if start is None:
            return
        if start.spec.policy.side_effects:
            self._launch(start)
        else:
            await self._execute(start)  # a quick read: answered before the post returns

    async def _invoke(self, who: Principal, room: str, typed: Invocation) -> _Start | None:
        catalog = self.catalog()
        runnable = {n: s for n, s in catalog.items() if may_run(who, s, room)}
        found = resolve(typed.name, runnable)
        try:
            if found.name is None:
                if typed.name in catalog:
                    raise CommandError(f"you may not run `!{typed.name}` here")
                raise CommandError(explain(typed.name, found))
            spec = runnable[found.name]
            args = spec.template.match(typed.args)
        except CommandError as exc:
            if not is_command_name(typed.name):
                raise  # "!!!" is chat: answered, not recorded
            command, why = found.name or typed.name, exc.message
            await self.hub.writer.run(lambda tx: self._refuse(tx, who, room, typed, command, why))
            return None
        approval = spec.policy.needs_approval(args)
        gated = spec.policy.confirm or bool(approval)

        def write(tx: Tx) -> _Start | None:
            room_id = self._room_id(tx, room)
            gate, code = None, None
            if gated:
                code = self._new_code()
                while store.waiting_by_code(tx.conn, room_id, code) is not None:
                    code = self._new_code()  # one waiting command per code in a room
                gate = Gate.open(
                    code,
                    who.name,
                    tx.now,
                    confirm=spec.policy.confirm,
                    approval=approval,
                    requester=who.id,
                )
            record_id = store.insert_run(
                tx.conn,
                room_id=room_id,
                command=spec.name,
                text=f"!{typed.name} {typed.args}".strip(),
                args=args,
                requested_by=who.name,
                status="waiting" if gate else "running",
                node=None if gate else self.hub.settings.node,
                code=code,
                gate=gate_data(gate, who),
                expires_at=gate.expires_at if gate else None,
                created_at=tx.now,
                started_at=None if gate else tx.now,
            )
            if gate is not None:
                self._post(
                    tx,
                    room_id,
                    record_id,
                    f"#{record_id} {_shown(spec, args)} waits: {gate.prompt()}",
                )
                return None
            if spec.policy.side_effects:
                self._post(
                    tx,
                    room_id,
                    record_id,
                    f"▶ #{record_id} {_shown(spec, args)} for {who.name}: running",
                )
            return _Start(record_id, spec, args, who, room)

        return await self.hub.writer.run(write)

    def _refuse(
        self, tx: Tx, who: Principal, room: str, typed: Invocation, command: str, why: str
    ) -> None:
        """Record a command that will not run, and tell its caller why, in one change."""
        room_id = self._room_id(tx, room)
        record_id = store.insert_run(
            tx.conn,
            room_id=room_id,
            command=command,
            text=f"!{typed.name} {typed.args}".strip(),
            args={},
            requested_by=who.name,
            status="refused",
            gate=gate_data(None, who),
            error=why,
            created_at=tx.now,
            finished_at=tx.now,
        )
        self._post(tx, room_id, record_id, f"{who.name}: {why}")

    def _reply(self, tx: Tx, who: Principal, room: str, reply: Reply) -> _Start | None:
        """`yes`, `no` or `approve` a waiting command; errors are said in the room."""
        room_id = self._room_id(tx, room)
        row = store.waiting_by_code(tx.conn, room_id, reply.code)
        if row is None:
            return None  # an ordinary "yes" in conversation is not an error
        spec = self.catalog().get(row.command)
        requester = principal_of(row)
        gate = gate_of(row)

        def say(text: str) -> None:
            self._post(tx, room_id, row.id, text)

        if spec is None or not may_run(requester, spec, room):
            store.update_run(
                tx.conn,
                row.id,
                status="failed",
                code=None,
                finished_at=tx.now,
                error="no longer allowed",
            )
            say(f"#{row.id} can no longer run: the command or its permissions changed")
            return None
        if gate.state(tx.now) is GateState.EXPIRED:
            store.update_run(
                tx.conn, row.id, expect="waiting", status="expired", code=None, finished_at=tx.now
            )
            say(f"#{row.id}: code {reply.code} has expired; run the command again")
            return None
        if reply.verb == "no":
            if who.id != requester.id:
                say(f"{who.name}: only {row.requested_by} can cancel #{row.id}")
                return None
            store.update_run(tx.conn, row.id, status="cancelled", code=None, finished_at=tx.now)
            say(f"#{row.id} cancelled by {who.name}")
            return None
        try:
            if reply.verb == "yes":
                gate = gate.confirm(who.id, tx.now)
            else:
                gate = self._approved(gate, spec, who, room, tx.now)
        except CommandError as exc:
            say(f"{who.name}: {exc.message}")
            return None
        data = {**row.gate, **gate_data(gate, requester)}
        if gate.state(tx.now) is GateState.WAITING:
            store.update_run(tx.conn, row.id, gate=data)
            say(f"#{row.id} still waits: {gate.prompt()}")
            return None
        if not store.update_run(
            tx.conn,
            row.id,
            expect="waiting",
            gate=data,
            status="running",
            node=self.hub.settings.node,
            code=None,
            started_at=tx.now,
        ):
            return None
        args = dict(row.args)
        approved = f", approved by {gate.approved_by}" if gate.approved_by else ""
        say(f"▶ #{row.id} {_shown(spec, args)} for {row.requested_by}{approved}: running")
        return _Start(row.id, spec, args, requester, room)

    @staticmethod
    def _approved(gate: Gate, spec: CommandSpec, who: Principal, room: str, now: Any) -> Gate:
        """`gate` approved by `who`: a second person, signed in (never a token), whom the
        command's policy allows to run it here; CommandError otherwise."""
        approved = gate.approve(who.id, now, name=who.name)
        if not who.is_user:
            raise CommandError("approval must come from a signed-in person, not a token")
        if not may_run(who, spec, room):
            raise CommandError(f"only someone who may run `!{spec.name}` can approve it")
        return approved

    # -- running -----------------------------------------------------------------------

    def _launch(self, start: _Start) -> None:
        task = asyncio.create_task(self._execute(start), name=f"command-{start.record_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait for every running command to end (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _execute(self, start: _Start) -> None:
        out = OutputStream(self, start.record_id, start.room, fenced=start.spec.action is not None)
        began = time.monotonic()
        status, exit_code, error = "succeeded", None, None
        try:
            exit_code = await self._act(start, out)
            if exit_code is not None and exit_code != 0:
                status = "failed"
        except CommandError as exc:
            status, error = "failed", exc.message
        except TimeoutError:
            status, error = "failed", "timed out"
        except Exception as exc:
            log.exception("command #%s failed", start.record_id)
            status, error = "failed", f"the hub failed running it ({type(exc).__name__})"
        await out.flush()
        await self._finish(start, out, status, exit_code, error, time.monotonic() - began)

    async def _act(self, start: _Start, out: OutputStream) -> int | None:
        """Do what the command does; return an exit status where there is one."""
        action = start.spec.action
        if action is None:
            ctx = Context(
                who=start.who,
                caller=caller_of(start.who),
                room=start.room,
                args=start.args,
                services=self.services,
                visible=self.visible(start.who, start.room),
            )
            await out.write(await BUILTINS[start.spec.name].handler(ctx))
            return None
        faults.reached("command.running")  # a node dying here leaves the command `lost`
        if action.kind == "exec":
            return await run_argv(render_argv(action.argv, start.args), action.timeout, out)
        if action.kind == "http":
            return await self._call(action, start, out)
        await out.write(await start_job(self.services, start.who, action.job))
        return None

    async def _call(self, action: Action, start: _Start, out: OutputStream) -> int:
        body = {
            "id": start.record_id,
            "command": start.spec.name,
            "args": start.args,
            "by": start.who.name,
            "room": start.room,
        }
        try:
            async with httpx.AsyncClient(timeout=action.timeout) as client:
                response = await client.post(action.url, json=body, headers=dict(action.headers))
        except httpx.HTTPError as exc:
            raise CommandError(f"the endpoint did not answer: {type(exc).__name__}") from None
        await out.write(f"HTTP {response.status_code}\n{response.text[:4000]}")
        return 0 if response.is_success else response.status_code

    async def _finish(
        self,
        start: _Start,
        out: OutputStream,
        status: str,
        exit_code: int | None,
        error: str | None,
        seconds: float,
    ) -> None:
        quiet = not start.spec.policy.side_effects and status == "succeeded"

        def write(tx: Tx) -> None:
            room_id = self._room_id(tx, start.room)
            store.update_run(
                tx.conn,
                start.record_id,
                status=status,
                exit_code=exit_code,
                error=error,
                finished_at=tx.now,
            )
            if out.needs_attachment:
                view = save_attachment(
                    tx,
                    name=f"command-{start.record_id}.txt",
                    content_type="text/plain; charset=utf-8",
                    content=out.full.encode(),
                    room_id=room_id,
                )
                self._post(
                    tx,
                    room_id,
                    start.record_id,
                    f"full output of #{start.record_id}",
                    kind="attachment",
                    attachment=view,
                )
            if quiet:
                return
            mark = "✓" if status == "succeeded" else "✗"
            code = f" (exit {exit_code})" if exit_code is not None else ""
            why = f": {error}" if error else ""
            self._post(
                tx,
                room_id,
                start.record_id,
                f"{mark} #{start.record_id} {_shown(start.spec, start.args)} {status}{code} in {seconds:.1f}s{why}",
            )

        await self.hub.writer.run(write)

    # -- saying things -----------------------------------------------------------------

    def _room_id(self, tx: Tx, room: str) -> int:
        room_id = room_store.room_id(tx.conn, room)
        if room_id is None:
            raise NotFound(f"no room named {room!r}")
        return room_id

    def _post(
        self, tx: Tx, room_id: int, record_id: int, text: str, *, kind: str = "command", **data: Any
    ) -> None:
        thread = {"command_run": record_id, "thread": f"command:{record_id}", **data}
        post_in_rooms(tx, self.hub, [room_id], author=BOT, kind=kind, body=text, data=thread)

    async def say(self, room: str, text: str) -> None:
        def write(tx: Tx) -> None:
            room_id = self._room_id(tx, room)
            post_in_rooms(tx, self.hub, [room_id], author=BOT, kind="command", body=text)

        await self.hub.writer.run(write)

    async def post_output(
        self, record_id: int, room: str, text: str, *, show: bool, fenced: bool
    ) -> None:
        def write(tx: Tx) -> None:
            store.append_output(tx.conn, record_id, text + "\n")
            if show:
                body, kind = (f"```\n{text}\n```", "output") if fenced else (text, "command")
                self._post(tx, self._room_id(tx, room), record_id, body, kind=kind)

        await self.hub.writer.run(write)

    # -- reading records ----------------------------------------------------------------

    def records(self, who: Principal, room: str | None, limit: int = 50) -> list[dict[str, Any]]:
        now = self.hub.clock.now()
        with self.hub.engines.read.connect() as conn:
            room_id = None
            if room is not None:
                room_id = room_store.room_id(conn, room)
                if room_id is None or not who.may_read_room(room):
                    raise NotFound(f"no room named {room!r}", field="room")
            rows = store.list_runs(conn, room_id=room_id, limit=max(1, min(limit, 500)))
        return [record_view(r, now) for r in rows if who.may_read_room(r.room)]

    def record(self, who: Principal, record_id: int) -> dict[str, Any]:
        with self.hub.engines.read.connect() as conn:
            row = store.get_run(conn, record_id)
        if row is None or not who.may_read_room(row.room):
            raise NotFound(f"no command execution #{record_id}")
        return record_view(row, self.hub.clock.now())


def _allows_anywhere(spec: CommandSpec, caller: Caller) -> bool:
    rooms = spec.policy.rooms or frozenset({""})
    return any(spec.policy.allows(caller, room) for room in rooms)
