"""Names for the booths: next, match, booking; give back, renew, expire; on both databases."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from central_support import Store
from sqlalchemy import func, select

from kiosk.contract import CODE_ALPHABET as ALPHABET
from kiosk.contract import normalise_code
from kiosk.central.errors import Conflict, Forbidden, Gone, NotFound
from kiosk.central.leases import NameRules, claim, create_booking, held_by, release, renew
from kiosk.central.schema import leases, persons
from kiosk.central.stations import Station, authenticate, enroll

RULES = NameRules(lease_s=600, hand_size=5)


class Clock:
    """The store's time, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(store: Store) -> Clock:
    clock = Clock()
    store.database.clock = clock
    return clock


def booth(store: Store, station_id: str) -> Station:
    station = authenticate(store.database, enroll(store.database, station_id))
    assert station is not None
    return station


def test_next_gives_the_waiting_names_in_transport_and_list_order(store: Store, clock: Clock):
    one = booth(store, "booth-1")
    first = claim(store.database, one, RULES, how="next", count=3)
    assert [lease.person_id for lease in first] == ["t-xx-001", "t-xx-002", "t-xx-003"]
    lease = first[0]
    assert lease.how == "next" and lease.transport == "XX" and lease.list_number == 1
    assert lease.surname == "Testowa1" and lease.given_names == "Łaja Maria" and lease.fictional
    assert lease.birth_date == "1911-02-02" and lease.birth_place == "Anvers"
    assert lease.expires_at == clock.now + timedelta(seconds=600)
    two = booth(store, "booth-2")
    assert [lease.person_id for lease in claim(store.database, two, RULES, how="next", count=2)] == [
        "t-xx-004",
        "t-xx-005",
    ]


def test_a_booth_holds_at_most_its_hand(store: Store, clock: Clock):
    one = booth(store, "booth-1")
    assert len(claim(store.database, one, RULES, how="next", count=4)) == 4
    assert len(claim(store.database, one, RULES, how="next", count=4)) == 1, "only the room left in the hand"
    with pytest.raises(Conflict, match="hand_size"):
        claim(store.database, one, RULES, how="next")
    with pytest.raises(Conflict):
        claim(store.database, one, RULES, how="match", first_name="Chaja")
    assert len(held_by(store.database, one)) == 5


def test_a_name_given_back_returns_to_the_front_of_the_queue(store: Store, clock: Clock):
    one, two = booth(store, "booth-1"), booth(store, "booth-2")
    [first] = claim(store.database, one, RULES, how="next")
    release(store.database, one, first.lease_id)
    release(store.database, one, first.lease_id)  # again: harmless
    [again] = claim(store.database, two, RULES, how="next")
    assert again.person_id == first.person_id and again.lease_id != first.lease_id
    assert held_by(store.database, one) == []


def test_an_expired_lease_frees_its_name_and_is_ended_when_taken_over(store: Store, clock: Clock):
    one, two = booth(store, "booth-1"), booth(store, "booth-2")
    [old] = claim(store.database, one, RULES, how="next")
    clock.advance(599)
    assert claim(store.database, two, RULES, how="next")[0].person_id != old.person_id
    clock.advance(1)
    [taken] = claim(store.database, two, RULES, how="next")
    assert taken.person_id == old.person_id
    with store.database.read() as connection:
        ended = connection.execute(select(leases.c.end_reason).where(leases.c.id == old.lease_id)).scalar()
    assert ended == "expired"
    with pytest.raises(Gone):
        renew(store.database, one, RULES, old.lease_id)
    assert held_by(store.database, one) == [], "an expired lease is not held"


def test_renewing_keeps_the_name_longer(store: Store, clock: Clock):
    one, two = booth(store, "booth-1"), booth(store, "booth-2")
    [lease] = claim(store.database, one, RULES, how="next")
    clock.advance(500)
    renewed = renew(store.database, one, RULES, lease.lease_id)
    assert renewed.expires_at == clock.now + timedelta(seconds=600)
    clock.advance(500)
    assert lease.person_id not in {other.person_id for other in claim(store.database, two, RULES, how="next", count=5)}


def test_an_expired_lease_nobody_took_can_still_be_renewed(store: Store, clock: Clock):
    one = booth(store, "booth-1")
    [lease] = claim(store.database, one, RULES, how="next")
    clock.advance(700)
    assert renew(store.database, one, RULES, lease.lease_id).expires_at == clock.now + timedelta(seconds=600)


def test_leases_of_other_stations_and_unknown_leases_are_refused(store: Store, clock: Clock):
    one, two = booth(store, "booth-1"), booth(store, "booth-2")
    [lease] = claim(store.database, one, RULES, how="next")
    with pytest.raises(Forbidden):
        release(store.database, two, lease.lease_id)
    with pytest.raises(Forbidden):
        renew(store.database, two, RULES, lease.lease_id)
    with pytest.raises(NotFound):
        release(store.database, one, uuid.uuid4())


