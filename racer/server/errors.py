"""Errors the server's services raise; the web app turns each into its HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the server refuses, with the HTTP status and a reason for the user.

    Attributes:
        status_code: The HTTP status the API answers with.
        reason: One sentence saying what is wrong and, where it helps, what to do.
    """

    status_code = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unauthorized(ServiceError):
    """No token, or a token the server does not know (401)."""

    status_code = 401


class Forbidden(ServiceError):
    """A known racer asks for something that is not theirs to do (403)."""

    status_code = 403


class NotFound(ServiceError):
    """No such race, submission or invite, or one this racer may not see (404)."""

    status_code = 404


class Conflict(ServiceError):
    """The request clashes with the current state: a closed race, a used name (409)."""

    status_code = 409


class Invalid(ServiceError):
    """A value outside what the server accepts (422)."""

    status_code = 422


class TooMany(ServiceError):
    """The racer has used up the race's submission limit (429)."""

    status_code = 429


class DatabaseError(RuntimeError):
    """The database URL is wrong or the database cannot be reached; the message says which."""
