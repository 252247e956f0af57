"""Refusals: what the store says no to, with the HTTP status and words a technician reads.

The store's operations raise `Refusal` for anything a station asked wrongly or may not
do; the HTTP layer turns it into that status with `{"detail": ...}`. Anything else that
goes wrong is a bug or a failing disk or database, and stays a 500 with a log line.
"""

from __future__ import annotations


class Refusal(Exception):
    """The store refuses a request: `status` is the HTTP status, `detail` says why."""

    status = 400
    close_connection = False
    """Set when the request's body was not read to its end: the answer then closes the
    connection, so the client stops sending instead of the server reading the rest."""

    def __init__(self, detail: str, status: int | None = None):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status


class NotFound(Refusal):
    status = 404


class Forbidden(Refusal):
    status = 403


class Conflict(Refusal):
    status = 409


class Gone(Refusal):
    status = 410


class Unprocessable(Refusal):
    status = 422


class TooLarge(Refusal):
    status = 413
