"""`kiosk doctor`: what is wrong with a station, and what to do about it.

A technician in a dark gallery runs one command and reads one line per check: the
configuration, the microphone (it listens while the technician speaks), the speaker
(the booth's, the wall's, or the memorial's loudspeakers: a soft tone on each with
`play`), the booth controller (and its tactile keys), espeak-ng's voice for each
language the station offers (audio mode speaks with it), the disk, the clock, the central store and this
station's token, and the queue of takes to send. A device named "simulated", "default"
or "pulse" fails on any station `kiosk demo` did not make ([station] demo = true). Each
check says "ok", or what is wrong and what to do; one that cannot run because an
earlier one failed says so instead of guessing.

The checks touch the real devices but change nothing a visitor would notice beyond a
short soft tone; they are plain functions without Kivy, each returning a `Check`.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np

from kiosk.config import StationConfig, load_station_config
from kiosk.errors import KioskError

OK, WARN, FAIL, SKIPPED = "ok", "warn", "fail", "skipped"

LISTEN_S = 2.0  # how long the microphone check listens to the technician
FIRST_SOUND_TIMEOUT_S = 6.0  # the first block through a sound server took up to 2 s here
HEARD_DBFS = -45.0  # a voice at arm's length reads -30 to -10 in its loudest 50 ms
CLIPPING_DBFS = -1.0
TONE_DBFS = -30.0  # soft: the technician hears it, a visitor nearby hardly does
MIN_FREE_BYTES = 200 * 1024**2  # some 200 takes; below it a booth may not keep the next one
LOW_FREE_BYTES = 2 * 1024**3
MAX_CLOCK_OFFSET_S = 10.0
QUEUE_WARN = 20  # more takes than a busy day's waiting: sync is not running or not getting through
HTTP_TIMEOUT_S = 5.0


class Check(NamedTuple):
    name: str
    status: str  # ok, warn, fail, skipped
    detail: str
    fix: str | None = None

    def to_json(self) -> dict:
        return self._asdict()


Say = Callable[[str], None]  # tells the technician what to do now ("speak into the microphone")


def _quiet(_message: str) -> None:
    pass


def run_checks(station_toml: str | Path, *, say: Say = _quiet, play: bool = False) -> list[Check]:
    """Every check for the station in STATION_TOML, in the order a technician reads them.

    PLAY: the wall's speaker and the memorial's loudspeakers sound a soft tone (a booth's
    speaker always does); without it they are only looked for.
    """
    try:
        config = load_station_config(station_toml)
    except KioskError as error:
        return [Check("config", FAIL, error.message, error.hint)] + [
            Check(name, SKIPPED, "not checked: the configuration must be right first")
            for name in ("microphone", "speaker", "controller", "speech", "disk", "clock", "central", "token", "sync_queue")
        ]
    checks = [check_config(config)]
    booth = config.station.exhibit == "booth"
    checks.append(check_microphone(config, say) if booth else _not_a_booth("microphone"))
    if booth:
        checks.append(check_speaker(config))
    elif config.station.exhibit == "wall":
        checks.append(check_wall_speaker(config, play))
    else:
        checks.append(check_memorial_output(config, play, say))
    checks.append(check_controller(config) if booth else _not_a_booth("controller"))
    checks.append(check_speech(config) if config.station.exhibit != "memorial" else Check("speech", SKIPPED, "not a touch station: the memorial has no audio mode"))
    checks.append(check_disk(config.data_dir))
    health = _central_health(config)
    checks.append(check_clock(health))
    checks.append(check_central(config, health))
    checks.append(check_token(config, health))
    checks.append(check_sync_queue(config) if booth else _not_a_booth("sync_queue"))
    return checks


def check_config(config: StationConfig) -> Check:
    what = f"{config.source}: {config.station.exhibit} {config.station.id}"
    if config.station.exhibit == "memorial":
        from exhibits.memorial.playlist import OpeningHours

        try:
            OpeningHours.from_file(config.resolve(config.memorial.hours_file))
        except KioskError as error:
            return Check("config", FAIL, f"{what}: {error.message}", error.hint)
    if config.memorial.old_hours_section:
        from kiosk.config import HOURS_FILE

        return Check("config", WARN, f"{what}; its [memorial.hours] is no longer read",
                     f"remove [memorial.hours] from station.toml: the gallery's opening hours live in {HOURS_FILE} "
                     "(deploy/README.md, \"Opening hours\"; the playbook writes it from dossin_opening_hours)")
    return Check("config", OK, what)


def _not_a_booth(name: str) -> Check:
    return Check(name, SKIPPED, "not a booth: this station has none")


def _station_status(config: StationConfig):
    from kiosk.link.status import STALE, UNKNOWN, read_station_status

    status = read_station_status(config.data_dir)
    return None if status.audio_state in (STALE, UNKNOWN) else status


# -- audio -------------------------------------------------------------------------------


def _stand_in(config: StationConfig, check: str, setting: str, value: str) -> Check | None:
    """A FAIL when VALUE names no device of its own on a station that is not a demo;
    an OK for a simulated device on a demo station; None when the real check should run."""
    from hardware.device_names import is_stand_in

    if not is_stand_in(value):
        return None
    if config.station.demo:
        return Check(check, OK, f"simulated ({setting}: a station made by `kiosk demo`)") if value == "simulated" else None
    return Check(
        check, FAIL,
        f"{setting} is {value!r}: a gallery station must name the device itself, or a lost device "
        "is silently replaced by another (or by none)",
        f"write part of the device's name in {setting} (`python -m sounddevice` lists them; "
        "`kiosk station init` wrote those it saw in a comment); only a station made by `kiosk demo` "
        "([station] demo = true) may use \"simulated\", \"default\" or \"pulse\"",
    )


def check_microphone(config: StationConfig, say: Say) -> Check:
    from hardware.audio.api import DeviceError
    from hardware.audio.portaudio import SoundDeviceMicrophone

    name = config.booth.microphone
    stand_in = _stand_in(config, "microphone", "[booth] microphone", name)
    if stand_in is not None:
        return stand_in
    where = "set [booth] microphone in station.toml to a part of its name as listed"
    microphone = SoundDeviceMicrophone(name, retry_interval=0.5)
    try:
        try:
            microphone.open()
        except DeviceError as error:
            return Check("microphone", FAIL, str(error), f"plug the microphone in and switch it on; {where}")
        deadline = time.monotonic() + FIRST_SOUND_TIMEOUT_S
        # Only wait: check() would call a slow first block a stall and reopen the device.
        heard = microphone.level()  # None until a block came; each call takes the newest
        while heard is None and time.monotonic() < deadline:
            time.sleep(0.05)
            heard = microphone.level()
        if heard is None:
            return Check("microphone", FAIL, f"{name!r} opens but delivers no sound",
                         "check its cable and, for a USB microphone, plug it into another port; restart the sound server (or the station)")
        say(f"microphone: speak into the microphone now, for {LISTEN_S:g} seconds")
        microphone.start_capture()
        time.sleep(LISTEN_S)
        capture = microphone.stop_capture()
    finally:
        microphone.close()
    if capture.lost:
        return Check("microphone", FAIL, f"{name!r} was lost while listening", "check its cable and power, then run the doctor again")
    loudest = _loudest_dbfs(capture.samples, capture.sample_rate)
    if loudest < HEARD_DBFS:
        return Check("microphone", FAIL, f"{name!r} heard nothing louder than {loudest:.0f} dBFS in {LISTEN_S:g} s",
                     "speak during the check; if you did, check the mute switch, the cable and the input gain")
    if loudest > CLIPPING_DBFS:
        return Check("microphone", WARN, f"{name!r} is too loud: {loudest:.0f} dBFS, voices will clip",
                     "turn the input gain down until speaking at arm's length reads about -20 dBFS")
    return Check("microphone", OK, f"{name!r} heard you at {loudest:.0f} dBFS (loudest moment; -30 to -10 is good)")


def _loudest_dbfs(samples: np.ndarray, rate: int, window_s: float = 0.05) -> float:
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    size = max(1, int(rate * window_s))
    usable = (len(mono) // size) * size
    if usable == 0:
        return -120.0
    rms = np.sqrt(np.mean(np.square(mono[:usable].reshape(-1, size).astype(np.float64)), axis=1)).max()
    return float(20 * np.log10(max(rms, 1e-6)))


def check_speaker(config: StationConfig) -> Check:
    name = config.booth.speaker
    stand_in = _stand_in(config, "speaker", "[booth] speaker", name)
    if stand_in is not None:
        return stand_in
    return _play_tone(name, "[booth] speaker")


def _soft_tone(rate: int = 48_000) -> np.ndarray:
    times = np.arange(int(0.4 * rate)) / rate
    fade = np.minimum(1.0, np.minimum(times, times[-1] - times) / 0.05)  # no click at either end
    return (np.sin(2 * np.pi * 440 * times) * fade * 10 ** (TONE_DBFS / 20)).astype(np.float32)


def _play_tone(name: str, setting: str) -> Check:
    from hardware.audio.api import DeviceError
    from hardware.audio.portaudio import SoundDeviceSpeaker

    rate = 48_000
    tone = _soft_tone(rate)
    speaker = SoundDeviceSpeaker(None if name == "default" else name)
    try:
        speaker.play(tone, rate)
        deadline = time.monotonic() + 3.0
        while speaker.playing() and time.monotonic() < deadline:
            time.sleep(0.05)
    except DeviceError as error:
        return Check("speaker", FAIL, str(error), f"plug the speaker or headphones in; set {setting} in station.toml to a part of its name as listed")
    finally:
        speaker.stop()
    return Check("speaker", OK, f"played a short soft tone on {name!r}: if you heard nothing, check its volume and cable")


def check_wall_speaker(config: StationConfig, play: bool) -> Check:
    """The wall's speaker, where a name read in the booth is heard: looked for, or with PLAY a soft tone."""
    from hardware.audio.api import DeviceError
    from hardware.audio.portaudio import find_device

    name = config.wall.speaker
    stand_in = _stand_in(config, "speaker", "[wall] speaker", name)
    if stand_in is not None:
        return stand_in
    if play:
        return _play_tone(name, "[wall] speaker")
    try:
        if name != "default":
            find_device(name, "output")
    except DeviceError as error:
        return Check("speaker", FAIL, str(error), "plug the speaker in; set [wall] speaker in station.toml to a part of its name as listed")
    return Check("speaker", OK, f"{name!r} is there (`kiosk doctor --play` sounds a soft tone on it)")


