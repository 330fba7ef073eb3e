"""ChatOps commands: parsing `!name args`, typed templates, who may run what, and the
confirmation and approval gates a command with side effects passes before it runs.

Pure rules: nothing here reads a clock, a database or the network; time is passed in.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

PREFIX = "!"
MAX_ARG_CHARS = 200
CONFIRM_WITHIN = timedelta(minutes=5)
_PARAM = re.compile(
    r"^\{(?P<name>[a-z][a-z0-9_]*)(?::(?P<kind>[a-z]+)(?:\((?P<choices>[^)]*)\))?)?"
    r"(?:=(?P<default>[^}]*))?\}$"
)
_COMMAND_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_REPLY = re.compile(r"^\s*(?P<verb>yes|no|approve)\s+(?P<code>[0-9a-f]{4,8})\s*$", re.IGNORECASE)
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class CommandError(ValueError):
    """A command the caller typed cannot be run as typed; the message says why."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ArgType(StrEnum):
    STRING = "string"  # a word that cannot pass for an option or climb a path (see convert)
    TEXT = "text"  # any text, "-" and ".." included: for arguments never given to a program
    INT = "int"
    CHOICE = "choice"
    BOOL = "bool"


@dataclass(frozen=True)
class Param:
    name: str
    type: ArgType = ArgType.STRING
    default: Any = None
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is None

    def convert(self, raw: str) -> Any:
        """The typed value of `raw`, or CommandError naming this argument."""
        if not raw or len(raw) > MAX_ARG_CHARS:
            raise CommandError(f"{self.name} must be 1-{MAX_ARG_CHARS} characters", field=self.name)
        if self.type is ArgType.INT:
            try:
                return int(raw)
            except ValueError:
                raise CommandError(f"{self.name} must be a whole number", field=self.name) from None
        if self.type is ArgType.BOOL:
            if raw.lower() in _TRUE:
                return True
            if raw.lower() in _FALSE:
                return False
            raise CommandError(f"{self.name} must be yes or no", field=self.name)
        if self.type is ArgType.STRING and (raw.startswith("-") or ".." in raw):
            # A program given "--output=x" or "../../etc" as its argument may take it
            # for an option or a path outside where it should look (option injection).
            raise CommandError(
                f"{self.name} may not start with '-' or contain '..'", field=self.name
            )
        if self.type is ArgType.CHOICE and raw not in self.choices:
            raise CommandError(
                f"{self.name} must be one of: {', '.join(self.choices)}", field=self.name
            )
        return raw

    def usage(self) -> str:
        kind = f":{self.type.value}" if self.type is not ArgType.STRING else ""
        if self.type is ArgType.CHOICE:
            kind = f":{'|'.join(self.choices)}"
        default = "" if self.default is None else f"={_show(self.default)}"
        return f"{{{self.name}{kind}{default}}}"


@dataclass(frozen=True)
class Template:
    """`deploy {app} to {env:choice(staging,prod)=staging}`: literal words and typed params.

    The first word is the command's name. A param is `{name}`, `{name:int}`,
    `{name:bool=false}` or `{name:choice(a,b)=a}`; a default makes it optional.
    """

    name: str
    parts: tuple[str | Param, ...]

    @property
    def params(self) -> list[Param]:
        return [p for p in self.parts if isinstance(p, Param)]

    def usage(self) -> str:
        shown = [p.usage() if isinstance(p, Param) else p for p in self.parts]
        return PREFIX + " ".join([self.name, *shown])

    def match(self, args: str) -> dict[str, Any]:
        """The typed arguments in `args` (the text after the name), or CommandError.

        Positional words fill params in order; `name=value` sets one by name.
        Literal words and params with defaults may be left out.
        """
        words = split_words(args)
        known = {p.name: p for p in self.params}
        named: dict[str, str] = {}
        positional: list[str] = []
        for word in words:
            key, eq, value = word.partition("=")
            if eq and key in known:
                named[key] = value
            else:
                positional.append(word)
        values: dict[str, Any] = {}
        for part in self.parts:
            if isinstance(part, str):
                # Literal words read well but may be left out: "deploy web prod".
                if positional and positional[0].lower() == part.lower():
                    positional.pop(0)
                continue
            if part.name in named:
                values[part.name] = part.convert(named[part.name])
            elif positional:
                values[part.name] = part.convert(positional.pop(0))
            elif not part.required:
                values[part.name] = part.default
            else:
                raise CommandError(f"{part.name} is missing: {self.usage()}", field=part.name)
        if positional:
            raise CommandError(f"unexpected {' '.join(positional)!r}: {self.usage()}")
        return values


