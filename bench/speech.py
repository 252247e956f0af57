"""How long from a touch in audio mode to the first sound of the control's spoken name?

    python bench/speech.py [--names N] [--own-pulseaudio]

A visitor touches a control; the guide (kiosk.accessibility) says its name through
kiosk.speech and the station's real speaker (`SoundDeviceSpeaker` on the ALSA "pulse"
device). Measured from the touch to the moment the speaker's output stream has started
(PortAudio calls for the first block right then), for N different control names, three
ways in the same run:

- baseline: the same samples, already decoded, handed to the speaker directly at the touch;
- warm: the name was said before (or prepared with the screen): from the cache;
- cold: the name was never said: espeak-ng makes it first.

Then the same end to end, to the first sound heard: the sink's monitor is recorded (a
microphone in the room) and the time is taken to the first sample of the name above
silence, for

- heard baseline: the decoded samples handed to the speaker directly;
- heard touch, warm and cold: a touch on a control, as above;
- heard key, warm and cold: a tactile key of the booth controller (`NEXT`): the firmware
  on a pseudo-terminal (debounce included), the station's serial link, the booth's
  `BoothControls.pump()` run 20 times a second as the booth's screen tick does, the
  guide moving its focus and saying the next control's name.

The recording's own latency is in every figure, the baseline's too: compare with it.
Prints one line per way (median and 95th percentile, ms), then one JSON object with the
figures. --own-pulseaudio starts a private PulseAudio with a null sink (tests/harness).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hardware.audio.portaudio import SoundDeviceSpeaker  # noqa: E402
from kiosk.accessibility import AudioGuide, Control, ScreenWords  # noqa: E402
from kiosk.speech import Speech, SpeechCache  # noqa: E402

NAMES = [
    "Zoeken, knop", "Terug, knop", "Volgende, knop", "Vorige, knop", "Luister naar de naam, knop",
    "Transporten, knop", "Letter A", "Letter B", "Jaren 1920", "Nederlands", "Français", "English",
    "Opnieuw beginnen, knop", "Ik ben er nog, knop", "Opnemen, knop", "Nog eens opnemen, knop",
]


class TimedSpeaker(SoundDeviceSpeaker):
    """The real speaker, noting when each play() has its stream running."""

    def __init__(self, device: str):
        super().__init__(device)
        self.started = threading.Event()
        self.started_at = 0.0

    def play(self, samples, sample_rate) -> None:
        super().play(samples, sample_rate)
        self.started_at = time.perf_counter()
        self.started.set()


def timed(speaker: TimedSpeaker, action) -> float:
    speaker.started.clear()
    touched = time.perf_counter()
    action()
    if not speaker.started.wait(30):
        raise SystemExit("the speaker never started: is PulseAudio running? (--own-pulseaudio)")
    elapsed = speaker.started_at - touched
    time.sleep(0.05)
    speaker.stop()
    return elapsed * 1000


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median_ms": round(statistics.median(ordered), 2), "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2)}


def run(count: int) -> dict:
    names = (NAMES * (count // len(NAMES) + 1))[:count]
    names = [f"{name} {index}" if index >= len(NAMES) else name for index, name in enumerate(names)]
    speaker = TimedSpeaker("pulse")
    with tempfile.TemporaryDirectory() as folder:
        cache = SpeechCache(Path(folder))
        speech = Speech(speaker, cache)
        guide = AudioGuide(lambda text: speech.say(text, "nl"), speech.stop)
        words = ScreenWords("bench", "Een scherm om te meten.", tuple(Control(f"c{i}", name) for i, name in enumerate(names)))
        try:
            cold, warm, baseline = [], [], []
            for index, name in enumerate(names):
                guide.arrive(words)
                cold.append(timed(speaker, lambda: guide.touch(f"c{index}")))
            for index, name in enumerate(names):
                guide.arrive(words)
                warm.append(timed(speaker, lambda: guide.touch(f"c{index}")))
            for name in names:
                spoken = cache.get(name, "nl")
                baseline.append(timed(speaker, lambda: speaker.play(spoken.samples.astype(np.float32) / 32768.0, spoken.sample_rate)))
        finally:
            speech.close()
    return {"names": count, "baseline": summary(baseline), "warm": summary(warm), "cold": summary(cold)}


class Room:
    """The sink's monitor, recorded: when was the first sound after a moment?

    The callback only notes, per block, when it ended and where its first loud sample
    is, so looking for the first sound costs the measured threads nothing."""

    THRESHOLD = 10 ** (-50 / 20)  # a null sink is silent: anything above -50 dBFS is the name

    def __init__(self, rate: int = 48_000, block: int = 240):
        import sounddevice

        self.rate = rate
        self._blocks: collections.deque[tuple[float, int | None, int]] = collections.deque(maxlen=4000)
        self.stream = sounddevice.InputStream(
            device="pulse", channels=1, samplerate=rate, blocksize=block, dtype="float32", callback=self._heard
        )
        self.stream.start()

    def _heard(self, indata, frames, _time, _status) -> None:
        loud = np.flatnonzero(np.abs(indata[:, 0]) > self.THRESHOLD)
        # (when the block ended, its first loud sample or None, its length)
        self._blocks.append((time.perf_counter(), int(loud[0]) if len(loud) else None, frames))

    def first_sound_after(self, moment: float, timeout: float = 30.0) -> float | None:
        """Milliseconds from MOMENT to the first loud sample recorded after it; None if nothing came."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for ended, first_loud, frames in list(self._blocks):
                if first_loud is None or ended < moment:
                    continue
                at = ended - (frames - first_loud) / self.rate
                if at >= moment:
                    return (at - moment) * 1000
            time.sleep(0.005)
        return None

    def quiet(self, seconds: float = 0.25, timeout: float = 30.0) -> None:
        """Wait until the room has been silent for SECONDS."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            since = time.perf_counter() - seconds
            recent = [(first_loud, frames) for ended, first_loud, frames in list(self._blocks) if ended >= since]
            if sum(frames for _, frames in recent) >= seconds * self.rate * 0.8 and all(loud is None for loud, _ in recent):
                return
            time.sleep(0.02)
        raise SystemExit("the room never went quiet")

    def close(self) -> None:
        self.stream.stop()
        self.stream.close()


def heard(room: Room, speech: Speech, action, timeout: float = 30.0) -> float | None:
    speech.stop()
    room.quiet()
    moment = time.perf_counter()
    action()
    elapsed = room.first_sound_after(moment, timeout)
    speech.stop()
    return elapsed


def heard_or_fail(room: Room, speech: Speech, action) -> float:
    elapsed = heard(room, speech, action)
    if elapsed is None:
        raise SystemExit("nothing was heard in the room: is the speaker's sink the one recorded? (--own-pulseaudio)")
    return elapsed


def _booth_controls(folder: Path, on_key):
    """The booth's controls on the simulated board over a real pseudo-terminal, pumped 20
    times a second like the booth's screen tick; returns (controls, controller, stop)."""
    from exhibits.booth.controls import BoothControls
    from exhibits.booth.flow import BoothFlow
    from exhibits.booth.names import NoNameSource
    from exhibits.booth.quality import analyze
    from exhibits.booth.take_store import TakeStore
    from hardware.audio.simulated import SimulatedMicrophone, SimulatedSpeaker
    from hardware.controller.link import ControllerState
    from hardware.controller.simulator import SimulatedSerialController

    flow = BoothFlow(
        clock=time.monotonic, names=NoNameSource(), microphone=SimulatedMicrophone(None), speaker=SimulatedSpeaker(),
        store=TakeStore(folder / "takes", "bench-1"), analyze=analyze,
    )
    controller = SimulatedSerialController(folder / "controller.pty")
    controls = BoothControls(flow, controller, on_key=on_key)
    controls.start()
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(1 / 20):
            controls.pump()

    ticker = threading.Thread(target=tick, name="booth tick", daemon=True)
    ticker.start()
    deadline = time.monotonic() + 15
    while controller.state is not ControllerState.CONNECTED:
        if time.monotonic() > deadline:
            raise SystemExit("the simulated controller never connected")
        time.sleep(0.05)

    def close() -> None:
        stop.set()
        ticker.join(timeout=2)
        controls.close()

    return controls, controller, close


