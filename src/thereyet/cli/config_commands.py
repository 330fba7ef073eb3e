"""Configuration as code: `thereyet plan|apply|export DIR`, `thereyet config schema`.

Each works on the hub's database (`--db`, `--data-dir`) or on a running hub
(`--url` with an admin token, THEREYET_URL / THEREYET_ADMIN_TOKEN). Over the
API this module uses the standard library only: secret references in the files
are resolved here, from this machine's environment and files, and sent with them.

plan exits 0 when nothing would change, 2 when something would, 1 on an error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .hub_target import settings as _settings
from .server_commands import _database_options


def register(sub: Any) -> None:
    for name, help_text in (
        ("plan", "show what applying a configuration directory would change"),
        ("apply", "apply a configuration directory in one transaction"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.add_argument("dir", type=Path, help="the configuration directory")
        command.add_argument(
            "--prune", action="store_true", help="delete what the files no longer name"
        )
        command.add_argument("--json", action="store_true", help="print the plan as JSON")
        _target_options(command)
        if name == "apply":
            command.add_argument(
                "--secrets-out", type=Path, help="write generated secrets here, not to stdout"
            )
        command.set_defaults(handler=plan if name == "plan" else apply)
    export = sub.add_parser("export", help="write the hub's configuration as files")
    export.add_argument("dir", type=Path)
    export.add_argument(
        "--secrets-out", type=Path, help="also write the secrets as NAME=value lines (local only)"
    )
    _target_options(export)
    export.set_defaults(handler=export_files)
    config = sub.add_parser("config", help="configuration format")
    csub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    csub.add_parser("schema", help="print the JSON Schema of a file").set_defaults(
        handler=print_schema
    )


def _target_options(parser: argparse.ArgumentParser) -> None:
    _database_options(parser)
    parser.add_argument("--url", default=None, help="a running hub (default: THEREYET_URL)")
    parser.add_argument("--token", default=None, help="admin token (THEREYET_ADMIN_TOKEN)")


def _remote(args: argparse.Namespace) -> tuple[str, str] | None:
    url = args.url or (None if args.db or args.data_dir else os.environ.get("THEREYET_URL"))
    if not url:
        return None
    token = args.token or os.environ.get("THEREYET_ADMIN_TOKEN") or os.environ.get("THEREYET_TOKEN")
    return url.rstrip("/"), token or ""


def _call(remote: tuple[str, str], method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    if not remote[0].startswith(("http://", "https://")):
        return 0, {"error": f"--url must be an http(s) URL, not {remote[0]!r}"}
    request = urllib.request.Request(  # noqa: S310 (checked above: http or https)
        remote[0] + "/api/v1/config" + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {remote[1]}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (http(s) URL given by the user)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _read_dir(directory: Path) -> dict[str, str] | None:
    if not directory.is_dir():
        print(f"thereyet: {directory}: not a directory", file=sys.stderr)
        return None
    return {
        p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(directory.rglob("*.toml"))
        if not any(part.startswith(".") for part in p.relative_to(directory).parts)
    }


def _resolved(texts: dict[str, str]) -> dict[str, str]:
    """The values of the references in the files, read here (sent to a remote hub)."""
    values = {}
    for ref in sorted(_refs(texts)):
        if ref.startswith("env:") and ref[4:] in os.environ:
            values[ref] = os.environ[ref[4:]]
        elif ref.startswith("file:"):
            # When it cannot be read the hub names what is missing, with the file and line.
            with contextlib.suppress(OSError):
                values[ref] = Path(ref[5:]).read_text().strip()
    return values


def _refs(texts: dict[str, str]) -> set[str]:
    import re

    pattern = re.compile(r"""["'](env:[A-Za-z_][A-Za-z0-9_]*|file:/[^"']+)["']""")
    return {m.group(1) for text in texts.values() for m in pattern.finditer(text)}


def _print_problems(problems: list[dict[str, Any]]) -> None:
    for p in problems:
        where = f"{p['file']}:{p['line']}" if p.get("line") else p["file"]
        level = "" if p["level"] == "error" else "warning: "
        print(f"{where}: {level}{p['field']}: {p['reason']}", file=sys.stderr)


def _run(args: argparse.Namespace, action: str) -> tuple[int, dict[str, Any]]:
    """(status, answer) of plan or apply, remote or local; answers as the API gives them."""
    texts = _read_dir(args.dir)
    if texts is None:
        return 1, {}
    remote = _remote(args)
    if remote is not None:
        body = {"files": texts, "secrets": _resolved(texts), "prune": args.prune}
        return _call(remote, "POST", f"/{action}", body)
    return _local(args, action, texts)


def _local(args: argparse.Namespace, action: str, texts: dict[str, str]) -> tuple[int, Any]:
    from ..server.clock import SystemClock
    from ..server.configfile.problems import ConfigInvalid
    from ..server.configfile.secrets import Resolver
    from ..server.configfile.service import ConfigService
    from ..server.hub import Hub

    hub = Hub.open(_settings(args), SystemClock())
    try:
        service = ConfigService(hub)
        if action == "plan":
            return 200, service.plan(texts, Resolver(), prune=args.prune).as_dict()
        done = service.apply_sync(texts, Resolver(), prune=args.prune)
        return 200, {**done.plan.as_dict(), "secrets": done.written.secrets}
    except ConfigInvalid as exc:
        return 422, {"problems": [p.as_dict() for p in exc.problems]}
    finally:
        hub.close()


def _show(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps({k: v for k, v in answer.items() if k != "secrets"}, indent=2))
        return
    from .config_output import describe

    print(describe(answer))


def plan(args: argparse.Namespace) -> int:
    status, answer = _run(args, "plan")
    if status != 200:
        _print_problems(answer.get("problems") or [_error(answer)])
        return 1
    _show(answer, args.json)
    if any(p["level"] == "error" for p in answer["problems"]):
        return 1
    return 2 if answer["has_changes"] else 0


def _error(answer: dict[str, Any]) -> dict[str, Any]:
    reason = answer.get("error", "the hub refused the request")
    return {"file": "", "line": None, "field": "", "reason": reason, "level": "error"}


def apply(args: argparse.Namespace) -> int:
    status, answer = _run(args, "apply")
    if status != 200:
        _print_problems(answer.get("problems") or [_error(answer)])
        print("thereyet: nothing was applied", file=sys.stderr)
        return 1
    _show(answer, args.json)
    secrets = answer.get("secrets", [])
    if secrets:
        text = "".join(json.dumps(s) + "\n" for s in secrets)
        if args.secrets_out:
            _write_private(args.secrets_out, text)
            print(f"generated secrets written to {args.secrets_out}", file=sys.stderr)
        else:
            print("Generated secrets (shown once, store them now):")
            print(text, end="")
    return 0


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def export_files(args: argparse.Namespace) -> int:
    remote = _remote(args)
    secrets: dict[str, str] = {}
    if remote is not None:
        status, answer = _call(remote, "GET", "/export")
        if status != 200:
            print(f"thereyet: {answer.get('error', status)}", file=sys.stderr)
            return 1
        files = answer["files"]
    else:
        from ..server.clock import SystemClock
        from ..server.configfile.service import ConfigService
        from ..server.hub import Hub

        hub = Hub.open(_settings(args), SystemClock())
        try:
            files, secrets = ConfigService(hub).export()
        finally:
            hub.close()
    for name, text in files.items():
        path = args.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files to {args.dir}", file=sys.stderr)
    if args.secrets_out and secrets:
        _write_private(args.secrets_out, "".join(f"{k}={v}\n" for k, v in secrets.items()))
    return 0


def print_schema(args: argparse.Namespace) -> int:
    from ..server.configfile.model import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0
