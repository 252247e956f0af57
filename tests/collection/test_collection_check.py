"""Damaged copies of the demo collection: each damage is named by file, line and column."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.collection import check_collection, load_collection
from kiosk.collection.check import SHOWN_PROBLEMS, Problem
from kiosk.errors import KioskError

Damage = Callable[[Path], tuple[str, int | None, str | None, str]]
"""Damages a collection folder; returns the problem it must cause: file, line, column, words."""


def _edit_line(folder: Path, line: int, edit: Callable[[list[str]], list[str]], name: str = "persons.csv") -> list[str]:
    """Apply `edit` to the fields of one line (1 = header) and write the file back."""
    path = folder / name
    lines = path.read_text(encoding="utf-8").split("\n")
    fields = next(csv.reader([lines[line - 1]]))
    new = edit(list(fields))
    lines[line - 1] = ",".join(new)
    path.write_text("\n".join(lines), encoding="utf-8")
    return fields


def _field(folder: Path, line: int, column: str, name: str = "persons.csv") -> str:
    with open(folder / name, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[line - 1][rows[0].index(column)]


PERSON = {
    c: i
    for i, c in enumerate(
        [
            "person_id",
            "surname",
            "given_names",
            "birth_date",
            "birth_place",
            "sex",
            "transport",
            "list_number",
            "fate",
            "portrait",
            "fictional",
        ]
    )
}


def duplicate_person_id(folder: Path) -> tuple[str, int | None, str | None, str]:
    first = _field(folder, 5, "person_id")
    _edit_line(folder, 20, lambda f: f[:0] + [first] + f[1:])
    return "persons.csv", 20, "person_id", f"{first!r} is used twice: lines 5 and 20"


def unknown_transport(folder: Path) -> tuple[str, int | None, str | None, str]:
    _edit_line(folder, 30, lambda f: [*f[: PERSON["transport"]], "XXVII", *f[PERSON["transport"] + 1 :]])
    return "persons.csv", 30, "transport", "unknown transport 'XXVII'"


def bad_date(folder: Path) -> tuple[str, int | None, str | None, str]:
    _edit_line(folder, 40, lambda f: [*f[: PERSON["birth_date"]], "1921-02-30", *f[PERSON["birth_date"] + 1 :]])
    return "persons.csv", 40, "birth_date", "1921-02 has no day 30"


def list_number_twice(folder: Path) -> tuple[str, int | None, str | None, str]:
    """Line 51 takes the transport and list number of line 50."""
    transport, number = _field(folder, 50, "transport"), _field(folder, 50, "list_number")
    _edit_line(folder, 51, lambda f: [*f[: PERSON["transport"]], transport, number, *f[PERSON["list_number"] + 1 :]])
    return (
        "persons.csv",
        51,
        "list_number",
        f"list number {number} is used twice in transport {transport}: lines 50 and 51",
    )


def missing_column(folder: Path) -> tuple[str, int | None, str | None, str]:
    path = folder / "persons.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    drop = rows[0].index("fate")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([r[:drop] + r[drop + 1 :] for r in rows])
    return "persons.csv", 1, None, "header lacks the column(s) fate"


def not_utf8(folder: Path) -> tuple[str, int | None, str | None, str]:
    path = folder / "persons.csv"
    lines = path.read_bytes().split(b"\n")
    fields = lines[60 - 1].split(b",")
    fields[PERSON["birth_place"]] = "Liège".encode("latin-1")
    lines[60 - 1] = b",".join(fields)
    path.write_bytes(b"\n".join(lines))
    offset = len(b",".join(fields[: PERSON["birth_place"]])) + 1 + len("Li") + 1
    return "persons.csv", 60, "birth_place", f"bytes that are not UTF-8 (0xe8) at byte {offset} of the line"


def missing_portrait(folder: Path) -> tuple[str, int | None, str | None, str]:
    line = next(n for n in range(70, 200) if _field(folder, n, "portrait"))
    name = _field(folder, line, "portrait")
    (folder / "portraits" / name).unlink()
    return "persons.csv", line, "portrait", f"portraits/{name} does not exist"


def wrong_field_count(folder: Path) -> tuple[str, int | None, str | None, str]:
    _edit_line(folder, 80, lambda f: [*f, "one too many"])
    return "persons.csv", 80, None, "fields where the header has"


DAMAGES: list[Damage] = [
    duplicate_person_id,
    unknown_transport,
    bad_date,
    list_number_twice,
    missing_column,
    not_utf8,
    missing_portrait,
    wrong_field_count,
]


def _assert_named(problems: tuple[Problem, ...], expected: tuple[str, int | None, str | None, str]) -> None:
    file, line, column, words = expected
    matching = [p for p in problems if (p.file, p.line, p.column) == (file, line, column) and words in p.message]
    assert matching, f"no problem {expected} among:\n" + "\n".join(map(str, problems))


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: d.__name__)
def test_each_damage_is_refused_and_named(demo_copy: Path, damage: Damage) -> None:
    expected = damage(demo_copy)
    report = check_collection(demo_copy)
    assert not report.valid
    _assert_named(report.problems, expected)
    assert report.problem_count <= 2  # the damage, and at most the bad bytes' replacement
    with pytest.raises(KioskError) as raised:
        load_collection(demo_copy)
    assert str(expected[1]) in raised.value.message and "problem" in raised.value.message
    assert "kiosk collection check" in (raised.value.hint or "")


def test_all_damages_together_are_all_named(demo_copy: Path) -> None:
    # The other damages find columns by position and read the file as UTF-8, so the
    # missing column (after "birth_place") and then the bad bytes come last.
    last = (missing_column, not_utf8)
    expected = [damage(demo_copy) for damage in DAMAGES if damage not in last]
    expected += [damage(demo_copy) for damage in last]
    report = check_collection(demo_copy)
    for problem in expected:
        _assert_named(report.problems, problem)
    assert [p.line or 0 for p in report.problems] == sorted(p.line or 0 for p in report.problems)


def test_a_portrait_that_is_not_an_image(demo_copy: Path) -> None:
    line = next(n for n in range(2, 100) if _field(demo_copy, n, "portrait"))
    (demo_copy / "portraits" / _field(demo_copy, line, "portrait")).write_bytes(b"GIF89a but not really")
    _assert_named(check_collection(demo_copy).problems, ("persons.csv", line, "portrait", "cannot be opened"))


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0", "not a positive whole number"),
        ("-3", "not a positive whole number"),
        ("2.5", "not a positive whole number"),
        ("", "not a positive whole number"),
    ],
)
def test_bad_list_numbers(demo_copy: Path, value: str, words: str) -> None:
    _edit_line(demo_copy, 9, lambda f: [*f[: PERSON["list_number"]], value, *f[PERSON["list_number"] + 1 :]])
    _assert_named(check_collection(demo_copy).problems, ("persons.csv", 9, "list_number", words))


@pytest.mark.parametrize(
    ("column", "value"), [("sex", "F"), ("sex", "x"), ("fate", "deported"), ("fate", ""), ("fictional", "maybe")]
)
def test_bad_enumerations(demo_copy: Path, column: str, value: str) -> None:
    _edit_line(demo_copy, 11, lambda f: [*f[: PERSON[column]], value, *f[PERSON[column] + 1 :]])
    _assert_named(check_collection(demo_copy).problems, ("persons.csv", 11, column, "must be"))


def test_no_name_and_unsafe_portrait_names(demo_copy: Path) -> None:
    _edit_line(demo_copy, 12, lambda f: [f[0], "", "", *f[3:]])
    _edit_line(demo_copy, 13, lambda f: [*f[: PERSON["portrait"]], "../README.txt", *f[PERSON["portrait"] + 1 :]])
    problems = check_collection(demo_copy).problems
    _assert_named(problems, ("persons.csv", 12, "surname", "no name"))
    _assert_named(problems, ("persons.csv", 13, "portrait", "must be a file name inside portraits/"))


def test_born_after_the_transport_left(demo_copy: Path) -> None:
    _edit_line(demo_copy, 2, lambda f: [*f[: PERSON["birth_date"]], "1943", *f[PERSON["birth_date"] + 1 :]])
    _assert_named(
        check_collection(demo_copy).problems, ("persons.csv", 2, "birth_date", "after transport I left on 1942-08-04")
    )


def test_transport_damages(demo_copy: Path) -> None:
    _edit_line(demo_copy, 4, lambda f: ["II", *f[1:]], name="transports.csv")
    _edit_line(demo_copy, 6, lambda f: [f[0], "1942-08-32", *f[2:]], name="transports.csv")
    _edit_line(demo_copy, 7, lambda f: [f[0], "1942-08", *f[2:]], name="transports.csv")
    problems = check_collection(demo_copy).problems
    _assert_named(problems, ("transports.csv", 4, "code", "'II' is used twice: lines 3 and 4"))
    _assert_named(problems, ("transports.csv", 6, "departed", "bad departure date"))
    _assert_named(problems, ("transports.csv", 7, "departed", "not a whole date"))


def test_missing_files(tmp_path: Path) -> None:
    report = check_collection(tmp_path)
    _assert_named(report.problems, ("transports.csv", None, None, "file missing"))
    _assert_named(report.problems, ("persons.csv", None, None, "file missing"))
    _assert_named(check_collection(tmp_path / "nowhere").problems, (".", None, None, "is not a folder"))


def test_empty_file_and_unclosed_quote(demo_copy: Path) -> None:
    (demo_copy / "transports.csv").write_text("", encoding="utf-8")
    _edit_line(demo_copy, 90, lambda f: [f[0], '"Weisz', *f[2:]])
    problems = check_collection(demo_copy).problems
    _assert_named(problems, ("transports.csv", None, None, "empty file"))
    _assert_named(problems, ("persons.csv", 90, None, "is a quote left open?"))


def test_bom_and_crlf_are_tolerated(demo_copy: Path) -> None:
    for name in ("persons.csv", "transports.csv"):
        path = demo_copy / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    report = check_collection(demo_copy)
    assert report.valid, report.problem_lines()


def test_other_columns_are_kept_and_ignored(demo_copy: Path) -> None:
    path = demo_copy / "persons.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",occupation"] + [line + ",kleermaker" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    collection = load_collection(demo_copy)
    assert collection.persons[0].extra == {"occupation": "kleermaker"}


def test_fictional_and_real_persons_are_never_mixed(demo_copy: Path) -> None:
    _edit_line(demo_copy, 3, lambda f: [*f[:-1], "no"])
    _assert_named(check_collection(demo_copy).problems, ("persons.csv", None, "fictional", "never be mixed"))


def test_many_problems_are_all_counted_and_the_listing_is_capped(demo_copy: Path) -> None:
    path = demo_copy / "persons.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0]] + [
        line.replace(",murdered,", ",lost,").replace(",survived,", ",lost,").replace(",unknown,", ",lost,")
        for line in lines[1:]
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = check_collection(demo_copy)
    assert report.problem_count == len(lines) - 1 > SHOWN_PROBLEMS
    shown = report.problem_lines()
    assert len(shown) == SHOWN_PROBLEMS + 1 and shown[-1] == f"... and {report.problem_count - SHOWN_PROBLEMS} more"
    assert len(report.to_json()["problems"]) == report.problem_count


# --- encodings, line ends and runaway input ---------------------------------------------


def _rewrite(folder: Path, name: str, encoding: str, line_end: str, *, bom: bytes = b"") -> None:
    """Write a collection file again as a spreadsheet program would save it."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    path.write_bytes(bom + text.rstrip("\n").replace("\n", line_end).encode(encoding) + line_end.encode())


