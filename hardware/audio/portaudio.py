"""The booth's microphone and speaker: one small interface each, and the real ones on PortAudio.

Why this module exists: a participant reads one name, once, often moved by the moment.
The booth must keep every syllable of it, must never make the screen or the audio
callback wait, must notice a microphone that is unplugged or falls silent, and must
return to service by itself when the microphone is back, because galleries run for
weeks without a technician at hand. Nothing here imports Kivy.

Shape, after python-sounddevice's rec_unlimited.py and rec_gui.py ("neither the GUI nor
the audio callback is supposed to block"): the PortAudio callback only copies the block
into a queue and offers the block's RMS to a queue of size 1, replacing a stale value; a
writer thread owns the take. Start and stop of a take travel through the same queue as
the blocks, so a take holds exactly the blocks that arrived between the two, without a
lock between the callback and the writer. (What is still in the device's buffer when the
take stops, tens of milliseconds, is not in it; the booth stops after trailing silence.)

Sample format: float32, 48 kHz, mono. Takes are kept as 48 kHz FLAC, 24-bit where the
device gives it; a float32 sample holds a 24-bit sample exactly (24-bit mantissa), so
capturing float32 loses nothing. A device with several channels is either reduced to one
(`channel=`) or downmixed by the mean of its channels.

Loss and return, as found with PortAudio's ALSA "pulse" device on PulseAudio:
- The source disappears (USB microphone unplugged; here: its null sink unloaded) or the
  sound server dies: PortAudio ends the stream and calls its finished callback. The
  microphone is LOST at once.
- Through PulseAudio, a source that disappears while another source exists is not an
  end: PulseAudio 16 moves the stream to the other source (a sink's monitor, a laptop's
  own microphone) and blocks keep coming, so no microphone can notice. A booth should
  therefore name its microphone's own ALSA device (as `python -m sounddevice` lists it,
  e.g. "USB Audio"), not "pulse" or "default"; through "pulse", only a source that was
  the last one ends the stream.
- The source stops delivering without saying so (here: `pactl suspend-sink`): the stream
  stays "active" and the callback is simply never called again. PortAudio reports
  nothing, so `check()` calls a stream LOST when no block came for `stall_timeout`
  seconds, or none within `start_timeout` seconds of opening it (the first block through
  ALSA "pulse" took up to 2.02 s here, so that allowance is longer).
- A take in progress keeps what came before the loss and comes back with `lost=True`.
- While LOST, `check()` closes the dead stream and, at most every `retry_interval`
  seconds, re-scans the devices and opens the device again by name. PortAudio lists
  devices once, at initialisation; the way python-sounddevice's maintainer gives for
  seeing re-plugged devices is `sd._terminate(); sd._initialize()`
  (spatialaudio/python-sounddevice#125). A re-plugged USB microphone may come back as
  another ALSA card, hence the lookup by name each time. The microphone is READY again
  only when blocks flow from the new stream: a stream that opens but stays silent (the
  suspended source) is not a microphone that is back.
- `Pa_Terminate` closes every stream in the process, so the re-scan is skipped while a
  stream opened through this module is playing (listen-back on the review screen), and
  streams that have finished are closed first: sounddevice's own `play()` keeps a
  finished stream open for later, which a re-scan would free underneath it. That is why
  `SoundDeviceSpeaker` runs its own `OutputStream`. A process that opens sounddevice
  streams elsewhere should pass `rescan_devices=False` to the microphone, which then
  reopens from PortAudio's first device list.

The interface is `hardware.audio.api`, the take logic shared with the simulations
(`hardware.audio.simulated`) is `hardware.audio.blocks`.
"""


from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hardware.audio.api import SAMPLE_RATE, DeviceError, Speaker
from hardware.audio.blocks import BlockMicrophone

if TYPE_CHECKING:  # numpy too: loaded when sound is first made, not at a wall's start (issue 18)
    import numpy as np
    import sounddevice