def split_words(text: str) -> list[str]:
    """Words as a shell would split them, quotes kept together, but never run by one."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise CommandError(f"cannot read the arguments: {exc}") from None


def parse_template(text: str) -> Template:
    """Read a template; ValueError (CommandError) says what is wrong with it."""
    words = text.split()
    if not words or not _COMMAND_NAME.match(words[0]):
        raise CommandError("a template starts with the command name (a-z, 0-9, _ or -)")
    parts: list[str | Param] = []
    seen: set[str] = set()
    for word in words[1:]:
        if not word.startswith("{"):
            parts.append(word)
            continue
        param = _parse_param(word)
        if param.name in seen:
            raise CommandError(f"argument {param.name!r} appears twice")
        seen.add(param.name)
        parts.append(param)
    return Template(words[0], tuple(parts))


def _parse_param(word: str) -> Param:
    found = _PARAM.match(word)
    if found is None:
        raise CommandError(
            f"cannot read {word!r}: write {{name}}, {{name:int}} or {{name=default}}"
        )
    try:
        kind = ArgType(found["kind"] or "string")
    except ValueError:
        raise CommandError(f"unknown type {found['kind']!r} in {word!r}") from None
    choices = tuple(c.strip() for c in (found["choices"] or "").split(",") if c.strip())
    if kind is ArgType.CHOICE and not choices:
        raise CommandError(f"{word!r}: a choice needs its values, as choice(a,b)")
    param = Param(found["name"], kind, None, choices)
    default = found["default"]
    if default == "" and kind in (ArgType.STRING, ArgType.TEXT):
        param = replace(param, default="")  # optional, empty when left out
    elif default is not None:
        param = replace(param, default=param.convert(default))
    return param


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# -- reading what was typed ----------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    name: str
    args: str


@dataclass(frozen=True)
class Reply:
    """`yes 4f2a` (confirm), `no 4f2a` (cancel) or `approve 4f2a` (a second person)."""

    verb: str
    code: str


def is_command_name(name: str) -> bool:
    """Whether a typed `!name` could name a command (`!!!` or `!wow:` is chat)."""
    return bool(_COMMAND_NAME.match(name))


def read_message(text: str) -> Invocation | Reply | None:
    """What a room message asks of the command runner, if anything."""
    stripped = text.strip()
    if stripped.startswith(PREFIX) and len(stripped) > 1 and not stripped[1].isspace():
        name, _, args = stripped[1:].partition(" ")
        return Invocation(name.lower(), args.strip())
    found = _REPLY.match(text)
    if found:
        return Reply(found["verb"].lower(), found["code"].lower())
    return None


@dataclass(frozen=True)
class Resolution:
    """An exact or unique-prefix match, else the names to suggest."""

    name: str | None
    suggestions: tuple[str, ...] = ()
    ambiguous: bool = False


def resolve(typed: str, names: Iterable[str]) -> Resolution:
    """Find the command `typed` names among `names` (those the caller may run)."""
    known = sorted(set(names))
    if typed in known:
        return Resolution(typed)
    prefixed = [n for n in known if n.startswith(typed)]
    if len(prefixed) == 1:
        return Resolution(prefixed[0])
    if len(prefixed) > 1:
        return Resolution(None, tuple(prefixed[:5]), ambiguous=True)
    return Resolution(None, tuple(difflib.get_close_matches(typed, known, n=3, cutoff=0.5)))


def explain(typed: str, found: Resolution) -> str:
    """What to tell someone whose command was not found."""
    listed = " or ".join(f"`!{n}`" for n in found.suggestions)
    if found.ambiguous:
        return f"`!{typed}` could be {listed}: type more of the name."
    if listed:
        return f"unknown command `!{typed}`; did you mean {listed}? (`!help` lists them)"
    return f"unknown command `!{typed}`; `!help` lists the commands you may run."


# -- who may run what -----------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    name: str
    role: str  # viewer | operator | admin (a token's scope maps onto these)


@dataclass(frozen=True)
class Policy:
    """Who may run a command, and in which rooms.

    A command with side effects is denied to everyone (admins too) unless its
    policy names roles or users: running things must be granted explicitly.
    A command without side effects is open to anyone who may post in the room.
    """

    side_effects: bool
    roles: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()
    rooms: frozenset[str] = frozenset()
    approval: Mapping[str, frozenset[str]] = field(default_factory=dict)
    confirm: bool = False

    def allows(self, caller: Caller, room: str) -> bool:
        if self.rooms and room not in self.rooms:
            return False
        if not self.roles and not self.users:
            return not self.side_effects
        return caller.role in self.roles or caller.name in self.users

    def needs_approval(self, args: Mapping[str, Any]) -> list[str]:
        """The `name=value` pairs among `args` that a second person must approve."""
        return [
            f"{name}={_show(args[name])}"
            for name, values in sorted(self.approval.items())
            if name in args and _show(args[name]) in values
        ]


# -- the gates before a command runs ---------------------------------------------------


class GateState(StrEnum):
    WAITING = "waiting"
    READY = "ready"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Gate:
    """What a command still waits for: its caller's `yes CODE`, another person's approval.

    People are compared by identity (`requester`, `approver`: a principal's id, which
    two callers never share), never by the names shown (`requested_by`, `approved_by`).
    """

    code: str
    requested_by: str
    expires_at: datetime
    needs_confirmation: bool
    needs_approval: tuple[str, ...] = ()
    confirmed: bool = False
    approved_by: str | None = None
    requester: str = ""  # the requester's id ("" in records older than ids: their name)
    approver: str | None = None

    @classmethod
    def open(
        cls,
        code: str,
        requested_by: str,
        now: datetime,
        *,
        confirm: bool,
        approval: list[str],
        requester: str | None = None,
    ) -> Gate:
        expires = now + CONFIRM_WITHIN
        return cls(
            code,
            requested_by,
            expires,
            confirm,
            tuple(approval),
            requester=requester or requested_by,
        )

    @property
    def requester_id(self) -> str:
        return self.requester or self.requested_by

    def state(self, now: datetime) -> GateState:
        if now >= self.expires_at:
            return GateState.EXPIRED
        waiting = (self.needs_confirmation and not self.confirmed) or (
            self.needs_approval and self.approved_by is None
        )
        return GateState.WAITING if waiting else GateState.READY

    def confirm(self, by: str, now: datetime) -> Gate:
        """Confirmed by the caller whose id is `by`; CommandError for anyone else."""
        self._still_open(now)
        if by != self.requester_id:
            raise CommandError(f"only {self.requested_by} can confirm this command")
        return replace(self, confirmed=True)

    def approve(self, by: str, now: datetime, *, name: str | None = None) -> Gate:
        """Approved by the caller whose id is `by` (shown as `name`), a second person."""
        self._still_open(now)
        if not self.needs_approval:
            raise CommandError("this command needs no approval")
        if by == self.requester_id:
            raise CommandError("approval must come from a second person")
        return replace(self, approved_by=name or by, approver=by)

    def _still_open(self, now: datetime) -> None:
        if now >= self.expires_at:
            raise CommandError(f"code {self.code} has expired; run the command again")

    def prompt(self) -> str:
        """What the room is told the command waits for."""
        asks = []
        if self.needs_confirmation and not self.confirmed:
            asks.append(f"{self.requested_by}: reply `yes {self.code}` to go ahead")
        if self.needs_approval and self.approved_by is None:
            asks.append(
                f"{', '.join(self.needs_approval)} needs a second person: "
                f"reply `approve {self.code}`"
            )
        return "; ".join(asks) + f" (within {int(CONFIRM_WITHIN.total_seconds() // 60)} minutes)"


def render_argv(argv: Iterable[str], args: Mapping[str, Any]) -> list[str]:
    """An argument list with `{name}` placeholders filled in.

    Each value lands inside one list item: it is never split or read by a shell.
    """
    out = []
    for item in argv:
        for name, value in args.items():
            item = item.replace(
                "{" + name + "}", _show(value) if isinstance(value, bool) else str(value)
            )
        out.append(item)
    return out


def split_output(text: str, *, max_lines: int = 40, max_chars: int = 3000) -> list[str]:
    """Cut output into room-sized chunks of whole lines (a longer line is cut)."""
    chunks: list[str] = []
    lines: list[str] = []
    size = 0
    for line in text.splitlines():
        line = line[:max_chars]
        if lines and (len(lines) >= max_lines or size + len(line) + 1 > max_chars):
            chunks.append("\n".join(lines))
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines:
        chunks.append("\n".join(lines))
    return chunks
