"""Refusals: what the store says no to, with the HTTP status and words a technician reads.

The store's operations raise `Refusal` for anything a station asked wrongly or may not
do; the HTTP layer turns it into that status with `{"detail": ...}`, plus `"code": CODE`
when the refusal has one a station acts on (e.g. `name_taken_elsewhere`: the booth marks
the take "failed: name taken elsewhere" instead of sending it again). Anything else that
goes wrong is a bug or a failing disk or database, and stays a 500 with a log line.
"""

from __future__ import annotations


class Refusal(Exception):
    """The store refuses a request: `status` is the HTTP status, `detail` says why."""

    status = 400
    close_connection = False
    """Set when the request's body was not read to its end: the answer then closes the
    connection, so the client stops sending instead of the server reading the rest."""

    code: str | None = None
    """A machine-readable reason, for refusals a station handles on its own."""

    def __init__(self, detail: str, status: int | None = None, *, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def problem(self) -> dict[str, str]:
        """The JSON body of the answer."""
        return {"detail": self.detail} if self.code is None else {"detail": self.detail, "code": self.code}


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


class InsufficientStorage(Refusal):
    """The store's disk (or its database's) is full: nothing of the request was kept."""

    status = 507
    code = "disk_full"
