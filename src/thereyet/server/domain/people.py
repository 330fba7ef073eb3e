"""Web users: roles, the rules for names and passwords, and the login throttle.

Pure rules: nothing here reads a clock or a database; time is passed in.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
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
class ThrottleLimits:
    per_username: int = 5
    per_client: int = 20
    window: timedelta = timedelta(minutes=15)
    max_keys: int = 10_000  # memory bound: the oldest keys are forgotten first


class LoginThrottle:
    """Count logins that failed per username and per client address in a sliding window.

    `attempt` counts an attempt as failed before the password is checked, so
    guesses sent in parallel cannot slip past the limit while an argon2 check
    runs; `succeeded` takes that count back. Once a key has `limit` failures
    within `window`, attempts for it are refused until the oldest of those
    failures leaves the window; a refused attempt is not counted, so waiting
    always ends a lockout. A success clears the username's failures but not the
    client's: a client cannot reset its count by signing in to an account of
    its own between guesses.
    """

    def __init__(self, limits: ThrottleLimits | None = None) -> None:
        self.limits = limits or ThrottleLimits()
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    def attempt(self, username: str, client: str, now: datetime) -> float | None:
        """Seconds to wait if this attempt is refused; else None, and it counts as failed."""
        keys = self._keys(username, client)
        waits = [w for key, limit in keys if (w := self._wait(key, limit, now)) is not None]
        if waits:
            return max(waits)
        for key, _limit in keys:
            times = self._failures.pop(key, None) or deque()
            times.append(now)
            self._failures[key] = times  # the keys that failed last stay longest
        while len(self._failures) > self.limits.max_keys:
            self._failures.popitem(last=False)
        return None

    def succeeded(self, username: str, client: str, at: datetime) -> None:
        """The attempt made `at` was right: forget the username's failures and this one."""
        self._failures.pop(_user_key(username), None)
        times = self._failures.get(_client_key(client))
        if times is not None and at in times:
            times.remove(at)

    def _keys(self, username: str, client: str) -> list[tuple[str, int]]:
        return [
            (_user_key(username), self.limits.per_username),
            (_client_key(client), self.limits.per_client),
        ]

    def _wait(self, key: str, limit: int, now: datetime) -> float | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.limits.window:
            times.popleft()
        if not times:
            del self._failures[key]
        if len(times) < limit:
            return None
        # The failure that must leave the window for the count to drop below the limit.
        frees_at = times[-limit] + self.limits.window
        return max(0.0, (frees_at - now).total_seconds())


def _user_key(username: str) -> str:
    return "user:" + username.strip().lower()


def _client_key(client: str) -> str:
    return "client:" + client
