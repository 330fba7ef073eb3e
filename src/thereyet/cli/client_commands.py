"""Client commands: `thereyet run`, `say`, `status`, `watch`, `flush`.

They use the SDK (standard library only), so they work without the server extra.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from typing import Any

from ..client import display
from ..client.config import Config
from ..client.state import current_config
from ..client.transport import HubError, Transport, path

CLIENT_ENVIRONMENT = """environment:
  THEREYET_URL         the hub's URL (or --url), e.g. http://127.0.0.1:8480
  THEREYET_TOKEN       a token for it (or --token, or THEREYET_TOKEN_FILE)
  THEREYET_ROOM        the default room
  THEREYET_SPOOL_DIR   where undelivered reports wait (default ~/.local/state/thereyet/spool)
  THEREYET_CONFIG      a config file with the same settings (default ~/.config/thereyet/config.toml)
  THEREYET_DISABLE=1   report nothing"""


def _client_parser(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    """A client command's parser, with --url/--token and the variables they stand for."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=CLIENT_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", help="the hub's URL (default: $THEREYET_URL)")
    parser.add_argument("--token", help="a token for the hub (default: $THEREYET_TOKEN)")
    return parser


def register(sub: Any) -> None:
    run = _client_parser(sub, "run", "run a command as a run of a job, reporting to the hub")
    run.add_argument("--job", help="job name (default: the command's name)")
    run.add_argument("--room", help="room to post the run in")
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ARGS...")
    run.set_defaults(handler=run_command)

    say = _client_parser(sub, "say", "post a message in a room")
    say.add_argument("room")
    say.add_argument("message")
    say.add_argument("--attach", metavar="FILE", help="attach a file to the message")
    say.set_defaults(handler=say_command)

    status = _client_parser(sub, "status", "are we there yet? running runs, live")
    status.add_argument("job", nargs="?")
    status.add_argument("--json", action="store_true", help="print the runs as JSON, once")
    status.add_argument("--once", action="store_true", help="print once, even on a terminal")
    status.add_argument("--interval", type=float, default=2.0, help="seconds between updates")
    status.set_defaults(handler=status_command)

    watch = _client_parser(sub, "watch", "follow one run's progress and log until it ends")
    watch.add_argument("run_id")
    watch.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    watch.set_defaults(handler=watch_command)

    flush = _client_parser(sub, "flush", "send reports spooled while the hub was unreachable")
    flush.add_argument("--timeout", type=float, default=30.0, help="give up after this long")
    flush.set_defaults(handler=flush_command)


def _config(args: argparse.Namespace) -> Config | None:
    config = current_config().with_overrides(url=_clean_url(args.url), token=args.token)
    if not config.configured:
        print(
            "thereyet: not configured: pass --url and --token, or set THEREYET_URL and "
            "THEREYET_TOKEN (or ~/.config/thereyet/config.toml)",
            file=sys.stderr,
        )
        return None
    return config


def _clean_url(url: str | None) -> str | None:
    return url.rstrip("/") if url else None


def run_command(args: argparse.Namespace) -> int:
    """Run the command; its exit code is ours, reporting or not."""
    import os

    from ..client import state
    from ..client.command import run_command as run_it
    from ..client.runs import Run

    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        print("thereyet run: give a command after --", file=sys.stderr)
        return 2
    if args.url or args.token:
        state.configure(url=_clean_url(args.url), token=args.token)
    job = args.job or os.path.basename(argv[0])
    run = Run(job, room=args.room, trigger="cli")
    code = run_it(argv, run)
    state.shutdown()
    return code


def say_command(args: argparse.Namespace) -> int:
    from ..client.messages import file_item
    from ..client.runs import clean_name
    from ..client.sender import Sender

    config = _config(args)
    if config is None:
        return 0
    sender = Sender(config)
    item = file_item(args.attach) if args.attach else None
    sender.post_message(clean_name(args.room), args.message, uuid.uuid4().hex, item)
    delivered = sender.close(timeout=config.timeout)
    if sender.refused:
        return 1
    if not delivered:
        print("thereyet: the hub is unreachable; the message is spooled", file=sys.stderr)
    return 0


