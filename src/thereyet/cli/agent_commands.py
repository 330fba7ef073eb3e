"""`thereyet agent`: run the hub's jobs on this host (client/agent.py).

Standard library only, like every client command: `pip install thereyet` is enough.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from .client_commands import CLIENT_ENVIRONMENT, _clean_url
from .hub_target import CommandError

HELP = "run the hub's jobs on this host: register, poll for work, run it, report"


def register(sub: Any) -> None:
    agent = sub.add_parser(
        "agent",
        help=HELP,
        description=HELP + " (see docs/agents.md)",
        epilog=CLIENT_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    agent.add_argument("--url", help="the hub's URL (default: $THEREYET_URL)")
    agent.add_argument("--token", help="an agent token (default: $THEREYET_TOKEN)")
    agent.add_argument("--name", help="this agent's name (default: the host name)")
    agent.add_argument("--tags", default="", help="comma-separated tags, e.g. linux,db")
    agent.add_argument("--slots", type=int, default=1, help="runs at once (default 1)")
    agent.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="GLOB",
        help="run only programs matching this glob (repeatable), e.g. '/opt/jobs/*'",
    )
    agent.add_argument(
        "--wait", type=float, default=8.0, help="seconds one poll may wait (at most 8)"
    )
    agent.add_argument(
        "--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL"
    )
    agent.add_argument("--state-dir", type=Path, help="where undelivered reports are kept")
    agent.add_argument("--parent", type=int, help=argparse.SUPPRESS)  # the demo hub's pid
    agent.set_defaults(handler=agent_command)


def _options(args: argparse.Namespace) -> Any:
    from ..client.agent import AgentOptions
    from ..client.state import current_config

    config = current_config().with_overrides(url=_clean_url(args.url), token=args.token)
    if not config.url or not config.token:
        raise CommandError("give the hub's --url and an agent --token (or THEREYET_URL/_TOKEN)")
    host = socket.gethostname()
    name = (args.name or host.split(".")[0]).lower()
    tags = tuple(sorted({t.strip().lower() for t in args.tags.split(",") if t.strip()}))
    if not 1 <= args.slots <= 1000:
        raise CommandError("--slots must be from 1 to 1000")
    extra: dict[str, Any] = {"state_dir": args.state_dir} if args.state_dir else {}
    if args.parent:
        extra["parent"] = args.parent
    return AgentOptions(
        url=config.url,
        token=config.token,
        name=name,
        host=host,
        tags=tags,
        slots=args.slots,
        allow=tuple(args.allow),
        wait=args.wait,
        grace=args.grace,
        **extra,
    )


def agent_command(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or Ctrl-C; the commands still running are stopped and reported."""
    from ..client.agent import Agent
    from ..client.transport import HubError

    logging.basicConfig(level=logging.INFO, format="thereyet agent: %(message)s")
    agent = Agent(_options(args))

    def stop(_signum: int, _frame: Any) -> None:
        agent.stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    try:
        return agent.serve()
    except HubError as exc:
        print(f"thereyet agent: {exc.reason}", file=sys.stderr)
        return 1
