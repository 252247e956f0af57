"""kiosk.link.leases: the booth's names from the central store's leases, online
and offline, against the real store (and the fault proxy for a store that hangs or fails)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from sync_support import ADULT, QUALITY, Station, tone

from exhibits.booth.names import RemoteNameSource
from harness.faultproxy import Fault, FaultProxy
from kiosk.central.leases import create_booking, held_by
from kiosk.central.stations import authenticate
from kiosk.link.client import CentralClient, StoreUnreachable
from kiosk.link.runner import SyncRunner


def names_for(station: Station, url: str | None = None, **kwargs) -> RemoteNameSource:
    client = CentralClient(url or station.config.central.url, station.config.token(), station_id="booth-1", timeout_s=5)
    kwargs.setdefault("names_in_hand", 3)
    return RemoteNameSource(client, station.config.data_dir, voiced_here=station.store.voiced_person_ids, **kwargs)


def server_leases(central, station: Station) -> dict[str, str]:
    """lease id -> person id of the live leases the store counts for this booth."""
    booth = authenticate(central.database, station.token)
    return {str(lease.lease_id): lease.person_id for lease in held_by(central.database, booth)}


@pytest.fixture
def proxy(central):
    with FaultProxy(central.url, lifetime_s=240) as running:
        yield running


def test_the_hand_is_filled_and_served_without_the_network(station, central):
    names = names_for(station)
    names.maintain()
    hand = names.in_hand()
    assert len(hand) == 3 and set(server_leases(central, station).values()) == set(hand)
    central.server.stop()  # the cable is pulled
    started = time.monotonic()
    offered = [names.next_waiting() for _ in range(3)]
    assert time.monotonic() - started < 0.2
    assert [a.person_id for a in offered] == hand
    first = offered[0]
    assert first.how == "next" and first.fictional and first.transport in ("XX", "XXI") and first.list_number >= 1
    assert first.display_name == f"{first.given_names} {first.surname}" and first.image_path.exists()
    assert names.next_waiting() is None, "an empty hand offline: no name, and no waiting"


def test_booking_and_match_come_from_the_store(station, central):
    names = names_for(station)
    code = create_booking(central.database, "p-0042")
    booked = names.by_booking(code.lower())
    assert booked is not None and (booked.person_id, booked.how) == ("p-0042", "booking")
    assert names.by_booking("ABCD-2345") is None, "an unknown code"
    match = names.matching(first_name="chaja", birthday=None)
    assert match is not None and match.how == "match" and match.given_names == "Chaja"
    assert {"p-0042", match.person_id} <= set(server_leases(central, station).values())


def test_a_match_on_age_comes_from_the_store(station, central):
    from kiosk.collection import load_collection

    collection = load_collection(station.config.collection_dir)
    ages = [collection.age_at_departure(p) for p in collection.persons]
    age = max((a for a in set(ages) if a is not None and 9 <= a <= 120), key=ages.count)
    names = names_for(station, names_in_hand=0)
    match = names.matching(first_name=None, birthday=None, age=age)
    assert match is not None and match.how == "match"
    assert collection.age_at_departure(collection.by_id[match.person_id]) == age
    assert set(server_leases(central, station).values()) == {match.person_id}


def test_a_store_that_hangs_costs_a_participant_at_most_two_seconds(station, central, proxy):
    names = names_for(station, proxy.url, offline_pause_s=30)
    proxy.push(Fault("delay", delay_s=4))
    code = create_booking(central.database, "p-0007")
    started = time.monotonic()
    assert names.by_booking(code) is None, "not available offline"
    assert time.monotonic() - started < 2.3
    # Known to be offline now: the next participant is not made to wait at all.
    started = time.monotonic()
    assert names.matching(first_name="Sura", birthday=(3, 4)) is None
    assert time.monotonic() - started < 0.05
    # The lease the store handed out after all (late) is given back, not kept hidden.
    deadline = time.monotonic() + 10
    while not names.pending_releases() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(names.pending_releases()) == 1
    names.maintain()
    assert "p-0007" not in server_leases(central, station).values()
    assert names.by_booking(code) is not None, "online again: the booking works"


def test_a_lease_whose_answer_was_lost_is_found_and_given_back(station, central, proxy):
    names = names_for(station, proxy.url, names_in_hand=0)
    code = create_booking(central.database, "p-0009")
    proxy.push(Fault("cut_response", at_byte=0))  # the store leases the name; the booth never hears
    assert names.by_booking(code) is None
    assert "p-0009" in server_leases(central, station).values()
    names.maintain()  # compares with the store's list: a booking nobody here holds goes back
    assert "p-0009" not in server_leases(central, station).values()


def test_give_back_is_sent_now_or_when_the_store_is_back(station, central, proxy):
    names = names_for(station, proxy.url, names_in_hand=2)
    names.maintain()
    first = names.next_waiting()
    lease_id = next(lid for lid, role in names.held().items() if role == "assigned")
    names.give_back(first.person_id)
    proxy.set_weights({"error": 1})  # the store answers 503 for a while
    with pytest.raises(StoreUnreachable):
        names.maintain()
    assert names.pending_releases() == [lease_id]
    assert lease_id in server_leases(central, station)
    proxy.set_weights({"pass": 1})
    names.maintain()
    assert names.pending_releases() == []
    assert lease_id not in server_leases(central, station)


def test_a_voiced_name_is_held_until_its_take_arrives_then_let_go(station, central):
    names = names_for(station, names_in_hand=1, renew_fraction=0.99999)
    names.maintain()
    offered = names.next_waiting()
    station.store.keep(tone(0.5), 48_000, person_id=offered.person_id, consent=ADULT, quality=QUALITY)
    names.voiced(offered.person_id)
    lease_id = next(lid for lid, role in names.held().items() if role == "voiced")
    before = server_leases(central, station)
    assert before[lease_id] == offered.person_id
    time.sleep(1.1)
    names.maintain()  # renews: the take is not uploaded yet
    assert names.held()[lease_id] == "voiced"
    runner = SyncRunner(station.config)
    try:
        assert runner.run_once().sent == 1
    finally:
        runner.close()
    names.maintain()  # the store ended the lease as used: 410 on renewal
    assert lease_id not in names.held()
    assert lease_id not in server_leases(central, station)
    assert offered.person_id not in names.in_hand()


def test_renewal_moves_the_end_of_the_lease(station, central):
    names = names_for(station, names_in_hand=1, renew_fraction=0.99999)
    names.maintain()
    booth = authenticate(central.database, station.token)
    before = held_by(central.database, booth)[0].expires_at
    time.sleep(1.1)
    names.maintain()
    assert held_by(central.database, booth)[0].expires_at > before


def test_a_restart_keeps_the_hand_and_gives_back_what_a_participant_held(station, central):
    names = names_for(station)
    names.maintain()
    hand = names.in_hand()
    with_participant = names.next_waiting()
    names.close()
    again = names_for(station)
    assert again.in_hand() == hand[1:], "kept on disk, no network needed"
    assert len(again.pending_releases()) == 1, "the name with the participant goes back"
    released = again.pending_releases()[0]
    again.maintain()
    assert released not in server_leases(central, station)
    assert len(again.in_hand()) == 3 and len(server_leases(central, station)) == 3
    assert with_participant.person_id


def test_a_lease_taken_just_before_a_crash_is_found_at_the_store(station, central):
    with httpx.Client(base_url=central.url, headers={"Authorization": f"Bearer {station.token}"}) as client:
        lost = client.post("/api/v1/leases", json={"how": "next", "count": 1}).json()["leases"][0]
    names = names_for(station)
    names.maintain()
    assert lost["person_id"] in names.in_hand()
    assert len(server_leases(central, station)) == 3, "not one more than the hand"


def test_the_background_thread_fills_the_hand_and_stops(station, central, proxy):
    names = names_for(station, proxy.url, tick_s=0.2).start()
    try:
        deadline = time.monotonic() + 10
        while len(names.in_hand()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(names.in_hand()) == 3
        proxy.set_weights({"delay": 1})  # a store that hangs does not slow the booth down
        proxy.max_delay_s = 8
        assert names.next_waiting() is not None
        started = time.monotonic()
        for _ in range(2):
            assert names.next_waiting() is not None
        assert time.monotonic() - started < 0.1
    finally:
        started = time.monotonic()
        names.close()
    assert time.monotonic() - started < 20


def test_nothing_is_offered_for_a_name_voiced_here(station, central):
    names = names_for(station, names_in_hand=2)
    names.maintain()
    person = names.in_hand()[0]
    names.voiced(person)
    assert names.next_waiting().person_id != person


def test_the_state_file_is_json_replaced_whole(station):
    names = names_for(station)
    names.maintain()
    state = Path(station.config.data_dir) / "names.json"
    assert state.exists() and not [p for p in state.parent.iterdir() if p.name.endswith(".partial")]
    assert all(uuid.UUID(lease_id) for lease_id in names.held())


def test_for_station_takes_its_settings_and_pictures_from_the_station(station, central, collection):
    from kiosk.collection import load_collection

    loaded = load_collection(collection)
    names = RemoteNameSource.for_station(station.config, collection=loaded, voiced_here=station.store.voiced_person_ids)
    assert names.names_in_hand == station.config.sync.names_in_hand == 3
    names.maintain()
    offered = names.next_waiting()
    person = loaded.by_id[offered.person_id]
    assert offered.image_path == loaded.image_path(person) and offered.display_name == person.display_name
    names.close()
