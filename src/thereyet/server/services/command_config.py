"""User-defined commands, read from a TOML file kept in version control.

The file is THEREYET_COMMANDS, else `commands.toml` in the data directory. It
is read again whenever it changes, so a deploy of the config takes effect at
the next command. A broken file keeps the last good commands and says why.

    [commands.deploy]
    template = "deploy {app} to {env:choice(staging,prod)=staging}"
    description = "Deploy an app"
    examples = ["!deploy web", "!deploy web to prod"]
    confirm = true
    allow = { roles = ["operator", "admin"], rooms = ["ops"] }
    approval = { env = ["prod"] }
    action = { exec = ["/usr/local/bin/deploy", "--app", "{app}", "--env", "{env}"] }
    # or: action = { job = "nightly-backup" }
    # or: action = { http = "https://deploy.internal/hook", headers = { X-Key = "..." } }
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..domain.commands import CommandError, Policy, Template, parse_template
from ..domain.names import is_valid_name

log = logging.getLogger(__name__)

ACTION_KINDS = ("exec", "http", "job")
DEFAULT_TIMEOUT = 600.0


class ConfigError(ValueError):
    """The commands file is wrong; the message names the key."""


@dataclass(frozen=True)
class Action:
    kind: str  # exec | http | job
    argv: tuple[str, ...] = ()
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    job: str = ""
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class CommandSpec:
    """One command: its template, who may run it, and what it does."""

    template: Template
    description: str
    policy: Policy
    examples: tuple[str, ...] = ()
    action: Action | None = None  # None: a built-in, run by its handler

    @property
    def name(self) -> str:
        return self.template.name


def spec_view(spec: CommandSpec) -> dict[str, Any]:
    """A command as the API and the pages show it: how to type it and who may."""
    return {
        "name": spec.name,
        "usage": spec.template.usage(),
        "description": spec.description,
        "examples": list(spec.examples),
        "side_effects": spec.policy.side_effects,
        "confirm": spec.policy.confirm,
        "approval": {k: sorted(v) for k, v in spec.policy.approval.items()},
        "action": spec.action.kind if spec.action else "built-in",
        "rooms": sorted(spec.policy.rooms),
    }


def commands_path(data_dir: Path, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return (
        Path(env["THEREYET_COMMANDS"])
        if env.get("THEREYET_COMMANDS")
        else data_dir / "commands.toml"
    )


def parse_commands(text: str) -> dict[str, CommandSpec]:
    """Commands from the TOML text; ConfigError names the first wrong key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}") from None
    section = data.get("commands", {})
    if not isinstance(section, dict):
        raise ConfigError("[commands] must be a table")
    found = {}
    for key, body in section.items():
        where = f"commands.{key}"
        if not isinstance(body, dict):
            raise ConfigError(f"{where} must be a table")
        spec = _spec(where, key, body)
        found[spec.name] = spec
    return found


def _spec(where: str, key: str, body: dict[str, Any]) -> CommandSpec:
    try:
        template = parse_template(str(body.get("template", key)))
    except CommandError as exc:
        raise ConfigError(f"{where}.template: {exc.message}") from None
    if template.name != key:
        raise ConfigError(f"{where}.template must start with {key!r}")
    action = _action(f"{where}.action", body.get("action"))
    allow = body.get("allow", {})
    approval = body.get("approval", {})
    if not isinstance(allow, dict) or not isinstance(approval, dict):
        raise ConfigError(f"{where}: allow and approval must be tables")
    params = {p.name for p in template.params}
    if bad := sorted(set(approval) - params):
        raise ConfigError(f"{where}.approval.{bad[0]}: no such argument in the template")
    policy = Policy(
        side_effects=action is not None,
        roles=_names(f"{where}.allow.roles", allow.get("roles", [])),
        users=_names(f"{where}.allow.users", allow.get("users", [])),
        rooms=_names(f"{where}.allow.rooms", allow.get("rooms", [])),
        approval={k: _names(f"{where}.approval.{k}", v) for k, v in approval.items()},
        confirm=bool(body.get("confirm", False)),
    )
    examples = body.get("examples", [])
    return CommandSpec(
        template=template,
        description=str(body.get("description", "")),
        policy=policy,
        examples=tuple(str(e) for e in examples) if isinstance(examples, list) else (),
        action=action,
    )


def _names(where: str, value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return frozenset(value)


def _action(where: str, body: Any) -> Action:
    if not isinstance(body, dict):
        raise ConfigError(
            f"{where} is needed: {{ exec = [...] }}, {{ http = URL }} or {{ job = NAME }}"
        )
    kinds = [k for k in ACTION_KINDS if k in body]
    if len(kinds) != 1:
        raise ConfigError(f"{where} needs exactly one of exec, http, job")
    timeout = body.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, int | float) or not 0 < timeout <= 86400:
        raise ConfigError(f"{where}.timeout must be 1-86400 seconds")
    kind = kinds[0]
    if kind == "exec":
        argv = body["exec"]
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise ConfigError(f"{where}.exec must be a list of strings (never a shell line)")
        return Action("exec", argv=tuple(argv), timeout=float(timeout))
    if kind == "http":
        url, headers = body["http"], body.get("headers", {})
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}.http must be an http(s) URL")
        if not isinstance(headers, dict):
            raise ConfigError(f"{where}.headers must be a table")
        return Action(
            "http",
            url=url,
            headers={str(k): str(v) for k, v in headers.items()},
            timeout=float(timeout),
        )
    job = body["job"]
    if not isinstance(job, str) or not is_valid_name(job):
        raise ConfigError(f"{where}.job must be a job name")
    return Action("job", job=job, timeout=float(timeout))


class CommandFile:
    """The commands file, read again when it changes; the last good version is kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        self._stamp: tuple[float, int] | None = None
        self._commands: dict[str, CommandSpec] = {}

    def commands(self) -> dict[str, CommandSpec]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._commands, self.error = None, {}, None
            return {}
        stamp = (stat.st_mtime, stat.st_size)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._commands = parse_commands(self.path.read_text())
                self.error = None
            except (ConfigError, OSError, UnicodeDecodeError) as exc:
                self.error = f"{self.path}: {exc}"
                log.error("commands file not loaded, keeping the last good one: %s", self.error)
        return self._commands
