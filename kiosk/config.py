"""Station configuration: one TOML file per station, validated before anything starts.

A technician edits `station.toml` by hand, so every mistake is reported with the file,
the key and what to write instead, and the station refuses to start rather than guess.
Relative paths are taken from the folder that holds the file, so a station folder can be
moved or copied whole. The enrollment token is read from its own file and never printed.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator

from kiosk.configbase import LANGUAGES, STATION_ID_PATTERN, FileConfig, Section, explain_problem, problem_location
from kiosk.errors import KioskError

EXHIBITS = ("booth", "wall", "memorial")


class StationSection(Section):
    id: Annotated[str, Field(pattern=STATION_ID_PATTERN)]
    exhibit: Literal["booth", "wall", "memorial"]
    languages: list[Literal["nl", "fr", "en"]] = Field(default_factory=lambda: list(LANGUAGES), min_length=1)
    default_language: Literal["nl", "fr", "en"] = "nl"
    # Written by `kiosk demo` only: simulated devices and "default" are then expected, and
    # the doctor passes them. Any other station names its devices themselves.
    demo: bool = False

    @field_validator("languages")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each language may be listed once")
        return value


class DisplaySection(Section):
    fullscreen: bool = True
    width: Annotated[int, Field(ge=640, le=7680)] = 1920
    height: Annotated[int, Field(ge=480, le=4320)] = 1080
    # A technician's remote view: the station saves what it shows to this PNG every so
    # often (0 = never). Relative to the station folder.
    snapshot_every_s: Annotated[float, Field(ge=0, le=3600)] = 0
    snapshot_path: str = "data/screen.png"


class IdleSection(Section):
    # WCAG 2.2.1 (timing adjustable): warn before ending a session, and leave at least
    # 20 seconds to answer with a simple action.
    warn_after_s: Annotated[float, Field(ge=10, le=3600)] = 60
    answer_within_s: Annotated[float, Field(ge=20, le=600)] = 30


class CollectionSection(Section):
    path: str = "collection"


class CentralSection(Section):
    url: str = ""
    token_file: str = ""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https:// (or be empty for a station without a central store)")
        return value.rstrip("/")


class DataSection(Section):
    dir: str = "data"


class BoothSection(Section):
    # The microphone and loudspeaker by (part of) their name as `kiosk doctor` lists them,
    # or "simulated" on a machine without them (the demo, tests).
    microphone: str = "default"
    speaker: str = "default"
    max_takes: Annotated[int, Field(ge=1, le=10)] = 3
    countdown_s: Annotated[float, Field(ge=1, le=10)] = 3
    max_recording_s: Annotated[float, Field(ge=5, le=60)] = 20
    # The controller with the big button, the lights and the presence sensor
    # (hardware/PROTOCOL.md): its serial port, "simulated" (the firmware on a pseudo-
    # terminal: demo, tests), or "none": the booth then works by touch alone.
    controller: str = "none"
    # Where a participant withdraws a recording, on the thank-you screen and in the consent
    # text beside "at the reception desk": an e-mail address or a web page of the museum.
    contact: Annotated[str, Field(min_length=3, max_length=60)] = "info@kazernedossin.eu"


class WallSection(Section):
    # Where a person's name is heard when a visitor asks for it: as [booth] speaker.
    speaker: str = "default"
    # How often the wall asks the central store which recordings staff approved.
    # Within a minute a withdrawn voice is gone from here (an unchanged list costs a 304).
    voices_refresh_s: Annotated[float, Field(ge=10, le=86_400)] = 60


# The gallery's opening hours: one file for the whole machine, written by the playbook and
# read by `dossin-hours` (deploy/bin) and the memorial (deploy/README.md, "Opening hours").
HOURS_FILE = "/etc/dossin/hours.conf"


class MemorialSection(Section):
    # The multichannel sound card by (part of) its name as `kiosk doctor` lists it, or
    # "simulated" (the demo, tests).
    output: str = "default"
    channels: Annotated[int, Field(ge=1, le=64)] = 2
    # Transport code -> loudspeaker (1 = the card's first channel). Transports not listed
    # go round the loudspeakers in transport order (see exhibits.memorial.playlist).
    channel_of: dict[str, Annotated[int, Field(ge=1, le=64)]] = Field(default_factory=dict)
    pause_s: Annotated[float, Field(ge=0, le=60)] = 1.0
    target_lufs: Annotated[float, Field(ge=-40, le=-10)] = -23.0
    peak_dbfs: Annotated[float, Field(ge=-20, le=0)] = -1.0
    # Within a minute a withdrawn voice is gone from here (an unchanged list costs a 304).
    refresh_s: Annotated[float, Field(ge=10, le=86_400)] = 60
    # When the memorial sounds: the gallery's hours file (relative paths: from station.toml's folder).
    hours_file: str = HOURS_FILE
    # A [memorial.hours] section, as every station.toml had before the hours file: no longer
    # read, and kept from stopping a station after an update; the doctor says to remove it.
    old_hours_section: bool = Field(default=False, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _hours_moved(cls, data: object) -> object:
        if isinstance(data, dict) and "hours" in data:
            data = {key: value for key, value in data.items() if key not in ("hours", "old_hours_section")}
            data["old_hours_section"] = True
        return data

    @field_validator("channel_of")
    @classmethod
    def _on_a_channel(cls, value: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        channels = info.data.get("channels")
        wrong = {code: channel for code, channel in value.items() if channels is not None and channel > channels}
        if wrong:
            raise ValueError(f"names channels beyond the {channels} of [memorial] channels: {wrong}")
        return value


class LogSection(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class SyncSection(Section):
    """How `kiosk sync run` talks to the central store (see `kiosk.link`)."""

    # A heartbeat tells the staff's overview the station is alive and how full its queue is.
    heartbeat_s: Annotated[float, Field(ge=5, le=3600)] = 60
    # Audio of takes the central store acknowledged stays this long (a second copy while
    # the store's own backups catch up), then `prune` removes it. Unsent takes never.
    keep_sent_days: Annotated[float, Field(ge=0, le=3650)] = 30
    # Names a booth holds leased from the central store, so it keeps working offline.
    # Keep it at least 2 below the store's [names] hand_size: a booking or a match needs room.
    names_in_hand: Annotated[int, Field(ge=0, le=20)] = 3
    # Retries after a server error or a broken connection: exponential with full jitter.
    retry_first_s: Annotated[float, Field(ge=0.01, le=60)] = 1
    retry_max_s: Annotated[float, Field(ge=0.1, le=3600)] = 300
    # An intact take the store calls invalid (422, e.g. its person not yet imported there)
    # is tried again this often, then left for a technician.
    invalid_retries: Annotated[int, Field(ge=0, le=100)] = 6
    invalid_retry_s: Annotated[float, Field(ge=1, le=86_400)] = 600
    # Longest the store may stay silent during one upload (connecting, sending, answering).
    upload_timeout_s: Annotated[float, Field(ge=1, le=3600)] = 60
    # Issue 18Y: uploads sent at once. Each streams its take in 64 KiB pieces, so memory
    # stays flat; more than 4 gains nothing on a store's two cores.
    uploads_in_flight: Annotated[int, Field(ge=1, le=4)] = 3

    @field_validator("retry_max_s")
    @classmethod
    def _cap_not_below_first(cls, value: float, info: ValidationInfo) -> float:
        first = info.data.get("retry_first_s")
        if first is not None and value < first:
            raise ValueError(f"must be at least retry_first_s ({first})")
        return value


class StationConfig(FileConfig):
    station: StationSection
    display: DisplaySection = Field(default_factory=DisplaySection)
    idle: IdleSection = Field(default_factory=IdleSection)
    collection: CollectionSection = Field(default_factory=CollectionSection)
    central: CentralSection = Field(default_factory=CentralSection)
    data: DataSection = Field(default_factory=DataSection)
    booth: BoothSection = Field(default_factory=BoothSection)
    wall: WallSection = Field(default_factory=WallSection)
    sync: SyncSection = Field(default_factory=SyncSection)
    memorial: MemorialSection = Field(default_factory=MemorialSection)
    log: LogSection = Field(default_factory=LogSection)

    @property
    def collection_dir(self) -> Path:
        return self.resolve(self.collection.path)

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.data.dir)

    def token(self) -> SecretStr | None:
        """The enrollment token, read when needed so it never sits in a printed config."""
        if not self.central.token_file:
            return None
        path = self.resolve(self.central.token_file)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise KioskError(
                f"{self.source}: [central] token_file {path} cannot be read ({error.strerror})",
                "run `kiosk central enroll` on the central store and save the token in that file",
            ) from error
        if not text:
            raise KioskError(f"{path} is empty", "paste the token printed by `kiosk central enroll` into it")
        return SecretStr(text)

    def describe(self) -> dict:
        """The settings as a technician may see them: no secret, only where it lives."""
        return self.model_dump(mode="json")


def parse_station_config(text: str, source: Path) -> StationConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise KioskError(f"{source}: not valid TOML: {error}", "fix the line named above; compare with `kiosk station init`") from error
    try:
        config = StationConfig.model_validate(raw)
    except ValidationError as error:
        lines = [f"{source}: {problem_location(e['loc'])} {explain_problem(e)}" for e in error.errors()]
        raise KioskError(
            f"{source} has {len(lines)} problem(s):\n  " + "\n  ".join(lines),
            "correct these settings; `kiosk station init` writes a file with every setting explained",
        ) from None
    config.source = source.resolve()
    return config


def load_station_config(path: str | Path) -> StationConfig:
    source = Path(path)
    if source.is_dir():
        source = source / "station.toml"
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KioskError(f"{source}: no such file", "give the path of a station.toml, or create one with `kiosk station init`") from None
    except UnicodeDecodeError as error:
        raise KioskError(f"{source}: not UTF-8 text (byte {error.start})", "save the file as UTF-8") from None
    except OSError as error:
        raise KioskError(f"{source}: cannot be read ({error.strerror})", "check the path and its permissions") from None
    return parse_station_config(text, source)


STATION_TEMPLATE = """\
# Kazerne Dossin gallery station, written by `kiosk station init`.
# Paths are relative to this file's folder. Check it with `kiosk doctor station.toml`.