MEMORIAL_GAP_S = 0.3  # between two loudspeakers' tones, so a technician hears each apart


def check_memorial_output(config: StationConfig, play: bool, say: Say) -> Check:
    """The memorial's card: its channels; with PLAY a soft tone from each loudspeaker in turn."""
    from hardware.audio.api import DeviceError
    from hardware.audio.portaudio import _sounddevice, find_device
    from hardware.multichannel.api import Clip
    from hardware.multichannel.portaudio import SoundDeviceMultichannel

    name, channels = config.memorial.output, config.memorial.channels
    stand_in = _stand_in(config, "speaker", "[memorial] output", name)
    if stand_in is not None:
        return stand_in
    plug = "switch the sound card and its amplifiers on and check its USB cable; set [memorial] output to a part of its name as listed"
    try:
        info = _sounddevice().query_devices(find_device(name, "output"))
    except DeviceError as error:
        return Check("speaker", FAIL, str(error), plug)
    has = int(info["max_output_channels"])
    if has < channels:
        return Check("speaker", FAIL, f"{info['name']!r} has {has} channels, not the {channels} of [memorial] channels",
                     "name the multichannel card in [memorial] output, or lower [memorial] channels (transports then share loudspeakers)")
    if not play:
        return Check("speaker", OK, f"{name!r} has {has} channels for the {channels} loudspeakers (`kiosk doctor --play` sounds a soft tone on each)")
    output = SoundDeviceMultichannel(name, channels, retry_interval=1.0)
    output.set_pause(MEMORIAL_GAP_S)
    tone = _soft_tone(output.sample_rate)
    try:
        output.open()
    except DeviceError as error:
        return Check("speaker", FAIL, str(error), plug)
    ended: set[int] = set()
    try:
        say(f"speaker: listen to each loudspeaker, 1 to {channels}: a soft tone from each in turn")
        for channel in range(channels):
            output.queue(Clip(tone, channel, tag=channel))
        deadline = time.monotonic() + FIRST_SOUND_TIMEOUT_S + channels * (len(tone) / output.sample_rate + MEMORIAL_GAP_S) * 3
        while len(ended) < channels and time.monotonic() < deadline and output.last_problem is None:
            ended.update(event.tag for event in output.events() if event.kind == "end")
            time.sleep(0.05)
        time.sleep(0.5)  # the last tone still in the card's buffer
    finally:
        output.close()
    if len(ended) < channels:
        problem = output.last_problem or f"only {len(ended)} of {channels} tones were played in time"
        return Check("speaker", FAIL, f"{name!r}: {problem}", plug)
    return Check("speaker", OK, f"played a soft tone on each of the {channels} channels of {name!r}, 1 to {channels}: "
                 "a loudspeaker you did not hear needs its cable, its amplifier or [memorial] channel_of checked")


