"""Speech for audio mode: what a screen or a control says, in the visitor's language.

A visitor who cannot see the screen hears it instead (EN 301 549 clause 5.1.3 asks
closed-functionality devices for speech output). The words come from espeak-ng, which
runs on the station itself, speaks Dutch, French (Belgian) and English, and needs no
network, through the station's own speaker.

Three promises, because a visitor waits on every word:
- nothing blocks the screen: `say()` hands the text to a worker thread and returns;
- the newest request wins: a visitor who moves on is not made to hear what they left,
  and a text being spoken stops when a new one starts;
- the same words never wait twice: every text is kept per language and voice, in
  memory (bounded) and on disk (so a restart does not synthesize again), and
  `prepare()` makes a screen's words ahead of time.
While the booth records, `hold()` stops speech and keeps it silent until `release()`:
the microphone must hear only the participant.
"""

from __future__ import annotations

import collections
import hashlib
import io
import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from kiosk.errors import KioskError

if TYPE_CHECKING:
    import numpy as np

    from hardware.audio.api import Speaker

log = logging.getLogger(__name__)

# espeak-ng's voice for each of the visitor's languages: Belgian French says
# "septante" and "nonante", as French-speaking visitors here do.
VOICES = {"nl": "nl", "fr": "fr-be", "en": "en-gb"}
WORDS_PER_MINUTE = 150  # a little slower than espeak-ng's 175: names and dates need it
LONGEST_TEXT = 2000  # characters; a person's page is a few hundred
SYNTHESIS_TIMEOUT_S = 15.0
PART_POLL_S = 0.02  # how often a sequence of parts looks whether the one said has ended
MEMORY_BYTES = 32 * 1024 * 1024  # about 12 minutes of speech at 22,050 Hz, 16 bits


class SpeechUnavailable(KioskError):
    """espeak-ng is missing or failed: audio mode cannot speak."""


class Spoken(NamedTuple):
    """Synthesized speech: mono 16-bit samples and their rate."""

    samples: np.ndarray
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


Synthesizer = Callable[[str, str, int], bytes]  # (text, espeak voice, words per minute) -> WAV bytes


