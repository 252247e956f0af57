"""The real booth end to end: a Kivy window under Xvfb touched through X, the PulseAudio
null sink as the microphone, espeak-ng reading the assigned name into it, the real check
and the real take store."""

from __future__ import annotations

import json
import threading

import pytest
import soundfile

from exhibits.booth.quality import analyze_file
from kiosk.config import load_station_config, write_station_config

pytestmark = [pytest.mark.gui, pytest.mark.audio, pytest.mark.slow]


@pytest.fixture
def booth_station(display, pulse, tmp_path):
    from kiosk.collection import write_demo

    write_demo(tmp_path / "collection", count=120, seed=3)
    folder = tmp_path / "booth"
    write_station_config(
        folder, exhibit="booth", station_id="booth-1", fullscreen=False, size=(1280, 800), collection="../collection"
    )
    toml = folder / "station.toml"
    text = toml.read_text(encoding="utf-8")
    # The microphone is the null sink's monitor, through ALSA's "pulse" device; "listen
    # back" goes to a simulated speaker so it cannot be heard by that microphone.
    text = text.replace('microphone = "default"', 'microphone = "pulse"').replace('speaker = "default"', 'speaker = "simulated"')
    toml.write_text(text, encoding="utf-8")
    config = load_station_config(toml)

    from kiosk.shell import prepare_kivy

    prepare_kivy(width=1280, height=800, fullscreen=False, kivy_home=tmp_path / "kivy", title="kiosk booth test")
    from kiosk.shell.app import StationApp
    from kiosk.shell.driver import StationDriver
    from kiosk.station import load_content

    app = StationApp(config, load_content(config.collection_dir))
    driver = StationDriver(app).start()
    yield driver, app, config
    driver.stop()


def test_a_participant_reads_the_name_and_the_take_is_kept(booth_station, pulse):
    driver, app, config = booth_station
    flow = app.booth.flow
    def tap_to(name: str, step: str) -> None:
        # On a loaded machine a touch can take a while to arrive: wait for what it does.
        driver.tap(name)
        driver.wait_until(lambda: flow.step.value == step, timeout=10, what=f"{name} to lead to {step}")

    driver.tap("attract")
    driver.wait_until(lambda: app.phase == "active", timeout=10, what="the visit to start")
    driver.tap("language-fr")
    driver.wait_until(lambda: app.lang == "fr", timeout=10, what="French")
    tap_to("booth-begin", "age")
    tap_to("age-18-plus", "consent")
    tap_to("consent-agree", "choose")
    tap_to("choose-next", "name")
    name = driver.find("person-name").text
    assert name == flow.assignment.display_name
    tap_to("name-continue", "sound_check")
    tap_to("soundcheck-ready", "countdown")
    driver.wait_until(lambda: flow.step.value == "recording", timeout=10, what="the recording to start")

    reader = threading.Thread(target=pulse.speak, args=(name, "nl"))
    reader.start()
    # The take ends by itself once the name is said and quiet follows.
    driver.wait_until(lambda: flow.step.value == "review", timeout=30, what="the take to end by itself")
    reader.join(timeout=30)
    assert flow.review.report.verdict == "ok", flow.review.report
    assert "Nous avons bien entendu le nom." == driver.find("review-reason").text

    driver.wait_until(lambda: app.screens.current == "review", timeout=10, what="the review screen")
    driver.tap("review-keep")
    driver.wait_until(lambda: flow.step.value == "thanks", timeout=10, what="the thank-you screen")
    code = flow.withdrawal_code
    first, second = code.split("-")
    assert driver.find("withdrawal-code").text == f"{first} – {second}", "large, in two groups"
    assert config.booth.contact in driver.find("withdraw-how").text

    [kept] = flow.store.queued()
    sidecar = json.loads(kept.sidecar_path.read_text(encoding="utf-8"))
    assert sidecar["person_id"] == flow.assignment.person_id
    assert sidecar["consent"]["language"] == "fr" and sidecar["consent"]["version"] == "2026-12"
    assert kept.audio_path.suffix == ".flac" and kept.audio_path.parent.parent == config.data_dir / "takes"
    info = soundfile.info(str(kept.audio_path))
    assert info.samplerate == 48_000 and info.subtype == "PCM_24"
    heard = analyze_file(kept.audio_path)
    assert heard.speech_start_s is not None and heard.loudness_lufs > -40, "the kept audio holds the speech"
    for field in ("name", "email", "reader", "contact"):
        assert field not in sidecar

    driver.tap("thanks-finish")
    driver.wait_until(lambda: app.phase == "attract" and flow.assignment is None, timeout=10, what="the end of the visit")
