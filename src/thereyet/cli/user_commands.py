"""Web accounts on the hub's database: `thereyet user create|list|disable|password`.

Like the token commands they act on the hub's existing database (importing the
hub lazily) or, with --url and an admin token, on a running hub over its API. A password is read with a prompt (typed twice) or, for scripts,
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

from ..client.transport import path
from .hub_target import CommandError, add_hub_options, api, call, open_hub

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
    add_hub_options(listing)
    listing.set_defaults(handler=list_users)
    disable = usub.add_parser("disable", help="refuse a user's logins and end their sessions")
    disable.add_argument("name")
    add_hub_options(disable)
    disable.set_defaults(handler=disable_user)
    password = usub.add_parser("password", help="set a user's password (signs them out)")
    password.add_argument("name")
    _password_options(password)
    password.set_defaults(handler=set_password)


def _password_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add_hub_options(parser)


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
    from ..server.services.errors import ServiceError
    from ..server.services.people import PeopleService

    hub = open_hub(args)
    try:
        return asyncio.run(action(PeopleService(hub)))
    except ServiceError as exc:
        raise CommandError(exc.message, 2 if exc.status == 422 else 1) from exc
    finally:
        hub.close()


def create_user(args: argparse.Namespace) -> int:
    password = _read_password(args)
    if password is None:
        return 2
    transport = api(args)
    if transport is not None:
        body = {"username": args.name, "password": password, "role": args.role}
        role = call(transport, "POST", path("users"), body)["role"]
    else:
        role = _with_people(
            args, lambda people: people.create_user(args.name, password, args.role)
        ).role.value
    print(f"created user {args.name.strip().lower()} ({role})")
    return 0


def list_users(args: argparse.Namespace) -> int:
    async def users(people: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = people.users()
        return found

    transport = api(args)
    listed = call(transport, "GET", path("users"))["users"] if transport else None
    for user in listed if listed is not None else _with_people(args, users):
        state = f"disabled {user['disabled_at']}" if user["disabled_at"] else "active"
        print(f"{user['username']}\t{user['role']}\t{state}\t{user['created_at']}")
    return 0


def disable_user(args: argparse.Namespace) -> int:
    transport = api(args)
    if transport is not None:
        call(transport, "POST", path("users", args.name, "disable"))
    else:
        _with_people(args, lambda people: people.disable(args.name))
    print(f"disabled {args.name}")
    return 0


def set_password(args: argparse.Namespace) -> int:
    password = _read_password(args)
    if password is None:
        return 2
    transport = api(args)
    if transport is not None:
        call(transport, "PUT", path("users", args.name, "password"), {"password": password})
    else:
        _with_people(args, lambda people: people.set_password(args.name, password))
    print(f"password of {args.name} changed; their sessions are ended")
    return 0
