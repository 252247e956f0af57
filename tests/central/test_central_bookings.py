"""Bookings on the store: matched names reserved per participant, until used, cancelled or expired."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from central_support import Store
from test_central_leases import Clock, booth, clock  # noqa: F401  (the store's clock, moved by the test)
from sqlalchemy import func, inspect, select

from kiosk.central.bookings import (
    BookingRules,
    WrongCodes,
    book,
    cancel_booking,
    find_booking,
    group_of,
    list_bookings,
    participant,
)
from kiosk.central.errors import Conflict, Gone, NotFound, Refusal, Unprocessable
from kiosk.central.leases import NameRules, claim
from kiosk.central.matching import Wish
from kiosk.central.schema import bookings, persons
from kiosk.collection.model import PartialDate

RULES = BookingRules(expire_days=30)
NAMES = NameRules(lease_s=600, hand_size=50)
XX_LEFT = date(1943, 4, 19)


def xx_age(number: int) -> int:
    """The age at departure of t-xx-NNN, as the wall computes it (central_support's births)."""
    born = PartialDate.parse(f"19{10 + number:02d}-{(number % 12) + 1:02d}-{(number % 27) + 1:02d}")
    return born.age_on(XX_LEFT)


def booking_count(store: Store) -> int:
    with store.database.read() as connection:
        return connection.execute(select(func.count()).select_from(bookings)).scalar_one()


def test_a_first_name_is_matched_as_the_wall_search_folds_it(store: Store, clock: Clock):
    [made] = book(store.database, RULES, [participant(first_name="  LAJA ")], language="fr")
    assert made.matched_on == "first_name" and made.name.startswith("Łaja ")
    assert made.language == "fr" and made.expires_at == clock.now + timedelta(days=30)
    assert made.to_json()["code"] == made.code and made.to_json()["matched_on"] == "first_name"
    # The second Łaja is another person: one name per booking.
    [again] = book(store.database, RULES, [participant(first_name="łája")])
    assert again.name.startswith("Łaja ") and again.person_id != made.person_id


def test_birthday_age_and_next_say_what_they_matched_on(store: Store, clock: Clock):
    [by_day] = book(store.database, RULES, [participant(birthday="02-02")])
    assert (by_day.person_id, by_day.matched_on) == ("t-xx-001", "birthday")
    age = xx_age(20)
    [by_age] = book(store.database, RULES, [participant(age=str(age))])
    assert by_age.matched_on == "age"
    number = int(by_age.person_id.rsplit("-", 1)[1])
    assert by_age.person_id.startswith("t-xx-") and xx_age(number) == age
    [nothing_shared] = book(store.database, RULES, [participant(first_name="Zebulon", age=119)])
    assert nothing_shared.matched_on == "next" and nothing_shared.person_id == "t-xx-002"
    [no_wish] = book(store.database, RULES, [participant()])
    assert no_wish.matched_on == "next" and no_wish.person_id == "t-xx-003"


def test_the_best_match_shares_the_most_first_name_first(store: Store, clock: Clock):
    # Chaja Maria: t-xx-006 (born 1916-07-07) comes before t-xx-012 (born 1922-01-13).
    [both] = book(store.database, RULES, [participant(first_name="chaja", birthday="01-13")])
    assert both.person_id == "t-xx-012" and both.matched_on == "first_name"
    [day_only] = book(store.database, RULES, [participant(first_name="Nobody", birthday="07-07")])
    assert day_only.matched_on == "birthday"


def test_only_code_person_language_group_and_expiry_are_kept(store: Store, clock: Clock):
    book(store.database, RULES, [participant(first_name="Rywka", birthday="03-04", age=30)] * 2, language="en")
    columns = {column["name"] for column in inspect(store.database.engine).get_columns("bookings")}
    assert columns == {"id", "code", "person_id", "created_at", "language", "group_id", "expires_at",
                       "ended_at", "end_reason", "made_by"}
    with store.database.read() as connection:
        rows = connection.execute(select(bookings)).mappings().all()
    kept = " ".join(str(value) for row in rows for value in row.values())
    assert "Rywka" not in kept and "rywka" not in kept and "03-04" not in kept
    assert {row["language"] for row in rows} == {"en"}
    assert len({row["group_id"] for row in rows}) == 1 and rows[0]["group_id"] is not None


def test_a_group_gets_different_names_and_its_sheet_lists_them(store: Store, clock: Clock):
    wishes = [participant(first_name="Hélène"), participant(first_name="helene"), Wish(), Wish(age=xx_age(5))]
    made = book(store.database, RULES, wishes)
    assert len({b.person_id for b in made}) == 4 and len({b.code for b in made}) == 4
    assert [b.matched_on for b in made][:3] == ["first_name", "first_name", "next"]
    group = group_of(store.database, made[2].code.lower().replace("-", " "))
    assert group[0].code == made[2].code and {b.code for b in group} == {b.code for b in made}


@pytest.mark.parametrize(
    ("first_name", "birthday", "age", "problem"),
    [
        (None, "02-30", None, "not a day of the year"),
        (None, "13-01", None, "not a day of the year"),
        (None, "2-3", None, "not MM-DD"),
        (None, None, 8, "9 to 120"),
        (None, None, "121", "9 to 120"),
        (None, None, "thirty", "9 to 120"),
        (None, None, True, "9 to 120"),
    ],
)
def test_impossible_wishes_are_refused_with_the_reason(store: Store, clock: Clock, first_name, birthday, age, problem):
    with pytest.raises(Unprocessable, match=problem):
        book(store.database, RULES, [participant(first_name, birthday, age)])
    assert booking_count(store) == 0


def test_29_february_is_a_birthday(store: Store, clock: Clock):
    [made] = book(store.database, RULES, [participant(birthday="02-29")])
    assert made.matched_on == "next"


def test_a_group_over_six_or_an_unknown_language_books_nothing(store: Store, clock: Clock):
    with pytest.raises(Unprocessable, match="at most 6"):
        book(store.database, RULES, [Wish()] * 7)
    with pytest.raises(Unprocessable, match="language"):
        book(store.database, RULES, [Wish()], language="de")
    with pytest.raises(Unprocessable, match="at least one"):
        book(store.database, RULES, [])
    assert booking_count(store) == 0


def test_no_waiting_name_books_nothing_for_the_whole_group(store: Store, clock: Clock):
    station = booth(store, "booth-1")
    held = claim(store.database, station, NAMES, how="next", count=37)
    assert len(held) == 37  # three names of forty still wait
    with pytest.raises(Conflict, match="no name waits"):
        book(store.database, RULES, [Wish()] * 4)
    assert booking_count(store) == 0
    assert len(book(store.database, RULES, [Wish()] * 3)) == 3
    with pytest.raises(Conflict, match="no name waits"):
        book(store.database, RULES, [Wish()])


def test_a_reserved_name_goes_only_to_its_code(store: Store, clock: Clock):
    [made] = book(store.database, RULES, [participant(first_name="Hélène", birthday="05-05")])
    one, two = booth(store, "booth-1"), booth(store, "booth-2")
    everyone_else = claim(store.database, one, NAMES, how="next", count=50)
    assert made.person_id not in {lease.person_id for lease in everyone_else}
    for station in (one, two):
        for wish in ({"first_name": "Hélène"}, {"birthday": (5, 5)}, {"age": xx_age(4)}):
            assert [lease.person_id for lease in claim(store.database, station, NAMES, how="match", **wish)] != [
                made.person_id
            ]
    [lease] = claim(store.database, two, NAMES, how="booking", code=made.code.lower())
    assert lease.person_id == made.person_id


def test_the_booth_matches_on_age_too(store: Store, clock: Clock):
    station = booth(store, "booth-1")
    age = xx_age(12)
    [lease] = claim(store.database, station, NAMES, how="match", age=age)
    assert xx_age(int(lease.person_id.rsplit("-", 1)[1])) == age


def test_expiry_frees_the_name_and_ends_the_code(store: Store, clock: Clock):
    short = BookingRules(expire_days=2)
    [made] = book(store.database, short, [participant(first_name="Rywka")])
    station = booth(store, "booth-1")
    clock.advance(2 * 86400 - 1)
    assert made.person_id not in {l.person_id for l in claim(store.database, station, NAMES, how="next", count=50)}
    assert find_booking(store.database, made.code).state == "active"
    clock.advance(1)
    assert find_booking(store.database, made.code).state == "expired"
    assert claim(store.database, station, NAMES, how="booking", code=made.code) == []
    [matched] = claim(store.database, station, NAMES, how="match", first_name="Rywka")
    assert matched.person_id == made.person_id
    with pytest.raises(Gone, match="expired"):
        cancel_booking(store.database, made.code)
    # Booked again, by another participant: a new code; the old one stays dead.
    clock.advance(86400)
    assert made.code not in {b.code for b in list_bookings(store.database, live_only=True)}


def test_a_cancelled_code_no_longer_works_and_its_name_waits_again(store: Store, clock: Clock):
    [made] = book(store.database, RULES, [participant(first_name="Sura")])
    done = cancel_booking(store.database, f"  {made.code.lower().replace('-', ' ')} ")
    assert done.state == "cancelled"
    assert cancel_booking(store.database, made.code).state == "cancelled"  # again: nothing changes
    station = booth(store, "booth-1")
    assert claim(store.database, station, NAMES, how="booking", code=made.code) == []
    [matched] = claim(store.database, station, NAMES, how="match", first_name="Sura")
    assert matched.person_id == made.person_id
    with pytest.raises(NotFound):
        cancel_booking(store.database, "ABCD-EFGH")
    with pytest.raises(NotFound, match="not a booking code"):
        find_booking(store.database, "hello")


def test_a_used_booking_ends_with_the_voice(store: Store, clock: Clock):
    [made] = book(store.database, RULES, [Wish()])
    from kiosk.central.bookings import booking_used

    with store.database.write() as connection:
        person = connection.execute(select(persons.c.id).where(persons.c.person_id == made.person_id)).scalar_one()
        booking_used(connection, person, clock.now)
    assert find_booking(store.database, made.code).state == "used"
    with pytest.raises(Conflict, match="used"):
        cancel_booking(store.database, made.code)


def test_wrong_codes_are_limited_per_station():
    now = [datetime(2026, 1, 1, tzinfo=timezone.utc)]
    tries = WrongCodes(lambda: now[0], limit=3, window_s=600)
    for _ in range(3):
        tries.check("booth-1")
        tries.wrong("booth-1")
    with pytest.raises(Refusal, match="too many wrong booking codes") as refused:
        tries.check("booth-1")
    assert refused.value.status == 429
    tries.check("booth-2")  # another station is not held back
    now[0] += timedelta(seconds=600)
    tries.check("booth-1")


def test_the_migration_keeps_earlier_bookings_for_thirty_days(tmp_path, database_url, small_collection):
    """A store from before bookings expired: its booking gets an expiry, its person stays reserved."""
    from alembic import command
    from sqlalchemy import text

    from central_support import make_config
    from kiosk.central.db import alembic_config, create_database_engine, migrate, open_database
    from kiosk.central.importer import import_collection

    config = make_config(tmp_path / "central", database_url)
    engine = create_database_engine(config.database_url)
    with engine.connect() as connection, connection.begin():
        command.upgrade(alembic_config(connection), "0003")
        connection.execute(text(
            "INSERT INTO collection_imports (id, imported_at, source, fictional, persons, transports) "
            "VALUES (1, '2026-11-01 10:00:00', 'x', true, 1, 1)"
        ))
        connection.execute(text("INSERT INTO transports (id, import_id, code, departed, destination, note, position) "
                                "VALUES (1, 1, 'XX', '1943-04-19', 'Auschwitz', '', 0)"))
        connection.execute(text(
            "INSERT INTO persons (id, person_id, import_id, transport_id, list_number, surname, given_names, "
            "first_name_key, birth_date, birth_month, birth_day, birth_place, sex, fate, portrait, fictional, "
            "queue_order, active, voiced, booked, held_until) VALUES (1, 'p-1', 1, 1, 1, 'Testowa', "
            "'Marie-Anne Łaja', 'marie-anne', '1930-06-01', 6, 1, '', 'f', 'murdered', NULL, true, 0, true, "
            "false, true, NULL)"
        ))
        connection.execute(text("INSERT INTO bookings (id, code, person_id, created_at) "
                                "VALUES (1, 'ABCD-2345', 1, '2026-11-01 10:00:00')"))
    migrate(engine)
    engine.dispose()
    database = open_database(config)
    try:
        database.clock = lambda: datetime(2026, 11, 20, tzinfo=timezone.utc)
        booking = find_booking(database, "abcd 2345")
        assert booking.state == "active" and booking.expires_at == datetime(2026, 12, 1, 10, tzinfo=timezone.utc)
        with database.read() as connection:
            row = connection.execute(select(persons).where(persons.c.person_id == "p-1")).one()
        assert row.first_name_key == "marie" and row.age_at_departure == 12
        assert row.booked and row.booked_until == booking.expires_at
        database.clock = lambda: datetime(2026, 12, 2, tzinfo=timezone.utc)
        assert find_booking(database, "ABCD-2345").state == "expired"
    finally:
        database.dispose()