def _ascii_only(folder: Path, name: str = "persons.csv") -> None:
    """The file without letters outside ASCII (diacritics dropped), so that a test's own
    non-ASCII letters are the only ones."""
    path = folder / name
    text = unicodedata.normalize("NFKD", path.read_text(encoding="utf-8"))
    path.write_text(text.encode("ascii", "ignore").decode("ascii"), encoding="utf-8")


def _a_person_born_in(folder: Path, place: str) -> int:
    """Give a person a birth place with letters outside ASCII; returns the line."""
    _edit_line(folder, 40, lambda f: [*f[: PERSON["birth_place"]], place, *f[PERSON["birth_place"] + 1 :]])
    return 40


@pytest.mark.parametrize(
    ("line_end", "bom"),
    [("\r", b""), ("\r\n", b"\xef\xbb\xbf"), ("\r", b"\xef\xbb\xbf"), ("\n", b"\xef\xbb\xbf")],
    ids=["CR", "BOM+CRLF", "BOM+CR", "BOM+LF"],
)
def test_utf8_with_any_line_end_and_bom_is_read(demo_copy: Path, line_end: str, bom: bytes) -> None:
    _a_person_born_in(demo_copy, "Łódź")
    for name in ("persons.csv", "transports.csv"):
        _rewrite(demo_copy, name, "utf-8", line_end, bom=bom)
    report = check_collection(demo_copy)
    assert report.valid, report.problem_lines()
    assert load_collection(demo_copy).persons[40 - 2].birth_place == "Łódź"