class Connected:
    """Waits, with a bound, until the controller's link is up."""

    def __init__(self, controller):
        self.controller = controller

    def wait(self, timeout: float = 30.0) -> None:
        from hardware.controller.link import ControllerState

        deadline = time.monotonic() + timeout
        while self.controller.state is not ControllerState.CONNECTED:
            if time.monotonic() > deadline:
                raise SystemExit("the simulated controller stayed disconnected")
            time.sleep(0.02)


def run_heard(count: int) -> dict:
    """From a touch, and from a tactile key, to the first sound of the name in the room."""
    base = (NAMES * (count // len(NAMES) + 1))[:count]
    speaker = SoundDeviceSpeaker("pulse")
    room = Room()
    with tempfile.TemporaryDirectory() as folder:
        cache = SpeechCache(Path(folder) / "speech")
        speech = Speech(speaker, cache)
        guide = AudioGuide(lambda text: speech.say(text, "nl"), speech.stop)
        keys: list[str] = []
        _controls, controller, close = _booth_controls(Path(folder), lambda key: (keys.append(key), guide.next()))
        board = controller.simulator
        connected = Connected(controller)
        try:
            figures: dict[str, list[float]] = {"baseline": [], "touch_warm": [], "touch_cold": [], "key_warm": [], "key_cold": []}
            lost = 0

            def key(index: int) -> float:
                """A NEXT press to control INDEX; a press the link lost (a loaded machine drops
                the serial link now and then) is pressed again, as a visitor would, and counted."""
                nonlocal lost
                for _ in range(5):
                    connected.wait()
                    before = len(keys)
                    elapsed = heard(room, speech, lambda: threading.Thread(target=board.press_key, args=("NEXT",)).start(), timeout=5)
                    if elapsed is not None:
                        return elapsed
                    if len(keys) > before:
                        raise SystemExit("a key reached the guide but nothing was heard")
                    lost += 1
                    guide.focus = f"c{index - 1}" if index else None
                raise SystemExit("five presses of the same key were lost: is the simulated controller connected?")
            for way, suffix in (("touch_cold", "aanraking"), ("key_cold", "toets")):
                names = [f"{name}, {suffix} {index}" for index, name in enumerate(base)]
                words = ScreenWords("bench", "Een scherm om te meten.", tuple(Control(f"c{i}", name) for i, name in enumerate(names)))
                guide.update(words)
                for index in range(len(names)):
                    guide.focus = f"c{index - 1}" if index else None  # NEXT goes to c{index}
                    if way == "touch_cold":
                        figures[way].append(heard_or_fail(room, speech, lambda: guide.touch(f"c{index}")))
                    else:
                        figures[way].append(key(index))
                warm = way.replace("cold", "warm")
                for index in range(len(names)):
                    guide.focus = f"c{index - 1}" if index else None
                    if warm == "touch_warm":
                        figures[warm].append(heard_or_fail(room, speech, lambda: guide.touch(f"c{index}")))
                    else:
                        figures[warm].append(key(index))
                for name in names:
                    spoken = cache.get(name, "nl")
                    samples = spoken.samples.astype(np.float32) / 32768.0
                    figures["baseline"].append(heard_or_fail(room, speech, lambda: speaker.play(samples, spoken.sample_rate)))
        finally:
            close()
            speech.close()
            room.close()
    result: dict = {f"heard_{way}": summary(values) for way, values in figures.items()}
    result["key_presses_lost"] = lost
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", type=int, default=32)
    parser.add_argument("--own-pulseaudio", action="store_true")
    args = parser.parse_args()
    daemon = None
    if args.own_pulseaudio:
        from harness.pulse import PulseAudio

        daemon = PulseAudio().start()
        os.environ.update(daemon.env)
        os.environ["PULSE_SINK"] = daemon.sink
    try:
        figures = run(args.names)
        figures.update(run_heard(args.names))
    finally:
        if daemon is not None:
            daemon.stop()
    print("to the speaker's stream started:")
    for way in ("baseline", "warm", "cold"):
        print(f"{way:>18}: median {figures[way]['median_ms']:7.2f} ms   p95 {figures[way]['p95_ms']:7.2f} ms")
    print("to the first sound heard in the room:")
    for way in ("heard_baseline", "heard_touch_warm", "heard_touch_cold", "heard_key_warm", "heard_key_cold"):
        print(f"{way:>18}: median {figures[way]['median_ms']:7.2f} ms   p95 {figures[way]['p95_ms']:7.2f} ms")
    print(f"key presses the serial link lost (pressed again): {figures['key_presses_lost']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
