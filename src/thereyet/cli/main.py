"""`thereyet`: the command line. Each command lives in a module of its own."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import (
    backup_commands,
    client_commands,
    config_commands,
    policy_commands,
    server_commands,
    user_commands,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thereyet", description="Are we there yet? Report and watch runs on a thereyet hub."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    server_commands.register(sub)
    client_commands.register(sub)
    user_commands.register(sub)
    policy_commands.register(sub)
    config_commands.register(sub)
    backup_commands.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
