"""The memorial's multichannel sound card through PortAudio (see `hardware.multichannel.api`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from hardware.audio.api import SAMPLE_RATE, DeviceError
from hardware.audio.portaudio import _PORTAUDIO, _sounddevice, find_device
from hardware.multichannel.api import MultichannelOutput

log = logging.getLogger(__name__)


class SoundDeviceMultichannel(MultichannelOutput):
    """The memorial's sound card through PortAudio, chosen by (part of) its name.

    Through PulseAudio, name the ALSA device "pulse" and let the sink be chosen there
    (PULSE_SINK); on the gallery's own multichannel card, name the card.
    """

    def __init__(
        self,
        device: str,
        channels: int,
        sample_rate: int = SAMPLE_RATE,
        *,
        blocksize: int = 2048,
        # Nobody waits for the memorial to answer: half a second of buffer lets it ride out
        # a busy moment (PortAudio's "high", tens of ms on ALSA "pulse", underran here).
        latency: str | float = 0.5,
        retry_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        super().__init__(channels, sample_rate)
        self.device = device
        self.blocksize = blocksize
        self.latency = latency
        self.retry_interval = retry_interval
        self._clock = clock
        self._stream: Any = None
        self._ended: str | None = None
        self._wanted = False
        self._next_attempt_at = 0.0

    def open(self) -> None:
        self._wanted = True
        try:
            self._connect(rescan=False)
        except DeviceError as error:
            self._lose(str(error))
            raise

    def close(self) -> None:
        self._wanted = False
        self._disconnect()

    def check(self) -> bool:
        if not self._wanted:
            return False
        stream = self._stream
        if stream is not None and self._ended is None and stream.active:
            return True
        if stream is not None:
            self._lose(self._ended or f"the stream of {self.device!r} stopped")
        now = self._clock()
        if now < self._next_attempt_at:
            return False
        self._next_attempt_at = now + self.retry_interval
        try:
            self._connect(rescan=True)
        except DeviceError as error:
            self.last_problem = str(error)
            return False
        log.info("memorial sound card back", extra={"device": self.device})
        return True

    def _lose(self, reason: str) -> None:
        if self.last_problem != reason:
            log.error("memorial sound card lost", extra={"device": self.device, "problem": reason})
        self.last_problem = reason
        self._disconnect()
        self._next_attempt_at = self._clock() + self.retry_interval

    def _connect(self, rescan: bool) -> None:
        sd = _sounddevice()
        with _PORTAUDIO.lock:
            if rescan:
                _PORTAUDIO.rescan()
            index = find_device(self.device, "output")
            info = sd.query_devices(index)
            if int(info["max_output_channels"]) < self.channels:
                raise DeviceError(
                    f"output {info['name']!r} has {info['max_output_channels']} channels, not the "
                    f"{self.channels} of [memorial] channels: lower that setting (transports then share "
                    "loudspeakers) or name the multichannel card in [memorial] output"
                )
            self._ended = None
            ended = f"{info['name']!r} ended its stream (unplugged, switched off, or the sound server went away)"

            def finished() -> None:
                self._ended = ended

            try:
                stream = sd.OutputStream(
                    device=index,
                    samplerate=self.sample_rate,
                    channels=self.channels,
                    dtype="float32",
                    blocksize=self.blocksize,
                    latency=self.latency,
                    callback=self._callback,
                    finished_callback=finished,
                )
            except sd.PortAudioError as error:
                raise DeviceError(
                    f"output {info['name']!r} cannot play {self.channels} channels at {self.sample_rate} Hz: "
                    f"{error}. Check the card is on and not used by another program."
                ) from None
            _PORTAUDIO.start(stream, f"output {info['name']!r}")
        self._stream = stream
        self.last_problem = None

    def _disconnect(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            _PORTAUDIO.close(stream)

    def _callback(self, outdata: np.ndarray, frames: int, when: Any, status: Any) -> None:
        self.mixer.render(outdata)