# -- the controller ----------------------------------------------------------------------


def check_controller(config: StationConfig) -> Check:
    import serial

    from hardware.controller import protocol
    from hardware.controller.link import hello_round_trip

    port = config.booth.controller
    if port == "none":
        return Check("controller", OK, "none configured: the booth works by touch alone (set [booth] controller to its port to use one)")
    if port == "simulated":
        return Check("controller", OK, "simulated (the firmware on a pseudo-terminal inside the booth: a demo or a test)")
    flash = "flash this release's firmware onto the board (hardware/PROTOCOL.md, \"Installing the firmware\")"
    try:
        info, seconds = hello_round_trip(port)
    except TimeoutError:
        return Check("controller", FAIL, f"{port} answers nothing to HELLO",
                     f"check it is the controller (`ls -l /dev/serial/by-id/`); unplug it and plug it back; {flash}")
    except (serial.SerialException, OSError, ValueError) as error:
        if not os.path.exists(port):
            return Check("controller", FAIL, f"no controller at {port}",
                         "plug the controller's USB cable in (its LED blinks when it has power); the udev rule in "
                         "hardware/PROTOCOL.md gives it that name; without a controller set [booth] controller = \"none\"")
        status = _station_status(config)
        if status is not None and status.controller_state == "connected":
            return Check("controller", OK, f"{port} is in use by the running booth, which reports it connected")
        in_use = "lock" in str(error) or getattr(error, "errno", None) in (errno.EBUSY, errno.EAGAIN)
        if in_use:
            reported = f" (the booth reports it {status.controller_state})" if status is not None else ""
            return Check("controller", FAIL, f"{port} is in use by another program{reported}",
                         f"find it with `fuser -v {port}`; stop it, or restart the booth")
        return Check("controller", FAIL, f"{port} cannot be opened: {error}",
                     "check the port's permissions (the station's user must be in the dialout group) and the cable")
    if info.protocol_version != protocol.PROTOCOL_VERSION:
        return Check("controller", FAIL, f"{port} speaks protocol {info.protocol_version}, this station {protocol.PROTOCOL_VERSION}", flash)
    answered = f"{port} answered in {seconds * 1000:.0f} ms: firmware {info.firmware_version} on {info.board}, protocol {info.protocol_version}"
    if not info.has_tactile_keys:
        # The booth still works (by touch, the button starts and stops), but a participant
        # who cannot see the screen has no way through it.
        return Check("controller", WARN, f"{answered}; it has no tactile keys (previous, next, select), so audio mode can only be used by touch",
                     f"{flash}: firmware 1.1 or later, with the three keys wired to GP10, GP11 and GP12 (hardware/PROTOCOL.md, \"Wiring\")")
    return Check("controller", OK, f"{answered}, with its tactile keys (previous, next, select)")


