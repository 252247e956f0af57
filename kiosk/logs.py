"""Structured logs: one JSON object per line on stdout, for journald.

Every station runs as a systemd service, and journald keeps its stdout line by line.
A line that is one JSON object can be filtered by field in the gallery's log tools
(`journalctl -u kiosk -o cat | jq 'select(.level == "ERROR")'`), and the station id in
every line tells the central store's collected logs apart. A line looks like:

    {"ts": "2026-11-21T10:42:00.123Z", "level": "INFO", "logger": "kiosk.booth",
     "station": "booth-1", "msg": "recording kept", "recording_id": "r-81f3", "seconds": 4.2}

Fields given with `logger.info("...", extra={...})` join the line; values that are not
plain JSON (numbers, strings, booleans, None, lists and dicts of those) are replaced by
a marker rather than turned into text, since an object's repr may carry personal data.

No personal data reaches the logs. A visitor who reads names aloud in the "Elke naam
telt" booth gives us their voice, and under the GDPR that recording and who made it
are theirs: the reader of a recording must never appear in a log line. The names of the
people deported from the Dossin barracks are not secret - they are the collection - but
a log line that holds both a recording and a name comes close to telling who read whom.
So the formatter replaces fields named like personal data (`PERSONAL_FIELDS`, at any
depth) with "[redacted]": log ids, never people. (Logging itself refuses `name` at the
top level of `extra`, where it would clash with the logger's name; nested, it is
redacted like the others.) The message text itself is not
inspected; put variable data in fields, not in the message.

Kivy's log lines come here too: the station shell sets KIVY_LOG_MODE=PYTHON, so Kivy
adds no handlers of its own and leaves sys.stderr alone.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

PERSONAL_FIELDS = frozenset(
    {"name", "surname", "given_names", "reader", "email", "phone", "address"}
)
REDACTED = "[redacted]"

# Libraries that log per request or per image at INFO and DEBUG.
NOISY_LOGGERS = ("PIL", "urllib3", "asyncio", "httpx", "httpcore", "multipart")

_CORE_FIELDS = ("ts", "level", "logger", "station", "msg", "exc", "stack")
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}
_OUR_HANDLER = "_kiosk_json_lines"


class JsonLinesFormatter(logging.Formatter):
    """Formats a record as one line of JSON; see the module docstring for the fields."""

    def __init__(self, station_id: str | None):
        super().__init__()
        self.station_id = station_id

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "station": self.station_id,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key in _RECORD_ATTRIBUTES or key.startswith("_"):
                continue
            field = f"extra_{key}" if key in _CORE_FIELDS else key
            entry[field] = REDACTED if _is_personal(key) else _plain_json(value)
        return json.dumps(entry)


class _JsonLinesHandler(logging.StreamHandler):
    def handleError(self, record: logging.LogRecord) -> None:
        # Kivy replaces sys.stderr with a stream that logs whatever is written to it, so
        # the standard report of a failed write (stdout gone, say) would come straight
        # back to this handler, fail again, and recurse. Report on the real stderr.
        if not logging.raiseExceptions or sys.__stderr__ is None:
            return
        try:
            sys.__stderr__.write(
                f"kiosk.logs: could not write a log line from {record.name}: "
                f"{sys.exc_info()[1]!r}\n"
            )
        except Exception:
            pass


def configure_logging(
    station_id: str | None, level: str | int = "INFO", stream: TextIO | None = None
) -> None:
    """Send all logging to `stream` (stdout when None) as JSON lines, at `level` and above.

    Calling it again replaces the handler it installed before, so a station that
    reconfigures (a new station id, another level) never prints a line twice. Other
    handlers on the root logger are left alone.
    """
    if isinstance(level, str):
        level = level.upper()
    handler = _JsonLinesHandler(stream if stream is not None else sys.stdout)
    setattr(handler, _OUR_HANDLER, True)
    handler.setFormatter(JsonLinesFormatter(station_id))
    # On the handler too: importing Kivy resets the root logger's level to NOTSET.
    handler.setLevel(level)
    root = logging.getLogger()
    for previous in list(root.handlers):
        if getattr(previous, _OUR_HANDLER, False):
            root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, handler.level))


def _utc_timestamp(created: float) -> str:
    moment = datetime.fromtimestamp(created, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _is_personal(key: object) -> bool:
    return isinstance(key, str) and key.lower() in PERSONAL_FIELDS


def _plain_json(value: Any) -> Any:
    """`value` with personal fields redacted, or a marker if it is not plain JSON."""
    redacted = _redact(value)
    try:
        json.dumps(redacted, allow_nan=False)
    except (TypeError, ValueError):
        return f"[not serialisable: {type(value).__name__}]"
    return redacted


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if _is_personal(key) else _redact(inner)
            for key, inner in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact(inner) for inner in value]
    return value
