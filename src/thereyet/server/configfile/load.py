"""Read a configuration directory into the desired state, or say what is wrong.

Every `*.toml` file under the directory is read (any layout; kinds are the
top-level tables). Each object may be defined in one file only. The result
holds each object in canonical form, with secrets resolved, and remembers
the file and line each came from.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .canonical import canonical
from .lines import LineIndex
from .model import KINDS, ConfigFile, PolicyChecks
from .problems import ConfigInvalid, Problem
from .secrets import Unresolved, get_path, is_ref, secret_paths, set_path

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 500


@dataclass
class Desired:
    """What the files ask for, kind by kind, name by name."""

    objects: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    refs: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    hub: dict[str, Any] | None = None
    policy: PolicyChecks = field(default_factory=lambda: PolicyChecks())
    lines: dict[str, LineIndex] = field(default_factory=dict)
    singleton_files: dict[str, str] = field(default_factory=dict)  # hub, policy: their file

    def where(self, kind: str, name: str, *path: str | int) -> tuple[str, int | None]:
        """The file and line of a field of an object (or of the object)."""
        file = self.owners.get((kind, name), "")
        index = self.lines.get(file)
        return file, index.line_of((kind, name, *path)) if index else None

    def problem(self, kind: str, name: str, path: tuple[str | int, ...], reason: str) -> Problem:
        file, line = self.where(kind, name, *path)
        dotted = ".".join(str(p) for p in (kind, name, *path))
        return Problem(file, line, dotted, reason)


def read_dir(directory: Path) -> dict[str, str]:
    """The text of every TOML file under `directory`, by path relative to it."""
    if not directory.is_dir():
        raise ConfigInvalid([Problem(str(directory), None, "", "not a directory")])
    texts = {}
    for path in sorted(directory.rglob("*.toml")):
        if any(part.startswith(".") for part in path.relative_to(directory).parts):
            continue
        texts[path.relative_to(directory).as_posix()] = path.read_text(encoding="utf-8")
    return texts


def load(texts: Mapping[str, str], resolve: Callable[[str], str]) -> Desired:
    """Parse and check the files; raise ConfigInvalid with every problem found."""
    problems: list[Problem] = []
    if len(texts) > MAX_FILES:
        raise ConfigInvalid([Problem("", None, "", f"more than {MAX_FILES} files")])
    desired = Desired()
    for name in sorted(texts):
        parsed = _parse(name, texts[name], problems)
        if parsed is not None:
            desired.lines[name] = LineIndex(texts[name])
            _merge(desired, name, parsed, problems)
    for kind, obj_name in desired.owners:
        _resolve_secrets(desired, kind, obj_name, resolve, problems)
    if problems:
        raise ConfigInvalid(problems)
    return desired


def _parse(name: str, text: str, problems: list[Problem]) -> ConfigFile | None:
    if len(text.encode()) > MAX_FILE_BYTES:
        problems.append(Problem(name, None, "", f"larger than {MAX_FILE_BYTES} bytes"))
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else len(text.splitlines()) or None
        reason = re.sub(r" \(at (line \d+, column \d+|end of document)\)", "", str(exc))
        problems.append(Problem(name, line, "", f"not valid TOML: {reason}"))
        return None
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        index = LineIndex(text)
        for error in exc.errors():
            path = tuple(error["loc"])
            problems.append(
                Problem(name, index.line_of(path), ".".join(map(str, path)), error["msg"])
            )
        return None


def _merge(desired: Desired, file: str, parsed: ConfigFile, problems: list[Problem]) -> None:
    index = desired.lines[file]
    for single in ("hub", "policy"):
        value = getattr(parsed, single)
        if value is None:
            continue
        if single in desired.singleton_files:
            other = desired.singleton_files[single]
            problems.append(Problem(file, index.line_of((single,)), single, f"also in {other}"))
            continue
        desired.singleton_files[single] = file
        if single == "hub":
            desired.hub = value.model_dump(mode="json")
        else:
            desired.policy = value
    for kind in KINDS:
        for name, obj in getattr(parsed, kind).items():
            key = (kind, name)
            if key in desired.owners:
                first = desired.owners[key]
                line = index.line_of((kind, name))
                problems.append(Problem(file, line, f"{kind}.{name}", f"also defined in {first}"))
                continue
            desired.owners[key] = file
            dumped = obj.model_dump(mode="json", exclude_none=kind == "commands")
            desired.objects[kind][name] = canonical(kind, name, dumped)


def _resolve_secrets(
    desired: Desired, kind: str, name: str, resolve: Callable[[str], str], problems: list[Problem]
) -> None:
    obj = desired.objects[kind][name]
    refs: dict[str, str] = {}
    for path in secret_paths(kind, obj):
        written = get_path(obj, path)
        if not isinstance(written, str):
            continue
        refs[".".join(path)] = written  # export writes it back as the files had it
        if not is_ref(written):
            continue
        try:
            set_path(obj, path, resolve(written))
        except Unresolved as exc:
            problems.append(desired.problem(kind, name, path, str(exc)))
    if refs:
        desired.refs[(kind, name)] = refs
