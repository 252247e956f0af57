"""kiosk.logs: JSON lines for journald, with no personal data in them."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from datetime import datetime, timezone

import pytest

from kiosk.logs import NOISY_LOGGERS, PERSONAL_FIELDS, REDACTED, configure_logging

log = logging.getLogger("kiosk.test")


@pytest.fixture(autouse=True)
def restore_logging():
    """Put the root logger and the quieted loggers back as they were."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy_levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, noisy_level in noisy_levels.items():
        logging.getLogger(name).setLevel(noisy_level)


@pytest.fixture
def stream() -> io.StringIO:
    return io.StringIO()


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_line_with_the_core_fields(stream):
    configure_logging("booth-1", stream=stream)
    before = time.time()
    log.info("recording %s kept", "r-81f3")

    [entry] = lines(stream)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "kiosk.test"
    assert entry["station"] == "booth-1"
    assert entry["msg"] == "recording r-81f3 kept"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])
    logged_at = datetime.fromisoformat(entry["ts"].replace("Z", "+00:00"))
    assert logged_at.tzinfo == timezone.utc
    assert abs(logged_at.timestamp() - before) < 5


def test_a_message_with_newlines_stays_on_one_line(stream):
    configure_logging("wall", stream=stream)
    log.warning("first line\nsecond line \u00e9")
    assert len(stream.getvalue().splitlines()) == 1
    assert lines(stream)[0]["msg"] == "first line\nsecond line \u00e9"


def test_a_station_without_id_logs_null(stream):
    configure_logging(None, stream=stream)
    log.info("starting")
    assert lines(stream)[0]["station"] is None


def test_extra_fields_join_the_line(stream):
    configure_logging("booth-1", stream=stream)
    log.info("kept", extra={"recording_id": "r-81f3", "seconds": 4.2, "tags": ["nl", 2],
                            "quality": {"snr_db": 31.5, "clipped": False}})
    entry = lines(stream)[0]
    assert entry["recording_id"] == "r-81f3"
    assert entry["seconds"] == 4.2
    assert entry["tags"] == ["nl", 2]
    assert entry["quality"] == {"snr_db": 31.5, "clipped": False}


def test_values_that_are_not_plain_json_become_a_marker(stream):
    class Person:
        def __repr__(self):
            return "Person(Chaja Goldsztajn)"

    configure_logging("booth-1", stream=stream)
    log.info("odd", extra={"who": Person(), "level_db": float("nan")})
    entry = lines(stream)[0]
    assert entry["who"] == "[not serialisable: Person]"
    assert entry["level_db"] == "[not serialisable: float]"
    assert "Goldsztajn" not in stream.getvalue()


@pytest.mark.parametrize("field", sorted(PERSONAL_FIELDS - {"name"}))
def test_personal_fields_are_redacted(stream, field):
    configure_logging("booth-1", stream=stream)
    log.info("assigned", extra={field: "Chaja Goldsztajn", "person_id": "p-1042"})
    entry = lines(stream)[0]
    assert entry[field] == REDACTED
    assert entry["person_id"] == "p-1042"
    assert "Goldsztajn" not in stream.getvalue()


def test_a_name_is_refused_by_logging_itself_and_redacted_when_nested(stream):
    configure_logging("booth-1", stream=stream)
    # "name" is the logger's name in a LogRecord, so logging refuses it in extra.
    with pytest.raises(KeyError):
        log.info("assigned", extra={"name": "Chaja Goldsztajn"})
    log.info("assigned", extra={"person": {"name": "Chaja Goldsztajn", "id": "p-1042"}})
    assert lines(stream)[0]["person"] == {"name": REDACTED, "id": "p-1042"}
    assert "Goldsztajn" not in stream.getvalue()


def test_personal_fields_are_redacted_at_any_depth_and_any_case(stream):
    configure_logging("booth-1", stream=stream)
    log.info("assigned", extra={
        "Reader": "visitor@example.org",
        "session": {"EMAIL": "visitor@example.org", "names": [{"surname": "Goldsztajn"}]},
    })
    entry = lines(stream)[0]
    assert entry["Reader"] == REDACTED
    assert entry["session"] == {"EMAIL": REDACTED, "names": [{"surname": REDACTED}]}
    assert "example.org" not in stream.getvalue()
    assert "Goldsztajn" not in stream.getvalue()


def test_an_extra_field_cannot_overwrite_a_core_field(stream):
    configure_logging("booth-1", stream=stream)
    log.info("hello", extra={"level": "fake", "station": "elsewhere"})
    entry = lines(stream)[0]
    assert entry["level"] == "INFO"
    assert entry["station"] == "booth-1"
    assert entry["extra_level"] == "fake"
    assert entry["extra_station"] == "elsewhere"


def test_an_exception_is_a_string_field(stream):
    configure_logging("memorial", stream=stream)
    try:
        raise ConnectionError("central store unreachable")
    except ConnectionError:
        log.exception("sync failed")
    entry = lines(stream)[0]
    assert entry["level"] == "ERROR"
    assert entry["msg"] == "sync failed"
    assert entry["exc"].startswith("Traceback (most recent call last):")
    assert "ConnectionError: central store unreachable" in entry["exc"]


def test_records_below_the_level_are_dropped(stream):
    configure_logging("wall", level="warning", stream=stream)
    log.info("not shown")
    log.warning("shown")
    assert [entry["msg"] for entry in lines(stream)] == ["shown"]


def test_noisy_libraries_are_quieted(stream):
    configure_logging("wall", level="DEBUG", stream=stream)
    logging.getLogger("PIL.PngImagePlugin").debug("STREAM b'IHDR' 16 13")
    logging.getLogger("urllib3.connectionpool").info("Starting new HTTP connection")
    logging.getLogger("PIL").warning("truncated image")
    log.debug("shown")
    assert [entry["msg"] for entry in lines(stream)] == ["truncated image", "shown"]


def test_configuring_twice_does_not_print_twice(stream):
    first = io.StringIO()
    configure_logging("booth-1", stream=first)
    configure_logging("booth-2", stream=stream)
    log.info("once")
    assert first.getvalue() == ""
    assert [(entry["station"], entry["msg"]) for entry in lines(stream)] == [("booth-2", "once")]


def test_other_handlers_are_left_alone(stream):
    other = logging.StreamHandler(io.StringIO())
    logging.getLogger().addHandler(other)
    configure_logging("booth-1", stream=stream)
    configure_logging("booth-1", stream=stream)
    assert other in logging.getLogger().handlers
    log.warning("to both")
    assert "to both" in other.stream.getvalue()
    assert len(lines(stream)) == 1


def test_an_unknown_level_is_refused_and_changes_nothing(stream):
    configure_logging("booth-1", stream=stream)
    with pytest.raises(ValueError):
        configure_logging("booth-1", level="LOUD", stream=io.StringIO())
    log.info("still here")
    assert lines(stream)[0]["msg"] == "still here"


def test_stdout_is_the_default(capsys):
    configure_logging("booth-1")
    log.info("to stdout")
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["msg"] == "to stdout"
    assert captured.err == ""


def test_a_broken_stdout_does_not_loop_through_a_logging_stderr(monkeypatch, capfd):
    """Kivy turns stderr into a logger; a failed write must not feed itself."""

    class GoneStream(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    class StderrThatLogs(io.StringIO):
        def write(self, text):
            logging.getLogger("stderr").warning(text)
            return len(text)

    configure_logging("booth-1", stream=GoneStream())
    monkeypatch.setattr("sys.stderr", StderrThatLogs())
    log.info("nobody hears this")
    assert "could not write a log line from kiosk.test" in capfd.readouterr().err