# -- speech --------------------------------------------------------------------------------


SPEECH_TEST = {"nl": "Elke naam telt", "fr": "Chaque nom compte", "en": "Every name counts"}


def check_speech(config: StationConfig) -> Check:
    """espeak-ng speaks each language the station offers: audio mode needs it (nothing
    is played; the words are only made)."""
    from kiosk.speech import SpeechCache, SpeechUnavailable, voice_for

    cache = SpeechCache(None)  # made fresh, never from the station's cache: espeak-ng itself is checked
    spoken = []
    for language in config.station.languages:
        try:
            made = cache.get(SPEECH_TEST[language], language)
        except SpeechUnavailable as error:
            return Check("speech", FAIL, f"audio mode cannot speak {language}: {error.message}", error.hint)
        if made.seconds < 0.3 or not np.any(made.samples):
            return Check("speech", FAIL, f"espeak-ng's voice {voice_for(language)} made no sound for {language}",
                         "reinstall espeak-ng-data (apt-get install --reinstall espeak-ng-data); `espeak-ng -v "
                         f"{voice_for(language)} test` must speak")
        spoken.append(f"{language} ({voice_for(language)}, {made.seconds:.1f} s)")
    return Check("speech", OK, f"espeak-ng speaks {', '.join(spoken)}")


