"""Web accounts on the hub's database: `thereyet user create|list|disable|password`.

Like the token commands they open the hub's database directly and import the
hub lazily. A password is read with a prompt (typed twice) or, for scripts,
from the first line of standard input with --password-stdin; never from argv,
where other users of the machine could see it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .server_commands import _database_options, _settings

T = TypeVar("T")


def register(sub: Any) -> None:
    user = sub.add_parser("user", help="manage web users (on the hub's database)")
    usub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    create = usub.add_parser("create", help="create a web user")
    create.add_argument("name")
    create.add_argument("--role", choices=["viewer", "operator", "admin"], required=True)
    _password_options(create)
    create.set_defaults(handler=create_user)
    listing = usub.add_parser("list", help="list web users")
    _database_options(listing)
    listing.set_defaults(handler=list_users)
    disable = usub.add_parser("disable", help="refuse a user's logins and end their sessions")
    disable.add_argument("name")
    _database_options(disable)
    disable.set_defaults(handler=disable_user)
    password = usub.add_parser("password", help="set a user's password (signs them out)")
    password.add_argument("name")
    _password_options(password)
    password.set_defaults(handler=set_password)


def _password_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    _database_options(parser)


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        print("thereyet: the passwords differ", file=sys.stderr)
        return None
    return first


def _with_people(args: argparse.Namespace, action: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    """Run `action(PeopleService)` on the hub's database, then close it."""
    from ..server.clock import SystemClock
    from ..server.hub import Hub
    from ..server.services.people import PeopleService

    hub = Hub.open(_settings(args), SystemClock())
    try:
        return asyncio.run(action(PeopleService(hub)))
    finally:
        hub.close()


def _fail(exc: Any) -> int:
    print(f"thereyet: {exc.message}", file=sys.stderr)
    return 2 if exc.status == 422 else 1


def create_user(args: argparse.Namespace) -> int:
    from ..server.services.errors import ServiceError

    password = _read_password(args)
    if password is None:
        return 2
    try:
        user = _with_people(args, lambda people: people.create_user(args.name, password, args.role))
    except ServiceError as exc:
        return _fail(exc)
    print(f"created user {user.username} ({user.role.value})")
    return 0


def list_users(args: argparse.Namespace) -> int:
    async def users(people: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = people.users()
        return found

    for user in _with_people(args, users):
        state = f"disabled {user['disabled_at']}" if user["disabled_at"] else "active"
        print(f"{user['username']}\t{user['role']}\t{state}\t{user['created_at']}")
    return 0


def disable_user(args: argparse.Namespace) -> int:
    from ..server.services.errors import ServiceError

    try:
        _with_people(args, lambda people: people.disable(args.name))
    except ServiceError as exc:
        return _fail(exc)
    print(f"disabled {args.name}")
    return 0


def set_password(args: argparse.Namespace) -> int:
    from ..server.services.errors import ServiceError

    password = _read_password(args)
    if password is None:
        return 2
    try:
        _with_people(args, lambda people: people.set_password(args.name, password))
    except ServiceError as exc:
        return _fail(exc)
    print(f"password of {args.name} changed; their sessions are ended")
    return 0
