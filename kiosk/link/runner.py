"""`kiosk sync run`: the station's uploads, heartbeats and pruning, in one process.

The booth keeps takes (`exhibits.booth.take_store`) and never talks to the network for
them; this process sends them, so a slow or absent central store can never make a
participant wait. It runs as its own systemd service beside the station.

A pass takes the due takes oldest first and keeps `[sync] uploads_in_flight` of them
(default 3, at most 4) being sent at once, each streamed from disk, so memory stays flat
(issue 18Y: one at a time, a booth's backlog waited on the store's every round trip).
A take counts as being sent until the store answers that it holds it: while that is
recorded on disk (durably, `Outbox.mark_sent`), the next take is already on its way
(issue 18: an upload's slot otherwise waited a third of its time on those fsyncs).
The first take of a pass goes alone, and only once the store has answered it do the
others follow several at a time, so a store that is down or whose disk is full gets one
upload, not several. Two takes of one name are never in flight together: the later
waits for the earlier, as the store decides on the second take of a name by the first.
After an upload that got no usable answer it waits (exponential backoff, full jitter,
`[sync] retry_first_s` doubling up to `retry_max_s`), sends one take at a time until one
gets an answer, and goes on with the next take; a new pass starts from the oldest again, after every
upload of the last one has ended (so no take is ever in flight twice). So one take the
store chokes on cannot hold the others back, and when the store is down the waits grow
and the store is not hammered.

- `run_forever()`: passes until `stop` is set (SIGTERM, SIGINT); when nothing is due
  it looks for new takes every `POLL_S`. It prunes at the end of the first pass and
  then at the end of a pass once an hour (`PRUNE_EVERY_S`). Heartbeats go out from a
  thread.
- `run_once()`: passes until nothing is due, until `GIVE_UP_AFTER` uploads in a row
  got no usable answer (the store is unreachable), or at once when the store says its
  disk is full (507); then prunes, deletes the takes
  withdrawn at the store, sends one heartbeat and returns a report (`queued_left`: what is left
  for a later run, and why in `unreachable`, `disk_full`, `waiting`).

Both ask the store, at every heartbeat, which of this station's recordings were
withdrawn, and delete their copies here (`kiosk.link.withdrawals`).

Both raise `TokenRefused` when the store refuses the token: nothing is marked then.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from kiosk.link.leases import STATE_FILE as NAMES_FILE
from kiosk.link.outbox import KeptTake, Outbox
from kiosk.config import StationConfig
from kiosk.errors import KioskError
from kiosk.link.backoff import Backoff
from kiosk.link.client import CentralClient, StoreUnreachable
from kiosk.link.heartbeat import HeartbeatThread, send_heartbeat
from kiosk.link.prune import prune
from kiosk.link.uploader import InvalidLedger, Outcome, Uploader, UploadStopped
from kiosk.link.withdrawals import apply_withdrawals
from kiosk.watchdog import ServiceNotifier

log = logging.getLogger(__name__)

POLL_S = 5.0
PRUNE_EVERY_S = 3600.0
"""Pruning reads the marker of every sent take still on disk: once an hour is plenty."""
GIVE_UP_AFTER = 5
"""`--once` calls the store unreachable after this many uploads in a row without an answer."""


@dataclass
class RunReport:
    """What a run did, for `--once`'s summary and the tests."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0  # intact takes the store called invalid, to be tried later
    unreachable: bool = False
    disk_full: bool = False  # the store answered 507
    queued_left: int = 0  # takes still queued when the run ended
    withdrawn: int = 0  # takes deleted here because they were withdrawn at the store
    last_problem: str = ""
    outcomes: list[Outcome] = field(default_factory=list)

    def note(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if outcome.kind == "sent":
            self.sent += 1
        elif outcome.kind == "failed":
            self.failed += 1
        elif outcome.kind == "retry_later":
            self.waiting += 1
        elif outcome.kind == "unreachable":
            self.last_problem = outcome.detail
        elif outcome.kind == "disk_full":
            self.disk_full = True
            self.last_problem = outcome.detail

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.kind == "failed"]