[station]
id = {station_id}             # lowercase letters, digits, dashes; unique in the gallery
exhibit = {exhibit}           # booth, wall or memorial
languages = ["nl", "fr", "en"]  # offered to visitors, in this order
default_language = "nl"         # shown when nobody has chosen yet
{demo_line}
[display]
fullscreen = {fullscreen}
width = {width}                    # used when not full screen, and for screenshots
height = {height}
snapshot_every_s = {snapshot_every_s}            # > 0: save the screen to snapshot_path this often (remote view)
snapshot_path = "data/screen.png"

[idle]
warn_after_s = 60               # no touch for this long: "Are you still there?"
answer_within_s = 30            # then back to the start, forgetting the visitor (at least 20)

[collection]
path = {collection}           # the collection folder (see `kiosk collection check`)

[central]
url = {central_url}           # the central store; empty for a station on its own
token_file = {token_file}     # file holding this station's token from `kiosk central enroll`

[data]
dir = "data"                    # recordings, queues and caches of this station

[booth]                         # used by booth stations only
{microphone_seen}microphone = {microphone}           # part of the input device's name, or "simulated"
{speaker_seen}speaker = {speaker}              # part of the output device's name, or "simulated"
controller = {controller}         # serial port of the button-and-lights controller (/dev/dossin-controller), "simulated", or "none" (touch only)
max_takes = 3                   # tries a participant gets for one name
countdown_s = 3
max_recording_s = 20            # a take stops by itself after this long
contact = "info@kazernedossin.eu"  # where participants withdraw a recording with their code (shown with the reception desk)

