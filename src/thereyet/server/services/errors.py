"""Errors a use case may end with; the web layer turns each into a 4xx answer."""

from __future__ import annotations

# Raised by the writer when the hub is shutting down (answered 503 with Retry-After);
# named here so that transports need not import the store.
from ..store.writer import DatabaseUnavailable as DatabaseUnavailable
from ..store.writer import WriterStopped as WriterStopped


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(ServiceError):
    status = 422


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class TooLarge(ServiceError):
    status = 413


class LoginFailed(ServiceError):
    """A login was refused; the message never says whether the username exists."""

    status = 401


class TooManyAttempts(ServiceError):
    """Too many failed logins, or alerts, lately; `retry_after` is in whole seconds."""

    status = 429

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after