def _get(transport: Transport, target: str) -> Any:
    return transport.call("GET", target).body


def status_command(args: argparse.Namespace) -> int:
    config = _config(args)
    if config is None:
        return 2
    transport = Transport(config.url, config.token, config.timeout)
    target = path("runs", job=args.job, status=["running", "queued", "lost"], limit=100)
    live = not args.json and not args.once and sys.stdout.isatty()
    try:
        hidden = "" if args.json else _scope_note(_get(transport, path("me")))
        while True:
            runs = _get(transport, target)["runs"]
            if args.json:
                print(json.dumps(runs, indent=2))
                return 0
            text = display.status_text(runs, args.job) + hidden
            if not live:
                print(text)
                return 0
            stamp = time.strftime("%H:%M:%S")
            sys.stdout.write(f"\x1b[H\x1b[J{stamp}  are we there yet?  (Ctrl-C to quit)\n\n")
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            time.sleep(args.interval)
    except HubError as exc:
        print(f"thereyet: {exc.reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        transport.close()


def _scope_note(me: dict[str, Any]) -> str:
    """A line saying which runs the token cannot see, or "" if it sees them all."""
    if me.get("scope") == "admin" or not (me.get("jobs") or me.get("rooms")):
        return ""
    limits = []
    if me.get("jobs"):
        limits.append("jobs " + ", ".join(me["jobs"]))
    if me.get("rooms"):
        limits.append("rooms " + ", ".join(me["rooms"]))
    return (
        f"\n(this {me.get('scope')} token sees only runs of {' and '.join(limits)}; "
        "other runs may be running: use a read token to see them all)"
    )


def watch_command(args: argparse.Namespace) -> int:
    config = _config(args)
    if config is None:
        return 2
    transport = Transport(config.url, config.token, config.timeout)
    after = 0
    tty = sys.stdout.isatty()
    last_line = ""
    try:
        while True:
            view = _get(transport, path("runs", args.run_id))
            page = _get(transport, path("runs", args.run_id, "events", after=after, limit=1000))
            for event in page["events"]:
                if event["type"] in ("log", "note"):
                    prefix = "note: " if event["type"] == "note" else ""
                    sys.stdout.write(("\r\x1b[K" if tty else "") + prefix + event["text"] + "\n")
            after = page["next_after"]
            line = display.run_line(view)
            if tty:
                sys.stdout.write("\r\x1b[K" + line)
            elif line != last_line:
                sys.stdout.write(line + "\n")
            last_line = line
            sys.stdout.flush()
            if view["status"] in ("succeeded", "failed", "cancelled") and not page["events"]:
                sys.stdout.write(("\n" if tty else "") + f"run {view['status']}\n")
                return 0 if view["status"] == "succeeded" else 1
            time.sleep(args.interval)
    except HubError as exc:
        print(f"thereyet: {exc.reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        transport.close()


def flush_command(args: argparse.Namespace) -> int:
    from ..client import spool
    from ..client.sender import Sender

    config = _config(args)
    if config is None:
        return 2
    sender = Sender(config)
    taken = sender.load_spool()
    delivered = sender.close(timeout=args.timeout)
    left = spool.count(config.spool_dir)
    print(f"thereyet: {taken} spooled report(s) taken; {left} left in {config.spool_dir}")
    for reason in _why_left(config, sender, delivered):
        print(f"  {reason}")
    return 0 if delivered else 1


def _why_left(config: Config, sender: Any, delivered: bool) -> list[str]:
    """Why reports stay in the spool, one line per reason."""
    from ..client import spool

    reasons = []
    if not delivered:
        error = sender.last_error or "no answer in time"
        reasons.append(f"not delivered to {config.url}: {error}; run `thereyet flush` again later")
    for hub, count in sorted(spool.other_hubs(config.spool_dir, config.url).items()):
        reasons.append(f"{count} report(s) are for another hub, {hub}: flush them with --url {hub}")
    broken = spool.broken(config.spool_dir)
    if broken:
        reasons.append(f"{broken} unreadable file(s) (*.broken) cannot be sent; look, then delete")
    return reasons