[wall]                          # used by portrait walls only
{wall_speaker_seen}speaker = {wall_speaker}              # where a name read in the booth is heard: part of the device's name, or "simulated"
voices_refresh_s = 60           # ask the central store this often which recordings may be heard

[sync]                          # `kiosk sync run`: uploads to the central store
heartbeat_s = 60                # tell the central store how this station is doing this often
keep_sent_days = 30             # keep audio the central store acknowledged this long, then remove it
names_in_hand = 3               # booth: names leased ahead, so it keeps working offline
retry_first_s = 1               # first wait after a network or server error; doubles each time
retry_max_s = 300               # longest wait between retries
invalid_retries = 6             # an intact take the store calls invalid (422): tries before a technician must look
invalid_retry_s = 600           # wait between those tries
upload_timeout_s = 60           # longest the store may stay silent during one upload
uploads_in_flight = 3           # takes sent at once (1 to 4); each is streamed, memory stays flat

[memorial]                      # used by memorial stations only
{output_seen}output = {output}              # part of the multichannel output device's name, or "simulated"
channels = 2                    # output channels of that device: one loudspeaker each (the memorial: 28)
pause_s = 1.0                   # silence between two names, in seconds
target_lufs = -23               # every name is played at this loudness (EBU R 128)...
peak_dbfs = -1                  # ...but never with a peak above this: a name that would clip plays quieter
refresh_s = 60                  # ask the central store this often for newly approved and withdrawn recordings
hours_file = {hours_file}  # the gallery's opening hours, also read by dossin-hours (deploy/README.md): names sound only while open