def test_mixed_line_ends_are_read_with_the_right_line_numbers(demo_copy: Path) -> None:
    path = demo_copy / "persons.csv"
    lines = path.read_bytes().rstrip(b"\n").split(b"\n")
    ends = [b"\r\n", b"\r", b"\n"]
    path.write_bytes(b"".join(line + ends[number % 3] for number, line in enumerate(lines)))
    assert check_collection(demo_copy).valid
    damaged = next(n for n, line in enumerate(lines, start=1) if n > 100 and b",murdered," in line)
    lines[damaged - 1] = lines[damaged - 1].replace(b",murdered,", b",lost,")
    path.write_bytes(b"".join(line + ends[number % 3] for number, line in enumerate(lines)))
    _assert_named(check_collection(demo_copy).problems, ("persons.csv", damaged, "fate", "must be"))


@pytest.mark.parametrize(
    ("encoding", "line_end", "byte"),
    [("mac_roman", "\r", "0x8f"), ("latin-1", "\n", "0xe8"), ("cp1252", "\r\n", "0xe8")],
    ids=["Excel-for-Mac-MacRoman-CR", "Latin-1", "Windows-1252-CRLF"],
)
def test_a_file_in_a_legacy_encoding_is_named_by_line_and_column(
    demo_copy: Path, encoding: str, line_end: str, byte: str
) -> None:
    _ascii_only(demo_copy)
    line = _a_person_born_in(demo_copy, "Liège")
    _rewrite(demo_copy, "persons.csv", encoding, line_end)
    report = check_collection(demo_copy)
    assert not report.valid
    _assert_named(report.problems, ("persons.csv", line, "birth_place", f"bytes that are not UTF-8 ({byte})"))
    (problem,) = [p for p in report.problems if p.line == line]
    assert 'save it as "CSV UTF-8"' in problem.message
    assert report.problem_count == 1, report.problem_lines()
    with pytest.raises(KioskError, match="line 40, column birth_place"):
        load_collection(demo_copy)


