"""Undelivered reports on disk, for the next process (or `thereyet flush`) to send.

One JSON file per run (or per batch of room messages), written atomically. A
process takes a file by renaming it to `<name>.<pid>.claimed`, so two
processes never send the same file at once; claims of dead processes are
taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

VERSION = 1


def write(directory: Path, hub: str, name: str, payload: dict[str, Any]) -> Path:
    """Store `payload` for the hub at `hub` as `<name>.json`; return its path."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = directory / f"{name}.json"
    tmp = directory / f".{name}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps({"v": VERSION, "hub": hub, **payload}))
    os.replace(tmp, target)
    return target


def new_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(path: Path) -> int | None:
    """The pid in `<name>.json.<pid>.claimed`."""
    try:
        return int(path.name.rsplit(".", 2)[-2])
    except (ValueError, IndexError):
        return None


def claim(directory: Path, hub: str) -> list[tuple[Path, dict[str, Any]]]:
    """Take every spooled file for `hub`; return (claimed path, payload) pairs."""
    if not directory.is_dir():
        return []
    pid = os.getpid()
    found = list(directory.glob("*.json"))
    for stale in directory.glob("*.claimed"):
        owner = _owner(stale)
        if owner is not None and owner != pid and not _alive(owner):
            found.append(stale)
    taken = []
    for path in found:
        base = path.name.split(".json", 1)[0]
        mine = directory / f"{base}.json.{pid}.claimed"
        try:
            os.rename(path, mine)
        except OSError:
            continue  # another process took it first
        try:
            payload = json.loads(mine.read_text())
        except (OSError, ValueError):
            os.replace(mine, directory / f"{base}.broken")
            continue
        if payload.get("hub") != hub or payload.get("v") != VERSION:
            os.rename(mine, directory / f"{base}.json")
            continue
        taken.append((mine, payload))
    return taken


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def count(directory: Path) -> int:
    return len(list(directory.glob("*.json"))) if directory.is_dir() else 0


def other_hubs(directory: Path, hub: str) -> dict[str, int]:
    """How many spooled files wait for each hub other than `hub` (they stay for it)."""
    found: dict[str, int] = {}
    if not directory.is_dir():
        return found
    for path in directory.glob("*.json"):
        try:
            owner = json.loads(path.read_text()).get("hub")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(owner, str) and owner != hub:
            found[owner] = found.get(owner, 0) + 1
    return found


def broken(directory: Path) -> int:
    """How many spooled files could not be read (kept as *.broken for a person to look at)."""
    return len(list(directory.glob("*.broken"))) if directory.is_dir() else 0