log = logging.getLogger(__name__)


def _sounddevice() -> Any:
    """The sounddevice module, imported on first use.

    Importing it loads the PortAudio library; a machine without it can still run the
    simulations, and a station that needs it gets a DeviceError saying what to install.
    """
    try:
        import sounddevice
    except OSError as error:
        raise DeviceError(
            f"the PortAudio library cannot be loaded ({error}): install the Debian package "
            "libportaudio2"
        ) from None
    return sounddevice


class _PortAudio:
    """The streams this module holds open, and the device re-scan that must spare them.

    PortAudio is one per process: `Pa_Terminate` closes every stream. Opening, closing and
    re-scanning therefore happen under one lock, and the re-scan waits while a stream plays.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._streams: set[Any] = set()
        self._initialised = True  # sounddevice initialises PortAudio when it is imported

    def opened(self, stream: Any) -> None:
        with self.lock:
            self._streams.add(stream)

    def start(self, stream: Any, what: str) -> None:
        """Keep `stream` (just opened) and start it; if it will not start, close it and
        raise DeviceError saying that `what` cannot be started."""
        sd = _sounddevice()
        self.opened(stream)
        try:
            stream.start()
        except sd.PortAudioError as error:
            self.close(stream)
            raise DeviceError(f"{what} cannot be started: {error}") from None

    def close(self, stream: Any) -> None:
        """Abort and close `stream`; errors are ignored, as the stream may be dead already."""
        with self.lock:
            self._streams.discard(stream)
            if not stream.closed:
                stream.abort(ignore_errors=True)
                stream.close(ignore_errors=True)

    def rescan(self) -> bool:
        """Let PortAudio list the devices anew; False if a stream still plays (try later)."""
        sd = _sounddevice()
        with self.lock:
            live = [stream for stream in self._streams if not stream.closed]
            if any(stream.active for stream in live):
                return False
            for stream in live:
                stream.close(ignore_errors=True)
            self._streams.clear()
            try:
                if self._initialised:
                    self._initialised = False
                    sd._terminate()
                sd._initialize()
                self._initialised = True
            except sd.PortAudioError as error:
                raise DeviceError(
                    f"PortAudio could not list the sound devices again: {error}"
                ) from None
            return True


_PORTAUDIO = _PortAudio()


def find_device(query: str, kind: str) -> int:
    """The index of the one `kind` ("input" or "output") device whose name contains `query`.

    Case does not matter, and a name equal to the query wins over longer names holding it
    ("pulse" over "pulse monitor"). Raises DeviceError listing the devices of that kind when
    none or several match, so a technician can correct station.toml from the message.
    """
    sd = _sounddevice()
    channels_key = f"max_{kind}_channels"
    candidates = [
        (index, str(info["name"]), int(info[channels_key]))
        for index, info in enumerate(sd.query_devices())
        if info[channels_key] > 0
    ]
    wanted = query.lower()
    exact = [index for index, name, _ in candidates if name.lower() == wanted]
    if len(exact) == 1:
        return exact[0]
    matches = [index for index, name, _ in candidates if wanted in name.lower()]
    if len(matches) == 1:
        return matches[0]
    listing = "; ".join(f"{name!r} ({channels} ch)" for _, name, channels in candidates)
    listing = listing or "none (is the device plugged in, is the sound server running?)"
    if not matches:
        raise DeviceError(
            f"no {kind} device named like {query!r}. {kind.capitalize()} devices here: "
            f"{listing}. Plug the device in, or set its name in station.toml."
        )
    raise DeviceError(
        f"{query!r} names several {kind} devices: {listing}. "
        "Give more of the name in station.toml."
    )


class SoundDeviceMicrophone(BlockMicrophone):
    """The booth's microphone through PortAudio (python-sounddevice), chosen by name.

    `device` is a part of the device's name as sounddevice lists it (`python -m
    sounddevice`), not an index: indices change when devices come and go. Blocks of
    `blocksize` frames (21 ms at 48 kHz) feed the level meter about 47 times a second;
    latency "high" favours never dropping a block over answering fast, which recording
    does not need.
    """

    def __init__(
        self,
        device: str,
        sample_rate: int = SAMPLE_RATE,
        channels: int = 1,
        *,
        channel: int | None = None,
        blocksize: int = 1024,
        latency: str | float = "high",
        rescan_devices: bool = True,
        retry_interval: float = 2.0,
        stall_timeout: float = 1.0,
        start_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if channels < 1:
            raise ValueError(f"channels must be at least 1, not {channels}")
        if channel is not None and not 0 <= channel < channels:
            raise ValueError(f"channel {channel} is not one of the {channels} channels opened")
        super().__init__(
            f"microphone {device!r}",
            sample_rate,
            retry_interval=retry_interval,
            stall_timeout=stall_timeout,
            start_timeout=start_timeout,
            clock=clock,
        )
        self.device = device
        self.channels = channels
        self.channel = channel
        self.blocksize = blocksize
        self.latency = latency
        self.rescan_devices = rescan_devices
        self._stream: sounddevice.InputStream | None = None

    def _connect(self, token: int, rescan: bool) -> None:
        sd = _sounddevice()
        ended = f"{self.name} ended its stream (unplugged, or the sound server went away)"
        with _PORTAUDIO.lock:
            if rescan and self.rescan_devices:
                _PORTAUDIO.rescan()
            index = find_device(self.device, "input")
            self._check_settings(sd, index)
            try:
                stream = sd.InputStream(
                    device=index,
                    samplerate=self.sample_rate,
                    channels=self.channels,
                    dtype="float32",
                    blocksize=self.blocksize,
                    latency=self.latency,
                    callback=lambda indata, frames, when, status: self._audio_callback(
                        token, indata, frames, when, status
                    ),
                    finished_callback=lambda: self._ended(token, ended),
                )
            except sd.PortAudioError as error:
                raise DeviceError(
                    f"{self.name} cannot be opened: {error}. Check that it is plugged in and "
                    "not used by another program."
                ) from None
            _PORTAUDIO.start(stream, self.name)
        self._stream = stream

    def _check_settings(self, sd: Any, index: int) -> None:
        info = sd.query_devices(index)
        if info["max_input_channels"] < self.channels:
            raise DeviceError(
                f"{self.name} ({info['name']!r}) has {info['max_input_channels']} input "
                f"channels, not the {self.channels} asked for in station.toml."
            )
        try:
            sd.check_input_settings(
                device=index, channels=self.channels, dtype="float32", samplerate=self.sample_rate
            )
        except sd.PortAudioError as error:
            if "sample rate" in str(error).lower():
                raise DeviceError(
                    f"{self.name} ({info['name']!r}) does not record at {self.sample_rate} Hz "
                    f"(its default is {info['default_samplerate']:g} Hz). Takes are kept at "
                    "48 kHz: use a microphone or interface that supports it."
                ) from None
            raise DeviceError(
                f"{self.name} ({info['name']!r}) cannot be opened: {error}. Check that it is "
                "plugged in and not used by another program."
            ) from None

    def _disconnect(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            _PORTAUDIO.close(stream)

    def _audio_callback(
        self, token: int, indata: np.ndarray, frames: int, when: Any, status: Any
    ) -> None:
        """PortAudio's callback: make a mono copy of the block and queue it, nothing else."""
        if self.channel is not None:
            mono = indata[:, self.channel].copy()
        elif indata.shape[1] == 1:
            mono = indata[:, 0].copy()
        else:
            mono = indata.mean(axis=1, dtype="float32")
        self._deliver(token, mono, bool(status.input_overflow))

    def _failure(self, now: float) -> str | None:
        reason = super()._failure(now)
        if reason is None and self._stream is not None and not self._stream.active:
            return f"{self.name}: the stream stopped"
        return reason


def _playable(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """`samples` as a float32 array of shape (frames, channels), checked for playing."""
    import numpy as np

    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, not {sample_rate}")
    samples = np.asarray(samples)
    if np.issubdtype(samples.dtype, np.integer):
        # 16-bit samples (speech from espeak-ng, a WAV read as int16) at full scale 1.0:
        # taken as they are, 32,767 would be clipped into a square wave at full volume.
        data = samples.astype(np.float32) / float(-np.iinfo(samples.dtype).min)
    else:
        data = samples.astype(np.float32, copy=False)
    if data.ndim == 1:
        data = data[:, np.newaxis]
    if data.ndim != 2:
        raise ValueError(f"samples must have shape (n,) or (n, channels), not {data.shape}")
    return data


class _Playback:
    """Feeds one array to an output stream; its callback only copies."""

    def __init__(self, data: np.ndarray, stop_exception: type[Exception]):
        self.data = data
        self.position = 0
        self.finished = threading.Event()
        self._stop = stop_exception

    def callback(self, outdata: np.ndarray, frames: int, when: Any, status: Any) -> None:
        chunk = self.data[self.position : self.position + frames]
        outdata[: len(chunk)] = chunk  # a mono chunk fills every output channel
        outdata[len(chunk) :] = 0
        self.position += len(chunk)
        if self.position >= len(self.data):
            raise self._stop


class SoundDeviceSpeaker(Speaker):
    """Listen-back through PortAudio on the output device named like `device`, or the default.

    Runs its own OutputStream rather than `sounddevice.play()`: that one keeps a finished
    stream open in a module global, which the microphone's device re-scan would free
    underneath it (see the module's docstring). A mono take plays on both channels of a
    stereo device, since many devices refuse to open one channel.
    """

    def __init__(self, device: str | None = None, *, blocksize: int = 1024):
        self.device = device
        self.blocksize = blocksize
        self._stream: sounddevice.OutputStream | None = None
        self._playback: _Playback | None = None
        self._lock = threading.Lock()

    def play(self, samples: np.ndarray, sample_rate: int) -> None:
        data = _playable(samples, sample_rate)
        self.stop()
        if len(data) == 0:
            return
        sd = _sounddevice()
        with _PORTAUDIO.lock:
            index = self._device_index(sd)
            info = sd.query_devices(index)
            available = int(info["max_output_channels"])
            if data.shape[1] > available:
                raise DeviceError(
                    f"speaker {info['name']!r} has {available} output channels; "
                    f"the sound has {data.shape[1]}"
                )
            channels = 2 if data.shape[1] == 1 and available >= 2 else data.shape[1]
            playback = _Playback(data, sd.CallbackStop)
            try:
                stream = sd.OutputStream(
                    device=index,
                    samplerate=sample_rate,
                    channels=channels,
                    dtype="float32",
                    blocksize=self.blocksize,
                    callback=playback.callback,
                    finished_callback=playback.finished.set,
                )
            except sd.PortAudioError as error:
                raise DeviceError(
                    f"speaker {info['name']!r} cannot play {channels} channels at "
                    f"{sample_rate} Hz: {error}"
                ) from None
            _PORTAUDIO.start(stream, f"speaker {info['name']!r}")
        with self._lock:
            self._stream, self._playback = stream, playback

    def stop(self) -> None:
        with self._lock:
            stream, self._stream, self._playback = self._stream, None, None
        if stream is not None:
            _PORTAUDIO.close(stream)

    def playing(self) -> bool:
        with self._lock:
            stream, playback = self._stream, self._playback
        if stream is None or playback is None:
            return False
        if playback.finished.is_set() or stream.closed or not stream.active:
            self.stop()
            return False
        return True

    def _device_index(self, sd: Any) -> int:
        if self.device is not None:
            return find_device(self.device, "output")
        index = sd.default.device[1]
        if index is None or index < 0:
            raise DeviceError(
                "there is no default output device: name the speaker in station.toml"
            )
        return int(index)
