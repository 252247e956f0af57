"""Plays the names: the next one after the last, prepared while the current one sounds.

`step()` is called from the memorial's loop several times a second. It keeps one clip
queued on the output ahead of the name now sounding, so the pause between names is
counted by the sound card, not by this loop. A recording that is missing, damaged or
does not decode is skipped and reported in the log, once per recording, and the next
name is taken: nothing a file does stops the memorial. Outside opening hours nothing new
is queued, and the name sounding at closing time ends as it would.

Nothing here imports pygame; the output is any `hardware.multichannel.MultichannelOutput`.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import soundfile
import soxr

from exhibits.memorial.library import Library, NotPlayable, Withdrawn
from exhibits.memorial.loudness import Gain, Silent, gain_for
from exhibits.memorial.playlist import ChannelMap, Entry, Playlist
from hardware.audio.api import DeviceError
from hardware.multichannel.api import Clip, MultichannelOutput

log = logging.getLogger(__name__)

LOOKAHEAD = 1  # clips queued beyond the one sounding
CHECK_EVERY_S = 1.0  # how often the output is asked whether it is still there
MAX_SKIPS_PER_STEP = 50  # a list of nothing but bad files must not hold the loop


@dataclass(frozen=True)
class Skip:
    entry: Entry
    reason: str
    detail: str


class Player:
    def __init__(
        self,
        output: MultichannelOutput,
        library: Library,
        channels: ChannelMap,
        *,
        pause_s: float,
        target_lufs: float,
        peak_dbfs: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.output = output
        self.library = library
        self.channels = channels
        self.target_lufs = target_lufs
        self.peak_dbfs = peak_dbfs
        self.playlist = Playlist(())
        self.now_playing: Entry | None = None
        self.played = 0
        self.skips: list[Skip] = []  # the most recent ones, for the status and tests
        self._reported: set[str] = set()
        self._cursor: tuple[int, int, str] | None = None  # the last name queued
        self._last_started: tuple[int, int, str] | None = None  # the last name heard
        self._gains: dict[str, Gain] = {}
        self._clock = clock
        self._next_check = 0.0
        self.output.set_pause(pause_s)

    def update(self, playlist: Playlist) -> None:
        """A new list: new names join at their place, withdrawn ones are not found again."""
        self.playlist = playlist
        wanted = {entry.sha256 for entry in playlist.entries}
        self._gains = {sha: gain for sha, gain in self._gains.items() if sha in wanted}

    def step(self, open_now: bool) -> None:
        now = self._clock()
        if now >= self._next_check:
            self._next_check = now + CHECK_EVERY_S
            self.output.check()
        for event in self.output.events():
            if event.kind == "start":
                self.now_playing = event.tag
                self._last_started = event.tag.key
                self.played += 1
            elif event.kind == "end" and self.now_playing is event.tag:
                self.now_playing = None
        if not open_now:
            if self.output.pending():
                # Tomorrow begins with the name after the last one heard today.
                self.output.clear()
                self._cursor = self._last_started
            return
        skipped = 0
        while self.output.pending() < LOOKAHEAD and skipped < MAX_SKIPS_PER_STEP:
            entry = self.playlist.after(self._cursor)
            if entry is None:
                return
            self._cursor = entry.key
            try:
                clip = self.prepare(entry)
            except NotPlayable as problem:
                self._skip(entry, problem)
                skipped += 1
                if len(self.playlist) <= skipped:
                    return  # every name failed this round: try again at the next step
                continue
            try:
                self.output.queue(clip)
            except ValueError as error:  # a channel the output does not have: a config fault
                self._skip(entry, NotPlayable("channel", str(error)))
                skipped += 1

    def prepare(self, entry: Entry) -> Clip:
        """The entry's recording decoded, at the output's rate, brought to the target loudness."""
        data = self.library.read(entry)
        try:
            samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError, ValueError) as error:
            self.library.set_aside(entry)
            raise NotPlayable("undecodable", f"the recording does not decode ({error}); set aside, fetched again at the next refresh") from None
        mono = samples.mean(axis=1, dtype=np.float32) if samples.shape[1] > 1 else samples[:, 0]
        if rate != self.output.sample_rate and mono.size:
            mono = soxr.resample(mono, rate, self.output.sample_rate).astype(np.float32)
        if mono.size == 0:
            raise NotPlayable("empty", "the recording holds no sound")
        gain = self._gains.get(entry.sha256)
        if gain is None:
            try:
                gain = gain_for(mono, self.output.sample_rate, target_lufs=self.target_lufs, peak_dbfs=self.peak_dbfs)
            except Silent as error:
                raise NotPlayable("silent", str(error)) from None
            if gain.limited:
                log.info(
                    "memorial name held under the target to avoid clipping",
                    extra={"person_id": entry.person_id, "played_lufs": round(gain.played_lufs, 1)},
                )
            self._gains[entry.sha256] = gain
        return Clip((mono * gain.factor).astype(np.float32), self.channels.channel_of(entry), entry)

    def _skip(self, entry: Entry, problem: NotPlayable) -> None:
        if isinstance(problem, Withdrawn):
            return  # gone from the list meanwhile: nothing to report
        self.skips = [*self.skips[-99:], Skip(entry, problem.reason, str(problem))]
        if entry.sha256 in self._reported:
            return
        self._reported.add(entry.sha256)
        log.error(
            "memorial skipped a name",
            extra={
                "person_id": entry.person_id,
                "transport": entry.transport,
                "sha256": entry.sha256,
                "problem": problem.reason,
                "hint": str(problem),
            },
        )


def open_output(output: MultichannelOutput) -> None:
    """Open the output, or log why not: `check()` keeps trying, the screen goes on."""
    try:
        output.open()
    except DeviceError as error:
        log.error("memorial sound card not available", extra={"problem": str(error), "hint": "the memorial tries again every few seconds"})