# -- disk, clock, central store ----------------------------------------------------------------


def check_disk(data_dir: Path) -> Check:
    folder = data_dir if data_dir.exists() else data_dir.parent
    make_room = (
        "make room on that disk: `kiosk sync run --once` sends the queued takes (sent audio is removed "
        "after [sync] keep_sent_days); remove other large files; never delete data/takes by hand"
    )
    try:
        usage = shutil.disk_usage(folder)
    except OSError as error:
        return Check("disk", FAIL, f"{folder}: {error.strerror}", "create the data folder, or correct [data] dir in station.toml")
    free = _size(usage.free)
    try:
        # A filesystem can report room and still refuse a write (read-only, out of inodes).
        probe = folder / ".doctor-probe"
        with open(probe, "wb") as handle:
            handle.write(b"\0" * 65536)
            handle.flush()
            os.fsync(handle.fileno())
        probe.unlink()
    except OSError as error:
        try:
            (folder / ".doctor-probe").unlink(missing_ok=True)
        except OSError:
            pass
        if error.errno == errno.ENOSPC:
            return Check("disk", FAIL, f"{folder} is full ({free} free): no take can be kept", make_room)
        return Check("disk", FAIL, f"{folder} cannot be written: {error.strerror}",
                     "check the disk is mounted read-write and the station's user owns the data folder")
    if usage.free < MIN_FREE_BYTES:
        return Check("disk", FAIL, f"only {free} free for {folder}: soon no take can be kept", make_room)
    if usage.free < LOW_FREE_BYTES:
        return Check("disk", WARN, f"{free} free for {folder}", make_room)
    return Check("disk", OK, f"{free} free for {folder}")


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} bytes"


class Health(NamedTuple):
    """The central store's answer to GET /health, or why there was none."""

    url: str
    status_code: int | None
    server_time: datetime | None
    problem: str | None
    received_at: datetime


def _central_health(config: StationConfig) -> Health | None:
    if not config.central.url:
        return None
    import httpx

    url = f"{config.central.url}/api/v1/health"
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT_S)
    except httpx.HTTPError as error:
        return Health(url, None, None, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__, datetime.now(timezone.utc))
    try:
        server_time = parsedate_to_datetime(response.headers.get("date", ""))
    except (TypeError, ValueError):
        server_time = None
    return Health(url, response.status_code, server_time, None, datetime.now(timezone.utc))


def check_clock(health: Health | None) -> Check:
    now = datetime.now(timezone.utc)
    ntp = "turn on time synchronisation: `timedatectl set-ntp true`, and let the station reach an NTP server"
    if now.year < 2025:
        return Check("clock", FAIL, f"the clock says {now:%Y-%m-%d %H:%M} UTC", f"set the date: {ntp}")
    if health is not None and health.server_time is not None:
        offset = (health.received_at - health.server_time).total_seconds()
        if abs(offset) > MAX_CLOCK_OFFSET_S:
            side = "ahead of" if offset > 0 else "behind"
            return Check("clock", FAIL, f"{abs(offset):.0f} s {side} the central store's clock", ntp)
        return Check("clock", OK, f"{now:%Y-%m-%d %H:%M:%S} UTC, within {MAX_CLOCK_OFFSET_S:g} s of the central store")
    synchronised = _ntp_synchronised()
    if synchronised is False:
        return Check("clock", WARN, f"{now:%Y-%m-%d %H:%M:%S} UTC, not synchronised with a time server", ntp)
    return Check("clock", OK, f"{now:%Y-%m-%d %H:%M:%S} UTC" + (", synchronised" if synchronised else " (no time server to compare with)"))


