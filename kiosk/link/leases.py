"""Names from the central store's leases, so that no two booths ever hold the same name.

`LeaseClient` is the station's side of the store's leases; the booth's `NameSource` when
the station has a central store ([central] url) is its subclass
`exhibits.booth.names.RemoteNameSource`, which turns a lease into what the screens show.
The store leases names (`POST /api/v1/leases`); a booth holds each until its recording
arrives, it gives it back, or the lease runs out.

A booth must never freeze in front of a participant on a network call, and must keep
working when the gallery network is down. So:

- **The hand.** A few names (`[sync] names_in_hand`, default 3) are leased ahead with
  `how="next"` and kept in hand. `next_waiting()` serves from the hand without touching
  the network; a background thread refills it. A participant offline gets a name from
  the hand as long as there is one. A name whose lease ran out while the store could
  not be reached is still offered: another voice for a name is a smaller loss than
  sending a participant away, and the store keeps every recording.
- **Bookings and matches** need the store, which alone knows the bookings and the
  whole queue. `by_booking()` and `matching()` ask it with a hard limit of
  `interactive_timeout_s` (2 s) of the caller's time: the call runs in a worker thread
  and is abandoned when the limit passes (a lease that arrives late is given back; one
  whose answer never arrives is found in the store's list and given back).
  When the store did not answer lately (`offline_pause_s`), they do not even try. Either
  way they return None, "not available offline", and the booth's flow falls back to the
  next waiting name, as it does when nothing matches.
- **Giving back** (`give_back`) and **voiced** (`voiced`) only change local state; the
  release is sent by the background thread, later if the store is unreachable.
- **Renewing.** The background thread renews each lease when less than
  `renew_fraction` of its time is left, including the leases of names recorded here
  whose take has not reached the store yet (so no other booth gets them meanwhile),
  until the store says the lease ended (410: the recording arrived, the lease was used).
  A voiced name whose take is no longer on the station (withdrawn) is given back.
- **Restarts.** Everything is kept in `<data>/names.json`, replaced atomically (and
  fsynced: a few kB, the only disk work done on the caller's thread) on every change,
  so a restarted booth keeps its hand. Names that were with a participant when
  the booth stopped are given back (that participant is gone). At its first contact the
  thread compares with the store's own list (`GET /api/v1/leases`).

Lease times are read against the `Date` header of the store's answer, so a station
clock that is off does not make leases look longer or shorter than they are.
"""

from __future__ import annotations

import concurrent.futures
import email.utils
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import httpx

from kiosk.config import StationConfig
from kiosk.contract import LEASE_PERSON_FIELDS
from kiosk.errors import KioskError
from kiosk.link.backoff import Backoff
from kiosk.link.client import CentralClient, StoreUnreachable, problem_detail
from kiosk.files import read_json, write_json_atomically

log = logging.getLogger(__name__)

STATE_FILE = "names.json"
INTERACTIVE_TIMEOUT_S = 2.0
BACKGROUND_TIMEOUT_S = 10.0
VOICED_CHECK_S = 300.0
"""How often the take store is asked which persons have a take here (a directory scan)."""

Role = Literal["hand", "assigned", "voiced"]
A = TypeVar("A")  # what a name handed out is to the caller: the booth's Assignment
PERSON_FIELDS = LEASE_PERSON_FIELDS


@dataclass(frozen=True)
class HeldLease:
    """One lease this booth holds, and what it is for here."""

    lease_id: str
    person_id: str
    how: str  # next | match | booking: how the store handed it out
    role: Role  # hand: waiting for a participant; assigned: with one; voiced: recorded here
    deadline: float  # when the lease ends, on this station's wall clock (epoch seconds)
    granted_s: float  # how long it had left when granted or last renewed
    order: int  # queue order within the hand: the store's order of handing out
    person: dict[str, Any]

    def renew_due(self, now: float, fraction: float) -> bool:
        return self.deadline - now < fraction * self.granted_s


