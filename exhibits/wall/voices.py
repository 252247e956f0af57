"""A person's name as read in the booth, heard on the portrait wall.

The wall offers "hear their name" only for a recording staff have approved
(`kiosk.link.voices.VoiceCache`, the stations' one voice cache, with its ON_DEMAND
policy: it keeps the store's list and the audio fetched, and deletes what is withdrawn
at each refresh). The list is refreshed in the background; audio is fetched when a
visitor first asks for it, then kept. Nothing here runs on the UI thread: fetching and decoding happen
on a worker thread, and the screen hears back through a callback it hands to Kivy's
clock.

Without a central store ([central] url empty) the wall has no voices and says, quietly,
that the name can still be read in the booth.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable

from hardware.audio.api import DeviceError, Speaker
from kiosk.errors import KioskError
from kiosk.link.client import CentralClient, StoreUnreachable
from kiosk.link.voices import Policy, VoiceCache, VoiceUnavailable

log = logging.getLogger(__name__)


class Hearing(enum.Enum):
    """Where a visitor's request to hear a name stands."""

    READY = "ready"  # the button can be pressed
    LOADING = "loading"  # fetching the audio
    PLAYING = "playing"
    UNAVAILABLE = "unavailable"  # this time it could not be played: the page says so quietly


class WallVoices:
    """Who has an approved voice, and playing it on the wall's speaker."""

    def __init__(
        self,
        catalogue: VoiceCache,
        speaker: Speaker,
        client_factory: Callable[[], CentralClient] | None,
        *,
        refresh_s: float = 300,
    ):
        self.catalogue = catalogue
        self.speaker = speaker
        self._client_factory = client_factory
        self._refresh_s = refresh_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._request = 0  # the latest request wins; older ones are dropped when they finish
        self.speaker_state = "ready"  # "failed" after the speaker refused to play, until it plays again
        self._lock = threading.Lock()

    def start(self) -> WallVoices:
        if self._client_factory is not None and self._thread is None:
            self._thread = threading.Thread(target=self._refresh_loop, name="wall-voices", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def has_voice(self, person_id: str) -> bool:
        return self.catalogue.has_voice(person_id)

    def refresh_now(self) -> bool:
        """Ask the store for the list once; False when it could not be asked."""
        if self._client_factory is None:
            return False
        try:
            with self._client_factory() as client:
                voices = self.catalogue.refresh(client)
        except (StoreUnreachable, KioskError, OSError) as error:
            log.warning("list of voices not refreshed; the last one stays in use", extra={"error": str(error)})
            return False
        log.info("list of voices refreshed", extra={"voices": len(voices.entries)})
        return True

    def play(self, person_id: str, report: Callable[[Hearing], None]) -> None:
        """Fetch (if needed) and play this person's voice; `report` hears each step, from a worker thread."""
        with self._lock:
            self._request += 1
            request = self._request
        self.speaker.stop()
        report(Hearing.LOADING)
        threading.Thread(target=self._play, args=(person_id, request, report), name="wall-voice", daemon=True).start()

    def stop(self) -> None:
        """Stop any playing (a visitor left, or opened another page)."""
        with self._lock:
            self._request += 1
        self.speaker.stop()

    def _play(self, person_id: str, request: int, report: Callable[[Hearing], None]) -> None:
        import soundfile  # when a visitor first asks to hear a name, not at the wall's start

        try:
            if self._client_factory is None:
                path = self.catalogue.audio(None, person_id)
            else:
                with self._client_factory() as client:
                    path = self.catalogue.audio(client, person_id)
            samples, rate = soundfile.read(path, dtype="float32", always_2d=False)
        except (VoiceUnavailable, StoreUnreachable, KioskError, soundfile.LibsndfileError, RuntimeError, OSError) as error:
            log.warning("voice cannot be played", extra={"person_id": person_id, "error": str(error)})
            if self._current(request):
                report(Hearing.UNAVAILABLE)
            return
        with self._lock:
            if request != self._request:
                return  # the visitor moved on while it was fetched
        try:
            self.speaker.play(samples, rate)
        except DeviceError as error:
            log.error("wall speaker cannot play", extra={"error": str(error)})
            self.speaker_state = "failed"
            report(Hearing.UNAVAILABLE)
            return
        self.speaker_state = "ready"
        log.info("voice played", extra={"person_id": person_id})
        report(Hearing.PLAYING)

    def _current(self, request: int) -> bool:
        with self._lock:
            return request == self._request

    def _refresh_loop(self) -> None:
        while not self._stop.is_set():
            self.refresh_now()
            self._stop.wait(self._refresh_s)


def make_wall_voices(config) -> WallVoices:
    """The wall's voices for a station config: its speaker, its store, its catalogue."""
    from hardware.devices import speaker_named

    speaker: Speaker = speaker_named(config.wall.speaker)
    factory = (lambda: CentralClient.for_station(config)) if config.central.url else None
    catalogue = VoiceCache(config.data_dir / "voices", Policy.ON_DEMAND)
    return WallVoices(catalogue, speaker, factory, refresh_s=config.wall.voices_refresh_s)