def _ntp_synchronised() -> bool | None:
    if shutil.which("timedatectl") is None:
        return None
    try:
        answer = subprocess.run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = answer.stdout.strip()
    return None if answer.returncode != 0 or value not in ("yes", "no") else value == "yes"


def check_central(config: StationConfig, health: Health | None) -> Check:
    if health is None:
        return Check("central", OK, "none configured: a station on its own ([central] url is empty)")
    if health.status_code is None:
        return Check("central", FAIL, f"{config.central.url} cannot be reached: {health.problem}",
                     "check the network cable and [central] url in station.toml; on the central store, is `kiosk central serve` running?")
    if health.status_code != 200:
        return Check("central", FAIL, f"{health.url} answered {health.status_code}",
                     "see the central store's log (`journalctl -u` its service); its database may be down")
    return Check("central", OK, f"{config.central.url} is reachable")


def check_token(config: StationConfig, health: Health | None) -> Check:
    if health is None:
        return Check("token", SKIPPED, "no central store")
    enroll = (f"on the central store run `kiosk central enroll --config central.toml {config.station.id}` "
              f"and save the token it prints in {config.resolve(config.central.token_file or 'token')}")
    # The file is read whether or not the store answers: a missing token must not wait
    # for the network to come back to be noticed.
    try:
        token = config.token()
    except KioskError as error:
        return Check("token", FAIL, error.message, error.hint)
    if token is None:
        return Check("token", FAIL, "[central] token_file is empty, so the store will refuse this station", f"{enroll}, and name that file in [central] token_file")
    if health.status_code != 200:
        return Check("token", SKIPPED, f"{config.resolve(config.central.token_file)} is readable; not checked with the central store: it must be reachable first")
    import httpx

    try:
        response = httpx.get(f"{config.central.url}/api/v1/leases", headers={"Authorization": f"Bearer {token.get_secret_value()}"}, timeout=HTTP_TIMEOUT_S)
    except httpx.HTTPError as error:
        return Check("token", FAIL, f"the central store did not answer: {error}", "run the doctor again; if it persists, check the central store's log")
    if response.status_code == 401:
        return Check("token", FAIL, f"the central store refuses this station's token ({config.resolve(config.central.token_file)})", enroll)
    if response.status_code == 403:
        return Check("token", FAIL, f"the token is valid but not for {config.station.id}", f"the token file belongs to another station: {enroll}")
    if response.status_code != 200:
        return Check("token", FAIL, f"the central store answered {response.status_code} to a signed request", "see the central store's log")
    return Check("token", OK, f"accepted for {config.station.id}")


def check_sync_queue(config: StationConfig) -> Check:
    from kiosk.link.outbox import Outbox
    from kiosk.link.prune import sync_counts

    try:
        counts = sync_counts(Outbox(config.data_dir / "takes", config.station.id))
    except (KioskError, OSError) as error:
        return Check("sync_queue", FAIL, f"the take store cannot be read: {error}", "see the disk check above; check the data folder's owner")
    detail = f"{counts['queued']} queued, {counts['sent']} sent, {counts['failed']} failed"
    if counts["failed"]:
        return Check("sync_queue", FAIL, detail,
                     "takes the central store refused for good wait in data/takes: its log (`kiosk sync run`) says why; fix that and they are sent again")
    if counts["queued"] > QUEUE_WARN:
        where = "the central store" if config.central.url else "a central store ([central] url is empty)"
        return Check("sync_queue", WARN, detail, f"is `kiosk sync run` running for this station, and does it reach {where}?")
    return Check("sync_queue", OK, detail)