def test_many_lines_in_another_encoding_are_counted_not_all_listed(demo_copy: Path) -> None:
    _ascii_only(demo_copy)
    for number in range(2, 30):
        _edit_line(demo_copy, number, lambda f: [*f[: PERSON["birth_place"]], "Liège", *f[PERSON["birth_place"] + 1 :]])
    _rewrite(demo_copy, "persons.csv", "latin-1", "\r")
    report = check_collection(demo_copy)
    by_line = [p for p in report.problems if p.line is not None]
    assert [p.line for p in by_line] == [2, 3, 4, 5, 6]
    (summary,) = [p for p in report.problems if p.line is None]
    assert summary.message.startswith("23 more lines hold bytes that are not UTF-8 (the first is line 2)")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_refused_once_with_what_to_do(demo_copy: Path, encoding: str) -> None:
    _rewrite(demo_copy, "persons.csv", encoding, "\r\n")
    report = check_collection(demo_copy)
    problems = [p for p in report.problems if p.file == "persons.csv"]
    assert len(problems) == 1, report.problem_lines()
    assert problems[0].line == 1 and "UTF-16" in problems[0].message and "CSV UTF-8" in problems[0].message


def test_a_nul_byte_is_named_by_line_and_column(demo_copy: Path) -> None:
    path = demo_copy / "persons.csv"
    lines = path.read_bytes().split(b"\n")
    fields = lines[20 - 1].split(b",")
    fields[PERSON["surname"]] = fields[PERSON["surname"]][:2] + b"\x00" + fields[PERSON["surname"]][2:]
    lines[20 - 1] = b",".join(fields)
    path.write_bytes(b"\n".join(lines))
    report = check_collection(demo_copy)
    _assert_named(report.problems, ("persons.csv", 20, "surname", "a NUL byte (0x00)"))
    assert report.problem_count == 1


def test_an_endless_line_is_passed_over_in_bounded_memory(demo_copy: Path, demo_count: int) -> None:
    import tracemalloc

    path = demo_copy / "persons.csv"
    size = 40 * 1024 * 1024
    with path.open("ab") as handle:
        handle.write(b"p-endless,")
        piece = b"x" * (1024 * 1024)
        for _ in range(size // len(piece)):
            handle.write(piece)
        handle.write(b"\nlast-line-after-it\n")
    lines_before = 1 + demo_count
    tracemalloc.start()
    try:
        report = check_collection(demo_copy)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes while reading a {size}-byte line"
    _assert_named(report.problems, ("persons.csv", lines_before + 1, None, "line longer than 64 kB, passed over"))
    # The line after it is read again as a line of its own (and is short of fields).
    _assert_named(report.problems, ("persons.csv", lines_before + 2, None, "fields where the header has"))


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("99999999999999999999999", "out of range: list numbers run from 1 to 2147483647"),
        ("2147483648", "out of range"),
        ("9" * 5000, "out of range"),
    ],
    ids=["23-digits", "just-over", "5000-digits"],
)
def test_list_numbers_beyond_what_the_store_keeps_are_refused_at_check(demo_copy: Path, value: str, words: str) -> None:
    _edit_line(demo_copy, 9, lambda f: [*f[: PERSON["list_number"]], value, *f[PERSON["list_number"] + 1 :]])
    report = check_collection(demo_copy)
    _assert_named(report.problems, ("persons.csv", 9, "list_number", words))
    assert all(len(p.message) < 400 for p in report.problems), "a runaway value is quoted short"


def test_the_largest_list_number_the_store_keeps_is_valid(demo_copy: Path) -> None:
    _edit_line(demo_copy, 9, lambda f: [*f[: PERSON["list_number"]], "2147483647", *f[PERSON["list_number"] + 1 :]])
    assert check_collection(demo_copy).valid
