"""`thereyet`: the command line. Each command lives in a module of its own."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from . import (
    agent_commands,
    backup_commands,
    client_commands,
    config_commands,
    policy_commands,
    server_commands,
    user_commands,
)
from .hub_target import CommandError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thereyet", description="Are we there yet? Report and watch runs on a thereyet hub."
    )
    parser.add_argument("--version", action="version", version=f"thereyet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    server_commands.register(sub)
    client_commands.register(sub)
    user_commands.register(sub)
    policy_commands.register(sub)
    config_commands.register(sub)
    backup_commands.register(sub)
    agent_commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except CommandError as exc:
        print(f"thereyet: {exc.message}", file=sys.stderr)
        return exc.code
    return code


if __name__ == "__main__":
    sys.exit(main())