class LeaseClient(Generic[A]):
    """Names over the central store's leases (see the module docstring).

    `start()` loads the kept state and starts the background thread; `close()` stops
    it. `maintain()` is one round of the background work, callable directly in tests.
    `voiced_here` gives the persons with a take on this station (the take store's
    `voiced_person_ids`): without it, a voiced name is held until the store ends its
    lease, even if its take was withdrawn here. A subclass says what a lease is to its
    caller (`_assignment`).
    """

    def __init__(
        self,
        client: CentralClient,
        data_dir: Path,
        *,
        names_in_hand: int = 3,
        voiced_here: Callable[[], set[str]] | None = None,
        interactive_timeout_s: float = INTERACTIVE_TIMEOUT_S,
        offline_pause_s: float = 30.0,
        tick_s: float = 10.0,
        renew_fraction: float = 0.5,
        clock: Callable[[], float] = time.time,
    ):
        if not 0 < renew_fraction < 1:
            raise ValueError("renew_fraction must be between 0 and 1")
        self.client = client
        self.state_path = Path(data_dir) / STATE_FILE
        self.names_in_hand = names_in_hand
        self.voiced_here = voiced_here
        self.interactive_timeout_s = interactive_timeout_s
        self.offline_pause_s = offline_pause_s
        self.tick_s = tick_s
        self.renew_fraction = renew_fraction
        self.clock = clock
        self._lock = threading.RLock()
        self._leases: dict[str, HeldLease] = {}
        self._releases: list[str] = []
        self._voiced: set[str] = set()
        self._order = 0
        self._online = False
        self._last_failure: float | None = None
        self._compared = False  # compared with the store's list since start
        self._voiced_checked_at = float("-inf")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._asking = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="names-ask")
        self._load()

    @classmethod
    def for_station(
        cls, config: StationConfig, *, voiced_here: Callable[[], set[str]] | None = None, **options: Any
    ) -> LeaseClient[A]:
        """The source for a booth with [central] url set, as its composition root wants it."""
        return cls(
            CentralClient.for_station(config, timeout_s=BACKGROUND_TIMEOUT_S),
            config.data_dir,
            names_in_hand=config.sync.names_in_hand,
            voiced_here=voiced_here,
            **options,
        )

    # -- life ------------------------------------------------------------------------

    def start(self) -> LeaseClient[A]:
        """Start the background thread that fills the hand, renews and gives back."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="names", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the background thread and close the client; the hand stays kept for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=BACKGROUND_TIMEOUT_S + 5)
        self._asking.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    @property
    def online(self) -> bool:
        """Whether the store answered the last call."""
        return self._online

    def in_hand(self) -> list[str]:
        """Person ids waiting in hand, in the order they will be offered."""
        with self._lock:
            return [lease.person_id for lease in self._hand()]

    def held(self) -> dict[str, str]:
        """lease id -> role, for every lease this booth holds; for tests and `kiosk doctor`."""
        with self._lock:
            return {lease.lease_id: lease.role for lease in self._leases.values()}

    def pending_releases(self) -> list[str]:
        with self._lock:
            return list(self._releases)

    # -- NameSource ------------------------------------------------------------------

    def next_waiting(self) -> A | None:
        """The first name in hand; never a network call. None when the hand is empty."""
        with self._lock:
            now = self.clock()
            hand = [lease for lease in self._hand() if lease.person_id not in self._voiced]
            if not hand:
                return None
            # A name whose lease is still running first; an expired one only when no other is left.
            lease = next((lease for lease in hand if lease.deadline > now), hand[0])
            self._leases[lease.lease_id] = replace(lease, role="assigned")
            self._save()
        self._wake.set()
        return self._assignment(lease)

    def by_booking(self, code: str) -> A | None:
        """The person booked under `code`, from the store; None if unknown or offline."""
        return self._ask({"how": "booking", "code": code})

    def matching(
        self, *, first_name: str | None, birthday: tuple[int, int] | None, age: int | None = None
    ) -> A | None:
        """A name sharing the first name, birthday or age, from the store; None if none or offline."""
        body: dict[str, Any] = {"how": "match"}
        if first_name and first_name.strip():
            body["first_name"] = first_name.strip()[:100]
        if birthday is not None:
            body["birthday"] = f"{birthday[0]:02d}-{birthday[1]:02d}"
        if age is not None:
            body["age"] = int(age)
        if len(body) == 1:
            return None
        return self._ask(body)

    def give_back(self, person_id: str) -> None:
        """The participant did not read this name: it goes back to the store's queue."""
        with self._lock:
            for lease in list(self._leases.values()):
                if lease.person_id == person_id and lease.role == "assigned":
                    del self._leases[lease.lease_id]
                    self._releases.append(lease.lease_id)
            self._save()
        self._wake.set()

    def voiced(self, person_id: str) -> None:
        """A take of this name was kept here: never offer it again; hold it until it is uploaded."""
        with self._lock:
            self._voiced.add(person_id)
            for lease in list(self._leases.values()):
                if lease.person_id == person_id and lease.role == "assigned":
                    self._leases[lease.lease_id] = replace(lease, role="voiced")
            self._save()
        self._wake.set()

    # -- asking the store while a participant waits ----------------------------------

    def _ask(self, body: dict[str, Any]) -> A | None:
        if not self._worth_asking():
            log.info("names: store not reachable lately, no booking or match offline", extra={"how": body["how"]})
            return None
        # The request itself may take longer than the participant waits: an answer that
        # comes late is still read, and its lease given back (`_give_back_late`).
        try:
            future = self._asking.submit(self._claim, body, BACKGROUND_TIMEOUT_S)
        except RuntimeError:
            return None  # closed: the booth is shutting down
        try:
            leases = future.result(timeout=self.interactive_timeout_s)
        except concurrent.futures.TimeoutError:
            future.add_done_callback(self._give_back_late)
            self._went_offline("no answer within the booth's limit")
            return None
        except StoreUnreachable as error:
            # The store may have leased a name before the answer was lost: look next round.
            self._compared = False
            self._went_offline(str(error))
            return None
        except KioskError as error:
            log.error("names: the store refused the booth", extra={"problem": error.message})
            return None
        except Exception:
            # A participant is waiting: whatever went wrong, the flow goes on without this name.
            log.exception("names: asking the store failed")
            return None
        if not leases:
            return None
        lease = replace(leases[0], role="assigned")
        with self._lock:
            self._leases[lease.lease_id] = lease
            for extra in leases[1:]:
                self._releases.append(extra.lease_id)
            self._save()
        return self._assignment(lease)

    def _give_back_late(self, future: concurrent.futures.Future) -> None:
        """A lease that came after the participant was told "no": give it back."""
        try:
            leases = future.result()
        except Exception:
            # No answer at all: the store may hold a lease for it all the same; look next round.
            self._compared = False
            return
        with self._lock:
            known = self._leases
            self._releases.extend(lease.lease_id for lease in leases if lease.lease_id not in known)
            self._save()
        self._wake.set()

    def _worth_asking(self) -> bool:
        if self._online or self._last_failure is None:
            return True
        return self.clock() - self._last_failure >= self.offline_pause_s

    def _went_offline(self, problem: str) -> None:
        if self._online or self._last_failure is None:
            log.warning("names: the central store cannot be reached", extra={"problem": problem})
        self._online = False
        self._last_failure = self.clock()

    # -- the store's API -------------------------------------------------------------

    def _claim(self, body: dict[str, Any], timeout_s: float) -> list[HeldLease]:
        """POST /leases; [] when nothing fits or the booth's hand is full at the store (409)."""
        response = self.client.send("POST", "/leases", json=body, timeout_s=timeout_s)
        self._online = True
        if response.status_code == 409:
            log.warning("names: the store says this booth holds enough names", extra={"detail": problem_detail(response)})
            return []
        if response.status_code == 429:  # too many wrong booking codes from this booth
            log.warning("names: booking codes refused for a while", extra={"detail": problem_detail(response)})
            return []
        if response.status_code != 200:
            log.error("names: claim refused", extra={"status": response.status_code, "detail": problem_detail(response)})
            return []
        return [self._held(item, "hand", response) for item in response.json().get("leases", [])]

    def _held(self, item: dict[str, Any], role: Role, response: httpx.Response) -> HeldLease:
        remaining = _remaining_s(item["expires_at"], response, self.clock())
        with self._lock:
            self._order += 1
            order = self._order
        return HeldLease(
            lease_id=str(item["lease_id"]),
            person_id=str(item["person_id"]),
            how=str(item.get("how", "next")),
            role=role,
            deadline=self.clock() + remaining,
            granted_s=max(remaining, 1.0),
            order=order,
            person={key: item.get(key) for key in PERSON_FIELDS},
        )

    # -- the background work ---------------------------------------------------------

    def _work(self) -> None:
        backoff = Backoff(1.0, 60.0)
        while not self._stop.is_set():
            try:
                self.maintain()
                backoff.reset()
                wait = self.tick_s
            except StoreUnreachable as error:
                self._went_offline(str(error))
                wait = backoff.next_delay()
            except KioskError as error:
                self._online = False
                self._last_failure = self.clock()
                log.error("names: the store refused the booth", extra={"problem": error.message, "hint": error.hint})
                wait = 60.0
            except Exception:
                log.exception("names: background work failed")
                wait = self.tick_s
            self._wake.wait(wait)
            self._wake.clear()

    def maintain(self) -> None:
        """One round of background work: compare with the store's list (after a start, or
        after a claim whose answer was lost), give back, renew, fill the hand.

        Raises StoreUnreachable when the store cannot be reached (the round stops there;
        what is left is done next round), TokenRefused when it refuses the token.
        """
        if not self._compared:
            self._compare_with_store()
        self._send_releases()
        self._check_voiced()
        self._renew_due()
        self._fill_hand()

    def _compare_with_store(self) -> None:
        response = self.client.send("GET", "/leases", timeout_s=BACKGROUND_TIMEOUT_S)
        self._online = True
        if response.status_code != 200:
            return
        theirs = {str(item["lease_id"]): item for item in response.json().get("leases", [])}
        with self._lock:
            ours = set(self._leases) | set(self._releases)
            room = self.names_in_hand - len(self._hand())
            for lease_id, item in theirs.items():
                if lease_id in ours:
                    continue
                # Leased before a crash kept no note of it: held if recorded here (until its
                # take arrives), into the hand if it fits, else given back.
                if item.get("person_id") in self._voiced:
                    held = self._held(item, "voiced", response)
                    self._leases[held.lease_id] = held
                elif item.get("how") == "next" and room > 0:
                    held = self._held(item, "hand", response)
                    self._leases[held.lease_id] = held
                    room -= 1
                else:
                    self._releases.append(lease_id)
            self._save()
        # Ours but not theirs: ended or expired. Renewing tells which (410 drops it).
        for lease in self._snapshot():
            if lease.lease_id not in theirs:
                self._renew(lease)
        self._compared = True

    def _send_releases(self) -> None:
        with self._lock:
            pending = list(self._releases)
        for lease_id in pending:
            response = self.client.send("DELETE", f"/leases/{lease_id}", timeout_s=BACKGROUND_TIMEOUT_S)
            self._online = True
            if response.status_code not in (204, 403, 404, 410):
                log.error("names: give back refused", extra={"status": response.status_code, "detail": problem_detail(response)})
            with self._lock:
                if lease_id in self._releases:
                    self._releases.remove(lease_id)
                self._save()

    def _check_voiced(self) -> None:
        """Give back voiced leases whose take left the station, and hand leases voiced here."""
        now = self.clock()
        if self.voiced_here is None or now - self._voiced_checked_at < VOICED_CHECK_S:
            return
        here = set(self.voiced_here())
        self._voiced_checked_at = now
        with self._lock:
            self._voiced |= here
            doomed = [
                lease
                for lease in self._leases.values()
                if (lease.role == "voiced" and lease.person_id not in here)  # withdrawn here
                or (lease.role == "hand" and lease.person_id in self._voiced)  # recorded here already
            ]
            for lease in doomed:
                del self._leases[lease.lease_id]
                self._releases.append(lease.lease_id)
            if doomed:
                self._save()
        self._send_releases()

    def _renew_due(self) -> None:
        now = self.clock()
        for lease in self._snapshot():
            if lease.renew_due(now, self.renew_fraction):
                self._renew(lease)

    def _renew(self, lease: HeldLease) -> None:
        response = self.client.send("POST", f"/leases/{lease.lease_id}/renew", timeout_s=BACKGROUND_TIMEOUT_S)
        self._online = True
        with self._lock:
            current = self._leases.get(lease.lease_id)
            if current is None:
                return
            if response.status_code == 200:
                fresh = self._held(response.json(), current.role, response)
                self._leases[lease.lease_id] = replace(current, deadline=fresh.deadline, granted_s=fresh.granted_s)
            elif response.status_code in (403, 404, 410):
                # Ended at the store: used by our upload, or expired and taken by another booth.
                if current.role != "assigned":
                    del self._leases[lease.lease_id]
                log.info("names: lease ended at the store", extra={"lease_id": lease.lease_id, "status": response.status_code})
            else:
                log.error("names: renewal refused", extra={"status": response.status_code, "detail": problem_detail(response)})
            self._save()

    def _fill_hand(self) -> None:
        with self._lock:
            wanted = self.names_in_hand - len(self._hand())
        if wanted <= 0:
            return
        leases = self._claim({"how": "next", "count": wanted}, BACKGROUND_TIMEOUT_S)
        with self._lock:
            for lease in leases:
                if lease.person_id in self._voiced:
                    self._releases.append(lease.lease_id)
                elif lease.lease_id not in self._leases:
                    self._leases[lease.lease_id] = lease
            self._save()

    # -- state -----------------------------------------------------------------------

    def _hand(self) -> list[HeldLease]:
        return sorted((lease for lease in self._leases.values() if lease.role == "hand"), key=lambda lease: lease.order)

    def _snapshot(self) -> list[HeldLease]:
        with self._lock:
            return list(self._leases.values())

    def _load(self) -> None:
        document = read_json(self.state_path)
        if not isinstance(document, dict):
            return
        leases = []
        for item in document.get("leases", []):
            try:
                leases.append(HeldLease(**item))
            except TypeError:
                continue
        here: set[str] = set()
        if self.voiced_here is not None and any(lease.role == "assigned" for lease in leases):
            here = set(self.voiced_here())
        for lease in leases:
            if lease.role == "assigned":
                if lease.person_id in here:
                    # Kept just before the booth stopped, before it could say so.
                    lease = replace(lease, role="voiced")
                else:
                    # The participant it was offered to left with the booth's restart.
                    self._releases.append(lease.lease_id)
                    continue
            self._leases[lease.lease_id] = lease
            self._order = max(self._order, lease.order)
        self._releases.extend(str(lease_id) for lease_id in document.get("releases", []))
        self._voiced = {str(person) for person in document.get("voiced", [])}

    def _save(self) -> None:
        document = {
            "leases": [asdict(lease) for lease in self._leases.values()],
            "releases": list(self._releases),
            "voiced": sorted(self._voiced),
        }
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomically(self.state_path, document)
        except OSError:
            # The hand lives on in memory; the next change tries again.
            log.exception("names: the hand could not be saved")

    # -- what the caller gets -------------------------------------------------------

    def _assignment(self, lease: HeldLease) -> A:
        raise NotImplementedError("a subclass says what a lease is to its caller")


def _remaining_s(expires_at: str, response: httpx.Response, now: float) -> float:
    """Seconds the lease has left, by the store's clock when its answer has a Date."""
    expires = datetime.fromisoformat(str(expires_at)).timestamp()
    date = response.headers.get("date")
    if date:
        try:
            return expires - email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            pass
    return expires - now