[memorial.channel_of]           # loudspeaker of a transport, 1 = the first channel, e.g. XXIIA = 23
                                # transports not listed go round the loudspeakers in transport order

[log]
level = "INFO"                  # DEBUG, INFO, WARNING or ERROR
"""


DEVICE_SETTINGS = ("microphone", "speaker", "wall_speaker", "output")


def write_station_config(
    folder: Path,
    *,
    exhibit: str,
    station_id: str,
    central_url: str = "",
    token_file: str = "",
    collection: str = "collection",
    fullscreen: bool = True,
    size: tuple[int, int] = (1920, 1080),
    snapshot_every_s: float = 0,
    audio: str = "default",
    controller: str | None = None,
    devices: dict[str, tuple[str, list[str]]] | None = None,
    demo: bool = False,
    hours_file: str = HOURS_FILE,
) -> Path:
    """Write FOLDER/station.toml with working defaults; refuse to overwrite one.

    AUDIO names every device alike ("simulated" for tests); DEVICES gives, per setting of
    DEVICE_SETTINGS, the device chosen and comment lines saying what else there was
    (`kiosk station init`). DEMO marks a station `kiosk demo` made.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "station.toml"
    if target.exists():
        raise KioskError(f"{target} already exists", "edit it, or choose another folder")
    chosen = {setting: (audio, []) for setting in DEVICE_SETTINGS} | (devices or {})
    # json.dumps writes a valid TOML basic string, quotes and backslashes escaped.
    text = STATION_TEMPLATE.format(
        station_id=json.dumps(station_id),
        exhibit=json.dumps(exhibit),
        hours_file=json.dumps(hours_file, ensure_ascii=False),
        demo_line="demo = true                     # made by `kiosk demo`: simulated devices are expected here\n" if demo else "",
        central_url=json.dumps(central_url),
        token_file=json.dumps(token_file),
        collection=json.dumps(collection, ensure_ascii=False),
        fullscreen=json.dumps(fullscreen),
        width=size[0],
        height=size[1],
        snapshot_every_s=snapshot_every_s,
        # A station on simulated audio is a demo or a test: its controller is simulated too.
        controller=json.dumps(controller or ("simulated" if audio == "simulated" else "none")),
        **{setting: json.dumps(value, ensure_ascii=False) for setting, (value, _) in chosen.items()},
        **{f"{setting}_seen": "".join(f"{line}\n" for line in notes) for setting, (_, notes) in chosen.items()},
    )
    parse_station_config(text, target)  # never write a file we would refuse to read
    (folder / "data").mkdir(exist_ok=True)
    temporary = target.with_suffix(".toml.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
    return target
