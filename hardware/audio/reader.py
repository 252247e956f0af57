"""The demo booth's microphone: a simulated participant who reads the assigned name aloud.

`kiosk demo` runs on machines without a microphone, and a microphone that hears only
room tone makes every demo take fail the quality check ("no_speech"). This one is the
simulated microphone with someone in front of it: at every take it asks the booth what
to read (the name, in the participant's language), has espeak-ng speak it, and hears
that voice after a short pause, then the quiet room again, so the booth's endpointer
ends the take and the quality check passes it as it would a real reading.

Only a station that `kiosk demo` made uses it (the booth's composition root decides);
tests of the booth keep the plain simulated microphone and its explicit triggers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from hardware.audio.simulated import SimulatedMicrophone, _room_tone

log = logging.getLogger(__name__)

Reading = tuple[str, str]  # (text, language: nl, fr or en)
Synthesizer = Callable[[str, str], tuple[np.ndarray, int]]  # (text, language) -> mono float samples, rate
SPEECH_PEAK = 0.4  # about -8 dBFS: a voice at arm's length, well clear of clipping


class ReadingMicrophone(SimulatedMicrophone):
    """A SimulatedMicrophone that hears `what_to_read()` spoken, `pause_s` after each take begins.

    `what_to_read` returns (text, language), or None when there is nothing to read (the
    take then hears room tone, as before); `synthesize` speaks it (the composition root
    gives espeak-ng: `exhibits.booth.compose.read_aloud`). Speech is made on a thread of
    its own, so the booth's screen never waits for it; `spoken` is set once a take's
    voice is ready (tests wait on it).
    """

    _offers = (*SimulatedMicrophone._offers, "spoken")
    spoken: threading.Event | None = None  # set per instance; named here so the simulation allows it

    def __init__(
        self,
        what_to_read: Callable[[], Reading | None],
        synthesize: Synthesizer,
        *,
        pause_s: float = 1.6,  # the booth starts listening 1 s before "now": speak just after it
        **kwargs,
    ):
        super().__init__(None, **kwargs)
        self._what_to_read = what_to_read
        self._pause_s = pause_s
        self._synthesize = synthesize
        self.spoken = threading.Event()

    def start_capture(self) -> None:
        super().start_capture()
        self.spoken.clear()
        reading = self._what_to_read()
        if reading is not None:
            threading.Thread(target=self._read, args=(reading, time.monotonic()), name="simulated reader", daemon=True).start()

    def _read(self, reading: Reading, began: float) -> None:
        text, language = reading
        try:
            voice, rate = self._synthesize(text, language)
        except Exception as error:  # the demo goes on with room tone; the log says why
            log.error("simulated reader cannot speak", extra={"problem": str(error)})
            return
        if rate != self.sample_rate and len(voice):
            times = np.arange(int(round(len(voice) * self.sample_rate / rate))) / self.sample_rate
            voice = np.interp(times, np.arange(len(voice)) / rate, voice)
        peak = float(np.max(np.abs(voice))) if len(voice) else 0.0
        voice = (voice * (SPEECH_PEAK / peak if peak > 0 else 0.0)).astype(np.float32)
        quiet = _room_tone(self._rng, int(max(0.0, self._pause_s - (time.monotonic() - began)) * self.sample_rate), self.room_tone_dbfs)
        with self._producing:  # between two blocks: the voice starts with the next one
            self._signal = np.concatenate([quiet, voice + _room_tone(self._rng, len(voice), self.room_tone_dbfs)])
            self._position = 0
        self.spoken.set()