@pytest.mark.parametrize(
    ("first_name", "birthday", "expected"),
    [
        ("laja", None, "t-xx-001"),  # Łaja, without its stroke
        ("HELENE", None, "t-xx-002"),  # Hélène, any case
        ("Hélène Anne", None, "t-xx-002"),  # the participant's first given name counts
        (None, (2, 2), "t-xx-001"),  # born 1911-02-02
        ("Chaja", (1, 13), "t-xx-012"),  # both match beats name only (t-xx-006)
        ("Chaja", None, "t-xx-006"),
        ("Nobody", (12, 31), None),
    ],
)
def test_match_finds_a_shared_first_name_or_birthday(store: Store, clock: Clock, first_name, birthday, expected):
    one = booth(store, "booth-1")
    found = claim(store.database, one, RULES, how="match", first_name=first_name, birthday=birthday)
    assert [lease.person_id for lease in found] == ([expected] if expected else [])
    assert all(lease.how == "match" for lease in found)


def test_match_skips_names_held_by_another_booth(store: Store, clock: Clock):
    one, two = booth(store, "booth-1"), booth(store, "booth-2")
    [first] = claim(store.database, one, RULES, how="match", first_name="Łaja")
    [second] = claim(store.database, two, RULES, how="match", first_name="Łaja")
    assert first.person_id != second.person_id
    assert second.given_names.startswith("Łaja")


def test_a_booking_reserves_its_person_for_the_code(store: Store, clock: Clock):
    one, two = booth(store, "booth-1"), booth(store, "booth-2")
    code = create_booking(store.database, "t-xx-001")
    assert normalise_code(code) == code and set(code.replace("-", "")) <= set(ALPHABET)
    # Out of the queue for everybody else.
    assert "t-xx-001" not in {lease.person_id for lease in claim(store.database, two, RULES, how="next", count=3)}
    assert claim(store.database, two, RULES, how="match", first_name="Łaja")[0].person_id != "t-xx-001"
    typed = code.lower().replace("-", " ")
    [lease] = claim(store.database, one, RULES, how="booking", code=typed)
    assert lease.person_id == "t-xx-001" and lease.how == "booking"
    # The same booth asking again (a retried request) gets the same lease; another gets nothing.
    assert claim(store.database, one, RULES, how="booking", code=code) == [lease]
    assert claim(store.database, two, RULES, how="booking", code=code) == []
    assert claim(store.database, two, RULES, how="booking", code="ABCD-EFGH") == []
    assert claim(store.database, two, RULES, how="booking", code="not a code") == []


def test_a_booking_needs_a_known_person_still_waiting(store: Store, clock: Clock):
    with pytest.raises(NotFound, match="no person"):
        create_booking(store.database, "nobody")
    with store.database.write() as connection:
        connection.execute(persons.update().where(persons.c.person_id == "t-xx-002").values(voiced=True))
    with pytest.raises(Conflict, match="already has a voice"):
        create_booking(store.database, "t-xx-002")


def test_the_queue_runs_dry_without_an_error(store: Store, clock: Clock):
    rules = NameRules(lease_s=600, hand_size=100)
    stations = [booth(store, f"booth-{n}") for n in range(1, 3)]
    taken = claim(store.database, stations[0], rules, how="next", count=100)
    assert len(taken) == 40
    assert claim(store.database, stations[1], rules, how="next", count=5) == []


def test_one_open_lease_per_person_is_a_rule_of_the_database(store: Store, clock: Clock):
    one = booth(store, "booth-1")
    [lease] = claim(store.database, one, RULES, how="next")
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.database.write() as connection:
        person = connection.execute(select(persons.c.id).where(persons.c.person_id == lease.person_id)).scalar()
        connection.execute(
            leases.insert().values(
                id=uuid.uuid4(),
                person_id=person,
                station_id=one.id,
                how="next",
                created_at=clock.now,
                expires_at=clock.now + timedelta(hours=1),
            )
        )
    with store.database.read() as connection:
        assert connection.execute(select(func.count()).select_from(leases)).scalar() == 1


def test_on_postgresql_a_claim_passes_by_a_name_another_claim_holds(tmp_path, pg_cluster, small_collection):
    """FOR UPDATE SKIP LOCKED: a booth never waits for another booth's claim in progress."""
    import threading

    from central_support import make_config
    from sqlalchemy import update

    from kiosk.central.db import open_database
    from kiosk.central.importer import import_collection

    database = open_database(make_config(tmp_path / "central", pg_cluster.new_database()))
    import_collection(database, small_collection)
    station = authenticate(database, enroll(database, "booth-1"))
    got: list = []
    try:
        with database.engine.connect() as other:
            transaction = other.begin()
            # Another claim in progress holds the first name's row...
            other.execute(select(persons.c.id).where(persons.c.person_id == "t-xx-001").with_for_update()).scalar()
            worker = threading.Thread(target=lambda: got.extend(claim(database, station, RULES, how="next")))
            worker.start()
            worker.join(10)
            assert not worker.is_alive(), "the claim waited for the other one"
            assert [lease.person_id for lease in got] == ["t-xx-002"]
            # ...and takes it.
            other.execute(
                update(persons)
                .where(persons.c.person_id == "t-xx-001")
                .values(held_until=datetime(2999, 1, 1, tzinfo=timezone.utc))
            )
            transaction.commit()
        assert [lease.person_id for lease in claim(database, station, RULES, how="next")] == ["t-xx-003"]
    finally:
        database.dispose()