def espeak_wav(text: str, voice: str, words_per_minute: int) -> bytes:
    """espeak-ng's WAV for `text`; the text goes in on stdin, so it is never read as an option."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise SpeechUnavailable(
            "espeak-ng is not installed: audio mode cannot speak",
            "install it (Debian: apt-get install espeak-ng; scripts/setup does this)",
        )
    try:
        done = subprocess.run(
            [program, "-v", voice, "-s", str(words_per_minute), "--stdout", "--stdin"],
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=SYNTHESIS_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SpeechUnavailable(
            f"espeak-ng did not finish within {SYNTHESIS_TIMEOUT_S:g} s", "check the station's load with `kiosk doctor`"
        ) from None
    if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
        problem = done.stderr.decode("utf-8", "replace").strip()[:200] or f"exit status {done.returncode}"
        raise SpeechUnavailable(f"espeak-ng failed for voice {voice!r}: {problem}", "check `espeak-ng --voices` lists it")
    return done.stdout


def _decode(wav: bytes) -> Spoken:
    # numpy and soundfile (18 MB) when the first words are made, not at every station's start.
    import numpy as np
    import soundfile

    samples, rate = soundfile.read(io.BytesIO(wav), dtype="int16", always_2d=False)
    if samples.ndim > 1:
        samples = samples[:, 0]
    return Spoken(np.ascontiguousarray(samples), int(rate))


class SpeechCache:
    """Synthesized texts by (language, text): a bounded memory part and a disk part."""

    def __init__(
        self,
        folder: Path | None,
        *,
        synthesize: Synthesizer = espeak_wav,
        words_per_minute: int = WORDS_PER_MINUTE,
        memory_bytes: int = MEMORY_BYTES,
    ):
        self.folder = folder
        self.synthesize = synthesize
        self.words_per_minute = words_per_minute
        self.memory_bytes = memory_bytes
        self._memory: collections.OrderedDict[str, Spoken] = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.synthesized = 0  # how many texts espeak-ng made: tests and the bench

    def key(self, text: str, language: str) -> str:
        voice = voice_for(language)
        return hashlib.sha256(f"{voice}\0{self.words_per_minute}\0{text}".encode()).hexdigest()

    def has(self, text: str, language: str) -> bool:
        key = self.key(text, language)
        with self._lock:
            if key in self._memory:
                return True
        return self.folder is not None and (self.folder / f"{key}.wav").is_file()

    def get(self, text: str, language: str) -> Spoken:
        """The speech for `text`, made now if it was never made (raises SpeechUnavailable)."""
        text = _speakable(text)
        key = self.key(text, language)
        with self._lock:
            spoken = self._memory.get(key)
            if spoken is not None:
                self._memory.move_to_end(key)
                return spoken
        spoken = self._from_disk(key)
        if spoken is None:
            wav = self.synthesize(text, voice_for(language), self.words_per_minute)
            self.synthesized += 1
            spoken = _decode(wav)
            self._to_disk(key, wav)
        self._remember(key, spoken)
        return spoken

    def _remember(self, key: str, spoken: Spoken) -> None:
        with self._lock:
            if key in self._memory:
                return
            self._memory[key] = spoken
            self._bytes += spoken.samples.nbytes
            while self._bytes > self.memory_bytes and len(self._memory) > 1:
                _, dropped = self._memory.popitem(last=False)
                self._bytes -= dropped.samples.nbytes

    def _from_disk(self, key: str) -> Spoken | None:
        if self.folder is None:
            return None
        path = self.folder / f"{key}.wav"
        try:
            return _decode(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, RuntimeError, _libsndfile_error()) as error:
            # A file cut short by a power cut: make it again rather than fail.
            log.warning("speech cache file unreadable, made again", extra={"file": str(path), "problem": str(error)})
            path.unlink(missing_ok=True)
            return None

    def _to_disk(self, key: str, wav: bytes) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # A cache: a temporary name and a rename keep a half-written file from ever
            # being read, and losing the newest entries to a power cut costs only time.
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(handle, "wb") as file:
                file.write(wav)
            os.replace(temporary, self.folder / f"{key}.wav")
        except OSError as error:  # a full disk: speech still works from memory
            log.warning("speech cache not written", extra={"folder": str(self.folder), "problem": str(error)})


def _libsndfile_error() -> type[Exception]:
    import soundfile

    return soundfile.LibsndfileError


def voice_for(language: str) -> str:
    try:
        return VOICES[language]
    except KeyError:
        raise SpeechUnavailable(f"no voice for language {language!r}", f"use one of {', '.join(VOICES)}") from None


def _speakable(text: str) -> str:
    text = " ".join(text.split())
    return text[:LONGEST_TEXT]


class _Request(NamedTuple):
    parts: tuple[tuple[str, str], ...]  # (text, language), said one after the other
    generation: int


class Speech:
    """Says texts through the station's speaker, newest first, never while held.

    `on_problem` hears a SpeechUnavailable or device error once per kind of problem, so
    the screen can say, quietly, that speech does not work (and the doctor can tell).
    """

    def __init__(self, speaker: Speaker, cache: SpeechCache, *, on_problem: Callable[[Exception], None] | None = None):
        self.speaker = speaker
        self.cache = cache
        self.on_problem = on_problem
        self._requests: queue.Queue[_Request | None] = queue.Queue()
        self._preparing: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._generation = 0
        self._held = False
        self._lock = threading.Lock()
        self._closed = False
        self.last_problem: Exception | None = None
        # Started by the first words asked for (`_start`): a visitor who only looks costs
        # no threads, and a station's start stays single-threaded (a first thumbnail build forks).
        self._speaker_thread: threading.Thread | None = None
        self._prepare_thread: threading.Thread | None = None

    def _start(self) -> None:
        """The worker threads, once (called holding `_lock`, not after `close`)."""
        if self._speaker_thread is None:
            self._speaker_thread = threading.Thread(target=self._speak_loop, name="speech", daemon=True)
            self._prepare_thread = threading.Thread(target=self._prepare_loop, name="speech prepare", daemon=True)
            self._speaker_thread.start()
            self._prepare_thread.start()

    # -- what screens call -------------------------------------------------------------

    def say(self, text: str, language: str) -> None:
        """Say `text` now, cutting off what is being said; returns at once."""
        self.say_parts(((text, language),))

    def say_parts(self, parts: Iterable[tuple[str, str]]) -> None:
        """Say (text, language) parts one after the other, each in its own voice (the
        station's offer in every language it has); cut off as `say()` is."""
        parts = tuple((text, language) for text, language in parts if text.strip())
        if not parts:
            return
        with self._lock:
            if self._closed or self._held:
                return
            self._start()
            self._generation += 1
            generation = self._generation
        self.speaker.stop()
        self._requests.put(_Request(parts, generation))

    def stop(self) -> None:
        """Silence: what is being said stops, what was asked for is not said."""
        with self._lock:
            self._generation += 1
        self.speaker.stop()

    def hold(self) -> None:
        """Silence until `release()`: the booth is about to record."""
        with self._lock:
            self._held = True
            self._generation += 1
        self.speaker.stop()

    def release(self) -> None:
        with self._lock:
            self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def prepare(self, texts: Iterable[tuple[str, str]]) -> None:
        """Make these (text, language) pairs ahead of time, in the background."""
        texts = [(text, language) for text, language in texts if text.strip()]
        if not texts:
            return
        with self._lock:
            if self._closed:
                return
            self._start()
        for item in texts:
            self._preparing.put(item)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._generation += 1
        self._requests.put(None)
        self._preparing.put(None)
        self.speaker.stop()
        for thread in (self._speaker_thread, self._prepare_thread):
            if thread is not None:
                thread.join(timeout=SYNTHESIS_TIMEOUT_S + 1)

    # -- inside --------------------------------------------------------------------------

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation and not self._held and not self._closed

    def _speak_loop(self) -> None:
        while True:
            request = self._requests.get()
            if request is None:
                return
            if not self._current(request.generation):
                continue  # the visitor moved on before it was said
            try:
                for number, (text, language) in enumerate(request.parts):
                    if number and not self._finish_part(request.generation):
                        break
                    spoken = self.cache.get(text, language)
                    # Checked again after synthesis, and after the play starts: a hold (the
                    # booth starting to record) or a newer text may have come meanwhile, and
                    # its own stop() may have come just before this play().
                    if not self._current(request.generation):
                        break
                    # Speakers take floats in [-1, 1] (hardware.audio.api): int16 as is would clip.
                    self.speaker.play(spoken.samples.astype("float32") / 32768.0, spoken.sample_rate)
                    if not self._current(request.generation):
                        self.speaker.stop()
                        break
            except Exception as error:  # noqa: BLE001 - a thread that dies would leave the visitor in silence
                self._problem(error)

    def _finish_part(self, generation: int) -> bool:
        """Wait for the part being said to end; False if it was cut off meanwhile."""
        while self._current(generation) and self.speaker.playing():
            time.sleep(PART_POLL_S)
        return self._current(generation)

    def _prepare_loop(self) -> None:
        while True:
            item = self._preparing.get()
            if item is None:
                return
            try:
                self.cache.get(*item)
            except Exception as error:  # noqa: BLE001 - preparing is a favour; saying it reports
                self._problem(error)

    def _problem(self, error: Exception) -> None:
        first_of_its_kind = self.last_problem is None or type(self.last_problem) is not type(error)
        self.last_problem = error
        if first_of_its_kind:
            log.error("speech failed", extra={"problem": str(error)})
            if self.on_problem is not None:
                self.on_problem(error)
