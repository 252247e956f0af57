"""Reading a collection folder: every problem found, or a whole `Collection`.

A collection comes from outside (the museum's database export, a spreadsheet, the demo
generator), so nothing in it is trusted. One pass reads both CSV files, collects every
problem with its file, line and column, and builds the model on the way; a file with any
problem is refused whole, never half-accepted, so a station cannot show a list with
silent gaps.
"""

from __future__ import annotations

import csv
import os
import re
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO

from kiosk.collection.layout import (
    FICTIONAL_COLUMN,
    FICTIONAL_YES,
    PERSON_COLUMNS,
    PERSONS_FILE,
    PORTRAITS_DIR,
    TRANSPORT_COLUMNS,
    TRANSPORTS_FILE,
)
from kiosk.collection.imagefacts import ImageFactsIndex
from kiosk.collection.model import FATES, NO_EXTRA, SEXES, Collection, PartialDate, Person, Transport
from kiosk.errors import KioskError

SHOWN_PROBLEMS = 200
"""How many problems a person reads before "and N more"; all of them are counted."""
KEPT_PROBLEMS = 10_000
"""How many problems are kept for --json; past that a broken file would only repeat itself."""

_BOM = b"\xef\xbb\xbf"
MAX_LIST_NUMBER = 2**31 - 1
"""The store keeps list numbers as SQL INTEGER (32 bits on PostgreSQL); checked here so
that a number too large is refused with its line, not by the import. The longest list
had 1,742 names."""
_FICTIONAL_VALUES = {FICTIONAL_YES: True, "no": False, "": False}


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    """Path relative to the collection folder, as a technician opens it."""
    line: int | None
    """Line in the file, counting the header as line 1; None for the file as a whole."""
    column: str | None
    """Column name from the header; None when the problem is not one field's."""
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class CheckReport:
    root: Path
    persons: int
    """Person rows read, valid or not."""
    transports: int
    portraits: int
    """Persons with a portrait file named (the others get a silhouette)."""
    fictional: bool
    problems: tuple[Problem, ...]
    """The first KEPT_PROBLEMS problems, in file and line order."""
    problem_count: int

    @property
    def valid(self) -> bool:
        return self.problem_count == 0

    def summary(self) -> str:
        kind = "fictional demo collection" if self.fictional else "collection"
        counts = (
            f"{self.persons} persons, {self.transports} transports, "
            f"{self.portraits} portraits, {self.persons - self.portraits} silhouettes"
        )
        if self.valid:
            return f"{self.root}: valid {kind}: {counts}"
        return f"{self.root}: NOT a valid {kind}, {self.problem_count} problem(s); read so far: {counts}"

    def problem_lines(self, limit: int = SHOWN_PROBLEMS) -> list[str]:
        lines = [str(problem) for problem in self.problems[:limit]]
        if self.problem_count > limit:
            lines.append(f"... and {self.problem_count - limit} more")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "persons": self.persons,
            "transports": self.transports,
            "portraits": self.portraits,
            "fictional": self.fictional,
            "problems": [problem.to_json() for problem in self.problems],
            "problem_count": self.problem_count,
        }


def check_collection(root: Path | str) -> CheckReport:
    """Validate a collection folder without importing it; never raises for bad content."""
    return _Reader(Path(root)).read()[0]


def load_collection(root: Path | str, *, images: ImageFactsIndex | None = None) -> Collection:
    """The whole collection, or a KioskError naming the first problems and their total.

    IMAGES: an index of the portraits' facts (a station's), so that only portraits new or
    changed since it was written are opened; without one every portrait is opened.
    """
    report, collection = _Reader(Path(root), images).read()
    if collection is None:
        shown = report.problem_lines(limit=10)
        raise KioskError(
            f"{report.root} is not a valid collection ({report.problem_count} problem(s)):\n    "
            + "\n    ".join(shown),
            f"fix the files named above (`kiosk collection check {report.root}` lists every problem), "
            "then load the collection again",
        )
    return collection