class SyncRunner:
    """Uploads a station's queue; see the module docstring for the two ways to run."""

    def __init__(
        self,
        config: StationConfig,
        *,
        client: CentralClient | None = None,
        store: Outbox | None = None,
        stop: threading.Event | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] | None = None,
        poll_s: float = POLL_S,
    ):
        self.config = config
        self.stop = stop or threading.Event()
        self.store = store or Outbox(config.data_dir / "takes", config.station.id)
        settings = config.sync
        self.client = client or CentralClient.for_station(config, timeout_s=settings.upload_timeout_s)
        self.uploader = Uploader(
            self.store,
            self.client,
            InvalidLedger(config.data_dir / "sync" / "invalid.json"),
            invalid_retries=settings.invalid_retries,
            invalid_retry_s=settings.invalid_retry_s,
            timeout_s=settings.upload_timeout_s,
            stop=self.stop,
            names_file=config.data_dir / NAMES_FILE,
        )
        self.backoff = Backoff(settings.retry_first_s, settings.retry_max_s, rng=rng)
        # systemd's watchdog is fed from this loop's own waits (a backoff can last minutes).
        self.service_manager = ServiceNotifier.from_environment()
        self._sleep = sleep or self._wait_alive
        self.poll_s = poll_s
        self._fatal: KioskError | None = None
        self._unanswered = 0  # uploads in a row without a usable answer
        self._next_prune = 0.0  # monotonic time of the next prune: at once, then hourly
        self._next_withdrawals = 0.0  # monotonic time of the next look at withdrawals

    def close(self) -> None:
        self.client.close()

    def _wait_alive(self, seconds: float) -> bool:
        return self.service_manager.wait_alive(self.stop, seconds)

    # -- passes ----------------------------------------------------------------------

    def _pass(self, report: RunReport, *, give_up_after: int | None) -> bool:
        """Upload the takes due now, once each, several at once; False when the store seems unreachable.

        Uploads without a usable answer are counted in a row across passes, so a queue
        shorter than `give_up_after` still ends a `--once` run. Returns only when every
        upload it started has ended; an error of one (TokenRefused) is raised then.
        """
        waiting = self.uploader.due()
        limit = self.config.sync.uploads_in_flight
        in_flight: dict[Future[Outcome], KeptTake] = {}
        at_store: set[str] = set()  # takes sent whose answer has not arrived
        names_in_flight: set[str] = set()
        # An upload the store now holds (its id, from `Uploader.upload`'s on_answer) and its end (the future).
        events: queue.SimpleQueue[str | Future[Outcome]] = queue.SimpleQueue()
        dispatching, reachable, answered = True, True, False
        fatal: BaseException | None = None
        # `limit` takes at the store, and as many more whose answers are being recorded.
        with ThreadPoolExecutor(max_workers=2 * limit, thread_name_prefix="upload") as pool:
            while True:
                # One take alone first, and again after an upload without an answer, until
                # one gets through: a store that is down or full gets one upload, not several.
                probing = not answered or self._unanswered > 0
                window = 1 if probing else limit
                while (
                    dispatching
                    and waiting
                    and len(in_flight if probing else at_store) < window
                    and len(in_flight) < 2 * limit
                    and not self.stop.is_set()
                ):
                    take = next((t for t in waiting if _name_of(t) not in names_in_flight), None)
                    if take is None:
                        break  # the next ones wait for an earlier take of their name
                    waiting.remove(take)
                    names_in_flight.add(_name_of(take))
                    at_store.add(take.recording_id)
                    future = pool.submit(self.uploader.upload, take, partial(events.put, take.recording_id))
                    in_flight[future] = take
                    future.add_done_callback(events.put)
                if not in_flight:
                    break
                event = events.get()
                if self.stop.is_set():
                    dispatching = False
                if isinstance(event, str):
                    at_store.discard(event)  # held there: the next take goes while this one is marked sent
                    continue
                take = in_flight.pop(event)
                at_store.discard(take.recording_id)
                names_in_flight.discard(_name_of(take))
                try:
                    outcome = event.result()
                except UploadStopped:
                    dispatching = False
                    continue
                except BaseException as error:  # TokenRefused, or a bug: the others end first
                    fatal = fatal or error
                    dispatching = False
                    continue
                report.note(outcome)
                if outcome.kind not in ("unreachable", "disk_full"):
                    self.backoff.reset()
                    self._unanswered = 0
                    answered = True
                    continue
                self._unanswered += 1
                if give_up_after is not None and (self._unanswered >= give_up_after or outcome.kind == "disk_full"):
                    # A full disk takes nothing else either: no point sending the rest.
                    dispatching, reachable = False, False
                elif dispatching:
                    self._sleep(self.backoff.next_delay())  # uploads in flight go on meanwhile
        if fatal is not None:
            raise fatal
        return reachable

    def run_once(self) -> RunReport:
        """Upload until nothing is due or the store is unreachable; prune; report."""
        report = RunReport()
        try:
            while not self.stop.is_set() and self.uploader.due():
                if not self._pass(report, give_up_after=GIVE_UP_AFTER):
                    report.unreachable = not report.disk_full
                    break
        finally:
            self._prune()
        if not (report.unreachable or report.disk_full or self.stop.is_set()):
            report.withdrawn += self._withdrawals()
            send_heartbeat(self.client, self.store, self.config.data_dir, screen=self._screen_path())
        report.queued_left = len(self.store.queued())
        return report

    def run_forever(self) -> RunReport:
        """Upload, prune and send heartbeats until `stop` is set."""
        report = RunReport()
        heartbeat = HeartbeatThread(
            self.client,
            self.store,
            self.config.data_dir,
            interval_s=self.config.sync.heartbeat_s,
            stop=self.stop,
            on_token_refused=self._token_refused,
            screen_path=self._screen_path(),
        )
        heartbeat.start()
        self.service_manager.ready("uploading")
        log.info("sync started", extra={"central": self.client.base_url, "queued": self.store.counts()["queued"]})
        try:
            while not self.stop.is_set():
                if time.monotonic() >= self._next_withdrawals:
                    self._next_withdrawals = time.monotonic() + self.config.sync.heartbeat_s
                    report.withdrawn += self._withdrawals()
                if self._anything_due():
                    self._pass(report, give_up_after=None)
                if time.monotonic() >= self._next_prune:
                    self._prune()
                if not self.stop.is_set() and not self._anything_due():
                    self._wait_alive(self.poll_s)
                self.service_manager.ping()
        finally:
            self.service_manager.stopping()
            self.stop.set()
            heartbeat.join(timeout=15)
        if self._fatal is not None:
            raise self._fatal
        log.info("sync stopped", extra={"sent": report.sent, "failed": report.failed})
        return report

    def _withdrawals(self) -> int:
        try:
            return apply_withdrawals(self.client, self.store)
        except StoreUnreachable as error:
            log.warning("withdrawals not checked; asked again at the next heartbeat", extra={"problem": str(error)})
            return 0

    def _screen_path(self):
        display = self.config.display
        return self.config.resolve(display.snapshot_path) if display.snapshot_every_s > 0 else None

    def _anything_due(self) -> bool:
        # Counting is a directory listing; reading the queue reads every sidecar, so it
        # is done only when something is queued at all.
        return self.store.counts()["queued"] > 0 and bool(self.uploader.due())

    def _token_refused(self, error: KioskError) -> None:
        self._fatal = error
        self.stop.set()

    def _prune(self) -> None:
        self._next_prune = time.monotonic() + PRUNE_EVERY_S
        try:
            prune(self.store, self.config.sync.keep_sent_days)
        except OSError:
            log.exception("pruning sent takes failed; they stay on disk")


def _name_of(take: KeptTake) -> str:
    """The name a take reads (its person), so two takes of one name are sent in order."""
    person = take.metadata.get("person_id")
    return f"person:{person}" if isinstance(person, str) else f"take:{take.recording_id}"
