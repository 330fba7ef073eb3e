"""Web users: roles, the rules for names and passwords, and the login throttle.

Pure rules: nothing here reads a clock or a database; time is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .access import Principal, Scope
from .policy import Credential


class Role(StrEnum):
    """What a person signed in to the web pages may do."""

    VIEWER = "viewer"  # reads everything
    OPERATOR = "operator"  # reads, posts and reports runs
    ADMIN = "admin"  # everything, people and share links included


_SCOPES = {Role.VIEWER: Scope.READ, Role.OPERATOR: Scope.INGEST, Role.ADMIN: Scope.ADMIN}
_KINDS = {Role.VIEWER: Credential.VIEWER, Role.OPERATOR: Credential.OPERATOR}


def principal_for(username: str, role: Role, user_id: int | None = None) -> Principal:
    """The principal a signed-in user acts as (an operator is an unlimited ingest caller)."""
    return Principal(
        name=username,
        scope=_SCOPES[role],
        credential=_KINDS.get(role, Credential.ADMIN),
        user_id=user_id,
    )


USERNAME_RULE = (
    "1-64 characters: lowercase letters, digits, '.', '_', '-' or '@', "
    "starting with a letter or digit"
)
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")

# Length is what makes a password hard to guess (NIST SP 800-63B drops composition
# rules for that reason); with argon2 and the throttle below, 10 characters of
# anything is the floor. The ceiling only keeps one login from costing too much.
MIN_PASSWORD = 10
MAX_PASSWORD = 1024


def username_problem(username: str) -> str | None:
    """Why `username` cannot be used, or None if it can."""
    if not _USERNAME.match(username):
        return f"username must be {USERNAME_RULE}"
    return None


def password_problem(password: str, username: str = "") -> str | None:
    """Why `password` is refused, or None if it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return (
            f"password must be at least {MIN_PASSWORD} characters long: "
            "length is what makes a password hard to guess"
        )
    if len(password) > MAX_PASSWORD:
        return f"password must be at most {MAX_PASSWORD} characters long"
    if not password.strip():
        return "password must not be only spaces"
    if username and password.strip().lower() == username.lower():
        return "password must not be the username"
    return None


@dataclass(frozen=True)
class HashCost:
    """What one argon2id password hash costs: memory in KiB, passes over it, and lanes."""

    memory_kib: int
    passes: int
    lanes: int


# RFC 9106's second recommended profile (64 MiB, 3 passes, 4 lanes): argon2-cffi's default.
RFC9106_LOW_MEMORY = "m=65536,t=3,p=4"


def hash_cost(text: str) -> HashCost:
    """Parse a cost written as argon2 writes it in a hash ("m=65536,t=3,p=4"); ValueError
    says what is wrong (argon2 needs at least one pass, one lane and 8 KiB a lane)."""
    form = f"must be m=<KiB>,t=<passes>,p=<lanes> (like {RFC9106_LOW_MEMORY}), not {text!r}"
    parts = dict(part.partition("=")[::2] for part in text.replace(" ", "").split(","))
    if set(parts) != {"m", "t", "p"} or not all(v.isdigit() for v in parts.values()):
        raise ValueError(form)
    cost = HashCost(int(parts["m"]), int(parts["t"]), int(parts["p"]))
    if cost.passes < 1 or not 1 <= cost.lanes <= 255 or cost.memory_kib < 8 * cost.lanes:
        raise ValueError(f"needs t >= 1, p from 1 to 255 and m >= 8 * p KiB, not {text!r}")
    return cost


@dataclass(frozen=True)
class BackoffLimits:
    """How failed logins slow further tries. Each key (a username, a client address) may
    fail `free` times; after that each try waits `first` seconds after the last failure,
    doubling per further failure up to `longest`. Failures are forgotten `forget_after`
    the last one."""

    free: int
    first: float = 1.0
    longest: float = 15 * 60.0
    forget_after: timedelta = timedelta(hours=1)


PER_USERNAME = BackoffLimits(free=5)
# An address is shared by everyone behind one NAT or proxy: it gets more free tries and a
# shorter longest wait, so a guesser there slows its neighbours down but never locks them out.
PER_CLIENT = BackoffLimits(free=20, longest=60.0)


@dataclass(frozen=True)
class Failures:
    """Failed logins of one key: how many, and when the last was."""

    count: int
    last_at: datetime


def login_wait(failures: Failures | None, limits: BackoffLimits, now: datetime) -> float:
    """Seconds before this key may try again (0.0: it may now).

    Pure: counts and times are passed in (the hub keeps them in the database, so
    every node sees the same)."""
    if failures is None or forgotten(failures, limits, now) or failures.count < limits.free:
        return 0.0
    doublings = min(failures.count - limits.free, 32)
    backoff = min(limits.first * float(2**doublings), limits.longest)
    return max(0.0, (failures.last_at - now).total_seconds() + backoff)


def forgotten(failures: Failures, limits: BackoffLimits, now: datetime) -> bool:
    """Whether these failures are old enough to start counting afresh."""
    return now - failures.last_at >= limits.forget_after


def user_key(username: str) -> str:
    return "user:" + username.strip().lower()


def client_key(client: str) -> str:
    return "client:" + client
