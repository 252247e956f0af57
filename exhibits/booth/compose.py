"""The booth's composition root: the one place that picks real or simulated devices.

`[booth] microphone`, `speaker` and `controller` in station.toml name the devices; "simulated" selects
the simulations (the demo on a machine without a sound card, and tests). Nothing else in
the booth knows which it got.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from exhibits.booth.flow import BoothFlow, Timing
from exhibits.booth.names import LocalNameSource, NoNameSource, read_bookings
from kiosk.config import StationConfig
from kiosk.errors import KioskError

log = logging.getLogger(__name__)


def read_aloud(text: str, language: str):
    """TEXT spoken by espeak-ng in LANGUAGE (nl, fr, en): mono float32 samples and their rate."""
    import io

    import soundfile

    from kiosk.speech import VOICES, WORDS_PER_MINUTE, espeak_wav

    samples, rate = soundfile.read(io.BytesIO(espeak_wav(text, VOICES[language], WORDS_PER_MINUTE)), dtype="float32", always_2d=True)
    return samples.mean(axis=1), int(rate)


def make_microphone(config: StationConfig, reading=None):
    """READING (what the participant reads now) lets a demo station's simulated microphone
    hear the name read aloud; every other simulated microphone hears room tone."""
    from hardware.devices import microphone_named

    if config.station.demo and reading is not None:
        return microphone_named(config.booth.microphone, reading=reading, synthesize=read_aloud)
    return microphone_named(config.booth.microphone)


def make_speaker(config: StationConfig):
    from hardware.devices import speaker_named

    return speaker_named(config.booth.speaker)


def make_controller(config: StationConfig):
    """`[booth] controller`: "none" (touch only), "simulated", or the controller's serial port."""
    from hardware.devices import controller_named
    from kiosk import __version__

    return controller_named(config.booth.controller, pty_path=config.data_dir / "controller.pty", station_version=__version__)


def make_controls(config: StationConfig, flow: BoothFlow, *, on_presence=None, on_key=None, controller=None):
    """The controller tied to the flow: lights follow the steps, the button starts and stops,
    the tactile keys go to ON_KEY (audio mode's guide)."""
    from exhibits.booth.controls import BoothControls

    return BoothControls(flow, controller or make_controller(config), on_presence=on_presence, on_key=on_key)


def make_store(config: StationConfig):
    from exhibits.booth.take_store import TakeStore

    store = TakeStore(config.data_dir / "takes", config.station.id)
    report = store.reconcile()
    log.info("takes reconciled", extra={"report": str(report)})
    return store


def make_flow(config: StationConfig, clock: Callable[[], float], *, microphone=None, speaker=None, collection=None) -> BoothFlow:
    """The booth's flow. COLLECTION: the one `kiosk run` read (kiosk.station.load_content),
    so it is not read a second time; None: read here."""
    from exhibits.booth.quality import analyze
    from kiosk.collection import load_collection

    store = make_store(config)
    try:
        if collection is None:
            collection = load_collection(config.collection_dir)
        if config.central.url:
            # Names come from the central store as leases, a few kept in hand for when
            # the network is down.
            from exhibits.booth.names import RemoteNameSource

            names = RemoteNameSource.for_station(config, collection=collection, voiced_here=store.voiced_person_ids).start()
        else:
            names = LocalNameSource(
                collection,
                voiced=store.voiced_person_ids(),
                bookings=read_bookings(config.data_dir / "bookings.csv"),
            )
    except KioskError as error:
        log.error("booth has no names", extra={"problem": error.message, "hint": error.hint})
        names = NoNameSource()
    flows: list[BoothFlow] = []

    def reading() -> tuple[str, str] | None:
        """The name the participant reads now, and their language (for a demo's reader)."""
        flow = flows[0] if flows else None
        return (flow.assignment.display_name, flow.language) if flow and flow.assignment else None

    flow = BoothFlow(
        clock=clock,
        names=names,
        microphone=microphone or make_microphone(config, reading),
        speaker=speaker or make_speaker(config),
        store=store,
        analyze=analyze,
        timing=Timing(countdown_s=config.booth.countdown_s, max_recording_s=config.booth.max_recording_s),
        max_takes=config.booth.max_takes,
        default_language=config.station.default_language,
    )
    flows.append(flow)
    return flow