@dataclass
class _Table:
    """One CSV file's header, and its rows with the physical line where each row starts."""

    header: dict[str, int] = field(default_factory=dict)
    width: int = 0
    """Fields in the header line; every row must have as many."""
    rows: Iterable[tuple[int, list[str]]] = ()
    """Read once, as they are iterated."""


class _Row:
    """One row's fields by column name; a column the header lacks reads as empty."""

    __slots__ = ("fields", "header")

    def __init__(self, header: dict[str, int], fields: list[str]):
        self.header = header
        self.fields = fields

    def __getitem__(self, column: str) -> str:
        index = self.header.get(column)
        return self.fields[index] if index is not None else ""

    def has(self, column: str) -> bool:
        return column in self.header


class _Reader:
    """One reading of one folder: the problems found, and what is needed to find more."""

    def __init__(self, root: Path, images: ImageFactsIndex | None = None):
        self.root = root
        self.images = images or ImageFactsIndex(None)
        self.portrait_signatures: Mapping[str, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.transports_listed = False
        """transports.csv was read: an unknown code is then the person's problem."""
        self.transports_by_code: dict[str, Transport] = {}
        # What the check needs until the last row, made of what the persons keep anyway
        # (their strings and numbers) or of few large blocks: small objects made for it
        # alone, freed at the end, left 4 MB of a wall's memory in holes (issue 18).
        self.portrait_files: dict[str, str] = {}
        """Name -> the same name, as the folder's listing gave it (the person keeps that string)."""
        self.person_lines: dict[str, int] = {}
        self.list_lines: dict[str, dict[int, int]] = {}
        """Transport code -> list number -> line."""
        self.portraits_to_open: list[str] = []
        self.portrait_lines = array("l")
        """The line of each of portraits_to_open."""
        self.shared_texts: dict[str, str] = {}
        self.dates: dict[str, PartialDate] = {}
        self.numbers: dict[int, int] = {}

    def problem(self, file: str, line: int | None, column: str | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(Problem(file, line, column, message))

    def read(self) -> tuple[CheckReport, Collection | None]:
        transports: list[Transport] = []
        persons: list[Person] = []
        portraits = 0
        fictional = False
        if not self.root.is_dir():
            self.problem(
                ".",
                None,
                None,
                f"{self.root} is not a folder (expected {TRANSPORTS_FILE}, {PERSONS_FILE}, {PORTRAITS_DIR}/)",
            )
        else:
            transports = self.read_transports()
            persons, portraits = self.read_persons({t.code: t for t in transports})
            fictional = self.check_fictional_mark(persons)
        self.problems.sort(key=lambda p: (p.file != TRANSPORTS_FILE, p.file, p.line or 0))
        report = CheckReport(
            root=self.root,
            persons=len(persons),
            transports=len(transports),
            portraits=portraits,
            fictional=fictional,
            problems=tuple(self.problems),
            problem_count=self.problem_count,
        )
        if not report.valid:
            return report, None
        return report, Collection(self.root, tuple(transports), tuple(persons), self.portrait_signatures)

    # -- files -------------------------------------------------------------------------

    def read_table(self, name: str, required: tuple[str, ...]) -> _Table | None:
        path = self.root / name
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            self.problem(
                name, None, None, f"file missing: every collection needs {name} with the columns {','.join(required)}"
            )
            return None
        except OSError as error:
            self.problem(name, None, None, f"cannot read the file: {error.strerror}")
            return None
        text = _Text(self, name)
        records = self.records(name, handle, text)
        header = next(records, None)
        if text.unreadable:
            records.close()
            return None
        if header is None:
            self.problem(name, None, None, f"empty file: the first line must be the header {','.join(required)}")
            return None
        fields = header[1]
        # The rows are read as they are used, never all held at once: 25,000 rows of
        # strings next to the persons made from them doubled a station's memory at start.
        return _Table(self.read_header(name, fields, required), len(fields), (record for record in records if record[1]))

    def records(self, name: str, handle: BinaryIO, text: _Text) -> Iterator[tuple[int, list[str]]]:
        """(line where it starts, fields) of every record of the file, the header first."""
        with handle:
            reader = csv.reader(text.lines(_physical_lines(handle)))
            try:
                start = 1
                for fields in reader:
                    yield start, fields
                    start = reader.line_num + 1
            except csv.Error as error:
                self.problem(name, reader.line_num, None, f"cannot be read as CSV from here on: {error}")
            except OSError as error:
                self.problem(name, None, None, f"cannot read the file: {error.strerror}")
        text.summarise()

    def read_header(self, name: str, fields: list[str], required: tuple[str, ...]) -> dict[str, int]:
        names = [f.strip() for f in fields]
        header: dict[str, int] = {}
        for index, column in enumerate(names):
            if column in header:
                self.problem(name, 1, column, f"column {column!r} appears twice in the header")
            else:
                header[column] = index
        missing = [c for c in required if c not in header]
        if missing:
            self.problem(
                name,
                1,
                None,
                f"header lacks the column(s) {', '.join(missing)}; the header must name {','.join(required)} "
                f"(found: {','.join(names)})",
            )
        return header

    def fields_of(self, name: str, table: _Table, line: int, fields: list[str]) -> list[str] | None:
        if len(fields) == table.width:
            return [f.strip() for f in fields]
        hint = ""
        if any("\n" in f for f in fields):
            hint = " (a field spans several lines: is a quote left open?)"
        self.problem(name, line, None, f"{len(fields)} fields where the header has {table.width}{hint}")
        return None

    # -- transports.csv ------------------------------------------------------------------

    def read_transports(self) -> list[Transport]:
        name = TRANSPORTS_FILE
        table = self.read_table(name, TRANSPORT_COLUMNS)
        if table is None:
            return []
        self.transports_listed = True
        seen: dict[str, int] = {}
        transports: list[Transport] = []
        for line, raw in table.rows:
            fields = self.fields_of(name, table, line, raw)
            if fields is None:
                continue
            row = _Row(table.header, fields)
            code = row["code"]
            if not code:
                self.problem(name, line, "code", "empty transport code")
            elif code in seen:
                self.problem(
                    name, line, "code", f"transport code {code!r} is used twice: lines {seen[code]} and {line}"
                )
            else:
                seen[code] = line
            departed: date | None = None
            if row["departed"]:
                try:
                    parsed = PartialDate.parse(row["departed"])
                    if not parsed.is_complete:
                        raise ValueError(f"{row['departed']!r} is not a whole date YYYY-MM-DD")
                    departed = parsed.earliest
                except ValueError as error:
                    self.problem(
                        name, line, "departed", f"bad departure date: {error} (or leave it empty when unknown)"
                    )
            transports.append(Transport(code, departed, row["destination"], row["note"]))
        return transports

    # -- persons.csv ---------------------------------------------------------------------

    def read_persons(self, transports: dict[str, Transport]) -> tuple[list[Person], int]:
        table = self.read_table(PERSONS_FILE, PERSON_COLUMNS)
        if table is None:
            return [], 0
        self.transports_by_code = transports
        self.portrait_files = self.list_portraits()
        known = set(PERSON_COLUMNS) | {FICTIONAL_COLUMN}
        extra_columns = [(c, i) for c, i in table.header.items() if c not in known]
        persons: list[Person] = []
        for line, raw in table.rows:
            fields = self.fields_of(PERSONS_FILE, table, line, raw)
            if fields is not None:
                extra = MappingProxyType({c: fields[i] for c, i in extra_columns}) if extra_columns else NO_EXTRA
                persons.append(self.read_person(line, _Row(table.header, fields), extra))
        self.check_images()
        return persons, sum(1 for p in persons if p.portrait)

    def read_person(self, line: int, row: _Row, extra: Mapping[str, str]) -> Person:
        """One person; each field checked on its own, so one row can show several problems.

        A column missing from the header is reported once (read_header), not on every row.
        """

        def problem(column: str, message: str) -> None:
            self.problem(PERSONS_FILE, line, column, message)

        person_id = row["person_id"]
        if row.has("person_id"):
            if not person_id:
                problem("person_id", "empty person_id; every person needs a unique id")
            elif person_id in self.person_lines:
                problem(
                    "person_id",
                    f"person_id {person_id!r} is used twice: lines {self.person_lines[person_id]} and {line}",
                )
            else:
                self.person_lines[person_id] = line

        surname, given_names = row["surname"], row["given_names"]
        if not surname and not given_names and (row.has("surname") or row.has("given_names")):
            problem("surname", "no name: fill in surname or given_names (or both)")

        code = row["transport"]
        transport = self.transports_by_code.get(code)
        if row.has("transport"):
            if not code:
                problem("transport", "empty transport; use a code of transports.csv")
            elif transport is None and self.transports_listed:
                problem("transport", f"unknown transport {code!r}; it must be a code of transports.csv")

        list_text, list_number = row["list_number"], 0
        whole = list_text.isascii() and list_text.isdigit()
        # Counted in digits first: int() of thousands of digits is slow, then refused.
        too_large = whole and (
            len(list_text.lstrip("0")) > len(str(MAX_LIST_NUMBER)) or int(list_text) > MAX_LIST_NUMBER
        )
        if too_large:
            problem(
                "list_number",
                f"list number {_shortened(list_text)} is out of range: list numbers run from 1 to {MAX_LIST_NUMBER}",
            )
        elif whole and int(list_text) > 0:
            # Each transport counts from 1: one int object per number, not one per person.
            number = int(list_text)
            list_number = self.numbers.setdefault(number, number)
            if code:
                first = self.list_lines.setdefault(code, {}).setdefault(list_number, line)
                if first != line:
                    problem(
                        "list_number",
                        f"list number {list_number} is used twice in transport {code}: lines {first} and {line}",
                    )
        elif row.has("list_number"):
            problem("list_number", f"list number {_shortened(list_text)!r} is not a positive whole number")

        birth_date: PartialDate | None = None
        if row["birth_date"]:
            try:
                # Dates repeat (twins, and a year alone for many): parsed and held once each.
                text = row["birth_date"]
                birth_date = self.dates.get(text) or self.dates.setdefault(text, PartialDate.parse(text))
            except ValueError as error:
                problem("birth_date", f"bad date: {error}")
            else:
                if transport is not None and transport.departed and birth_date.earliest > transport.departed:
                    problem(
                        "birth_date",
                        f"born {birth_date}, after transport {code} left on {transport.departed.isoformat()}",
                    )

        sex, fate = row["sex"], row["fate"]
        if sex not in SEXES:
            problem("sex", f"sex {sex!r} must be f, m or empty")
        if fate not in FATES and row.has("fate"):
            problem("fate", f"fate {fate!r} must be murdered, survived or unknown")

        portrait = row["portrait"] or None
        if portrait is not None:
            if portrait in (".", "..") or "/" in portrait or "\\" in portrait:
                problem("portrait", f"portrait {portrait!r} must be a file name inside {PORTRAITS_DIR}/")
            elif portrait not in self.portrait_files:
                problem("portrait", f"portrait file {PORTRAITS_DIR}/{portrait} does not exist")
            else:
                portrait = self.portrait_files[portrait]
                self.portraits_to_open.append(portrait)
                self.portrait_lines.append(line)

        fictional = _FICTIONAL_VALUES.get(row[FICTIONAL_COLUMN])
        if fictional is None:
            problem(FICTIONAL_COLUMN, f"{FICTIONAL_COLUMN} {row[FICTIONAL_COLUMN]!r} must be yes, no or empty")

        # Families share names, transports and places: one string each, not one per row.
        shared = self.shared_texts.setdefault
        return Person(
            person_id=person_id,
            surname=shared(surname, surname),
            given_names=shared(given_names, given_names),
            birth_date=birth_date,
            birth_place=shared(row["birth_place"], row["birth_place"]),
            sex=shared(sex, sex),  # type: ignore[arg-type]  # checked against SEXES above
            transport=shared(code, code),
            list_number=list_number,
            fate=shared(fate, fate),  # type: ignore[arg-type]  # checked against FATES above
            portrait=portrait,
            fictional=bool(fictional),
            extra=extra,
        )

    def list_portraits(self) -> dict[str, str]:
        """One directory listing instead of a stat per person: 25,000 persons, one syscall batch."""
        try:
            with os.scandir(self.root / PORTRAITS_DIR) as entries:
                return {name: name for name in (e.name for e in entries if e.is_file())}
        except FileNotFoundError:
            return {}
        except OSError as error:
            self.problem(PORTRAITS_DIR, None, None, f"cannot list the folder: {error.strerror}")
            return {}

    def check_images(self) -> None:
        """Each named file must open as an image; only its header is read (Image.open is
        lazy), and only when the image index does not know the file as it is now."""
        report = self.images.read(self.root / PORTRAITS_DIR, self.portraits_to_open)
        self.portrait_signatures = report.signatures
        for line, file_name in zip(self.portrait_lines, self.portraits_to_open):
            reason = report.problems.get(file_name)
            if reason is not None:
                self.problem(
                    PERSONS_FILE,
                    line,
                    "portrait",
                    f"portrait file {PORTRAITS_DIR}/{file_name} cannot be opened: {reason}",
                )

    def check_fictional_mark(self, persons: list[Person]) -> bool:
        marked = sum(1 for p in persons if p.fictional)
        if 0 < marked < len(persons):
            self.problem(
                PERSONS_FILE,
                None,
                FICTIONAL_COLUMN,
                f"{marked} of {len(persons)} persons are marked fictional: invented persons must never be mixed "
                "with real ones; use the demo collection alone or a real export alone",
            )
        return marked > 0


# -- reading text ----------------------------------------------------------------------

MAX_LINE_BYTES = 64 * 1024
"""A row of a collection is a few hundred bytes. A longer line is not a row (a file
that is not CSV, or one that lost its line ends): it is named and skipped, never held."""
_READ_BYTES = 64 * 1024
_LINE_END = re.compile(rb"\r\n|\r|\n")
ENCODING_LINES_SHOWN = 5
"""Lines with bytes that are not UTF-8 named one by one; the rest are counted."""
SAVE_AS_UTF8 = (
    'save it as "CSV UTF-8": in Excel, File > Save As > "CSV UTF-8 (Comma delimited)"; in LibreOffice '
    'Calc, Save As "Text CSV" with "Edit filter settings" and the character set "Unicode (UTF-8)"'
)


def _physical_lines(handle: BinaryIO) -> Iterator[bytes | None]:
    """The file's lines without their ends, whichever ends they have (LF, CRLF, or CR as
    Excel for Mac writes, mixed as they come); None for a line longer than
    MAX_LINE_BYTES, which is passed over without being kept."""
    buffer = b""
    skipping = False  # inside a line already too long
    while True:
        chunk = handle.read(_READ_BYTES)
        at_end = not chunk
        buffer += chunk
        taken = 0
        for end in _LINE_END.finditer(buffer):
            if end.group() == b"\r" and end.end() == len(buffer) and not at_end:
                break  # perhaps the first half of a CRLF: wait for the next piece
            yield None if skipping or end.start() - taken > MAX_LINE_BYTES else buffer[taken : end.start()]
            skipping = False
            taken = end.end()
        buffer = buffer[taken:]
        if len(buffer) > MAX_LINE_BYTES:
            skipping = True
            buffer = buffer[-1:] if buffer.endswith(b"\r") else b""
        if at_end:
            if skipping or buffer:
                yield None if skipping else buffer
            return


class _Text:
    """One CSV file's lines decoded as UTF-8 (a BOM is allowed), every problem with the
    bytes named by line and column, with what to do."""

    def __init__(self, reader: _Reader, name: str):
        self.reader = reader
        self.name = name
        self.header: list[str] = []
        self.bad_lines = 0
        self.first_bad_line = 0
        self.unreadable = False
        """The whole file is in an encoding read no further (UTF-16)."""

    def lines(self, raw_lines: Iterator[bytes | None]) -> Iterator[str]:
        for number, raw in enumerate(raw_lines, start=1):
            if raw is None:
                self.reader.problem(
                    self.name,
                    number,
                    None,
                    f"line longer than {MAX_LINE_BYTES // 1024} kB, passed over: a row is a few hundred bytes; "
                    "is this the right file, saved as CSV?",
                )
                yield "\n"
                continue
            if number == 1:
                if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:2]:
                    self.unreadable = True
                    self.reader.problem(
                        self.name,
                        1,
                        None,
                        'the file is UTF-16 (Excel\'s "Unicode Text"), not UTF-8; ' + SAVE_AS_UTF8,
                    )
                    return
                raw = raw.removeprefix(_BOM)  # spreadsheet programs add one; it is not part of the header
            yield self.decode(number, raw) + "\n"

    def decode(self, number: int, raw: bytes) -> str:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            self.bad_lines += 1
            self.first_bad_line = self.first_bad_line or number
            if self.bad_lines <= ENCODING_LINES_SHOWN:
                shown = " ".join(f"0x{b:02x}" for b in raw[error.start : error.end])
                message = f"bytes that are not UTF-8 ({shown}) at byte {error.start + 1} of the line"
                if self.bad_lines == 1:  # what to do, said once per file
                    message += (
                        ': the file is in another encoding (Excel\'s plain "CSV" writes Windows-1252, '
                        "or Mac Roman on a Mac); " + SAVE_AS_UTF8
                    )
                self.reader.problem(self.name, number, self.column_at(number, raw, error.start), message)
            text = raw.decode("utf-8", "replace")
        else:
            if "\x00" in text:
                at = raw.index(b"\x00")
                self.reader.problem(
                    self.name,
                    number,
                    self.column_at(number, raw, at),
                    f"a NUL byte (0x00) at byte {at + 1} of the line: the file is damaged or is not text; "
                    "export it again from its source as CSV",
                )
                text = text.replace("\x00", "\ufffd")
        if number == 1:
            self.header = [field.strip() for field in _fields(text)]
        return text

    def column_at(self, number: int, raw: bytes, offset: int) -> str | None:
        """The header's name of the field holding byte `offset` of line `number`."""
        if number == 1:
            return None
        before = raw[:offset].decode("utf-8", "replace")
        index = len(_fields(before)) - 1 if before else 0
        return self.header[index] if 0 <= index < len(self.header) else None

    def summarise(self) -> None:
        hidden = self.bad_lines - ENCODING_LINES_SHOWN
        if hidden > 0:
            self.reader.problem(
                self.name,
                None,
                None,
                f"{hidden} more lines hold bytes that are not UTF-8 (the first is line {self.first_bad_line}); "
                + SAVE_AS_UTF8,
            )


def _shortened(value: str, limit: int = 40) -> str:
    """A field's value as a message quotes it: a runaway one cut short."""
    return value if len(value) <= limit else f"{value[:limit]}... ({len(value)} characters)"


def _fields(line: str) -> list[str]:
    """The fields of one line as CSV reads them, however broken the line."""
    try:
        return next(csv.reader([line.rstrip("\r\n")]), [])
    except csv.Error:
        return line.split(",")
