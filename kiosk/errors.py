"""The one error type that reaches a technician.

Every failure a person can act on is raised as a `KioskError` carrying what went wrong
and what to do about it; the command line prints both to stderr and exits non-zero.
Anything else is a bug and keeps its traceback.
"""


class KioskError(Exception):
    exit_code = 2

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  what to do: {self.hint}"
