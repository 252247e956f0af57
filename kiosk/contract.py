"""The contract between the stations and the central store: the one description of what
travels between them (CONTRACT.md, "Recording upload").

Both sides import these models: the store's API validates requests and describes its
answers with them (`kiosk.central.api`, served at /openapi.json), and the station's link
(`kiosk.link`) builds what it sends and reads what it gets from them. A field added here
is added for both; nothing else in the project spells these shapes out again.

- `UploadMetadata` (with `Consent`): the `metadata` part of `PUT /api/v1/recordings/{id}`.
- `ClaimIn`, `LeaseOut`, `LeasesOut`: `POST/GET /api/v1/leases`.
- `HeartbeatIn`, `HeartbeatOut`: `POST /api/v1/heartbeats`.
- `VoiceOut`, `VoicesOut`: `GET /api/v1/voices`.
- `HealthOut`, `RecordingOut`, `Problem`: the other answers.
- The codes people type (withdrawal and booking codes): `CODE_ALPHABET`, `normalise_code`,
  and what travels of a withdrawal code instead of the code: `withdrawal_code_hash`.

It imports nothing of the project but the configuration base, so either side can load it
alone.

Wire change of issue 18Y (for CONTRACT.md, "Recording upload"): the `metadata` part
carries `withdrawal_code_hash` (64 lowercase hex: `withdrawal_code_hash` below, scrypt
N=2^14 r=8 p=1 dklen=32 of the canonical code ABCD-2345, salted with the first 16 bytes
of SHA-256("kazerne-dossin/withdrawal-code/v2/salt" NUL code)) instead of
`withdrawal_code`; a hash that is not 64 lowercase hex is refused with 422. The store
still takes `withdrawal_code` from booths of before and hashes it the same way; when
both come, the hash is kept and the code dropped. Neither is kept in the stored metadata.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import math
import re
import uuid
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from kiosk.configbase import LANGUAGES, STATION_ID_PATTERN

MAX_JSON_DEPTH = 32
INT32 = 2**31 - 1
INT64 = 2**63 - 1

AGE_BANDS = ("9-12", "13-17", "18+")
MIN_AGE, MAX_AGE = 9, 120
"""A participant's own age, to be matched on ("my age"): 9 or older, 120 bounds a typo."""
UNDER_13 = "9-12"
SCHEMA_VERSION = 1

# Crockford's idea: no 0/O, 1/I/L (read one for the other) and no U (no accidental
# words). 30 symbols, 8 of them: 6.6e11 codes. Withdrawal and booking codes alike.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 8


def normalise_code(text: str) -> str | None:
    """The canonical ABCD-2345 form of a code as a person typed it, or None if it is not one.

    Case, spaces and dashes do not matter.
    """
    raw = re.sub(r"[\s\-]", "", str(text)).upper()
    if len(raw) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in raw):
        return None
    return f"{raw[:4]}-{raw[4:]}"


# Issue 18Y: the withdrawal code's scrypt hash, computed by the booth, is what travels.
# scrypt as OWASP's minimum for it (N=2^14, r=8: 16 MiB, about 40 ms); the salt is drawn
# from the code itself, so that anyone holding the code finds the hash with one scrypt
# and nobody else can learn the code from it faster than by trying codes one by one
# (see `kiosk.central.codes` for the reasoning). Changing any of this is a new scheme:
# a new domain string, and the store must still look up the old one.
WITHDRAWAL_HASH_SCHEME = "scrypt-v2"
_WITHDRAWAL_SALT_DOMAIN = b"kazerne-dossin/withdrawal-code/v2/salt\x00"
WITHDRAWAL_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32, "maxmem": 64 * 1024 * 1024}
WITHDRAWAL_HASH_PATTERN = r"^[0-9a-f]{64}$"


def withdrawal_code_hash(code: str) -> str:
    """What leaves the booth of a withdrawal code: hex scrypt, salted per code.

    `code` is taken as a person typed it (case, spaces and dashes do not matter);
    ValueError when it is not a code.
    """
    canonical = normalise_code(code)
    if canonical is None:
        raise ValueError("not a withdrawal code like ABCD-2345")
    salt = hashlib.sha256(_WITHDRAWAL_SALT_DOMAIN + canonical.encode("ascii")).digest()[:16]
    return hashlib.scrypt(canonical.encode("ascii"), salt=salt, **WITHDRAWAL_SCRYPT).hex()


def _storable_text(value: str) -> str:
    """Refuse what no database stores as text: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


StorableText = Annotated[str, AfterValidator(_storable_text)]


def check_json_value(value: Any, depth: int = 0) -> None:
    """Refuse JSON the databases cannot keep: NUL and surrogates in text, NaN, deep nesting."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        _storable_text(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("holds a number that is not finite")
    elif isinstance(value, dict):
        for key, inner in value.items():
            _storable_text(key)
            check_json_value(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            check_json_value(inner, depth + 1)


class Consent(BaseModel):
    """The terms the participant agreed to, as the booth's sidecar records them."""

    model_config = ConfigDict(extra="allow")

    version: Annotated[StorableText, Field(min_length=1, max_length=64)]
    language: Literal[LANGUAGES]
    age_band: Literal[AGE_BANDS]
    guardian_confirmed: bool

    @model_validator(mode="after")
    def _guardian_for_children(self) -> Consent:
        if self.age_band == UNDER_13 and not self.guardian_confirmed:
            raise ValueError("a participant aged 9-12 needs a parent's or guardian's consent (guardian_confirmed)")
        return self


class UploadMetadata(BaseModel):
    """The `metadata` part of an upload: the booth's sidecar (`kiosk.link.outbox`).

    Fields beyond these (schema_version, channels, format, subtype, ...) are kept as sent.
    """

    model_config = ConfigDict(extra="allow")

    person_id: Annotated[StorableText, Field(min_length=1, max_length=200)]
    station_id: Annotated[str, Field(pattern=STATION_ID_PATTERN)]
    recorded_at: AwareDatetime
    duration_s: Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)]
    sample_rate: Annotated[int, Field(ge=1000, le=768_000)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    size_bytes: Annotated[int, Field(ge=1, le=2**40)]
    consent: Consent
    quality: dict[str, Any]
    # Issue 18Y: a booth sends `withdrawal_code_hash` (see `withdrawal_code_hash`) and
    # never the code; the plain `withdrawal_code` is still taken from booths of before.
    withdrawal_code: Annotated[StorableText, Field(max_length=32)] | None = None
    withdrawal_code_hash: Annotated[str, Field(pattern=WITHDRAWAL_HASH_PATTERN)] | None = None
    recording_id: uuid.UUID | None = None

    @field_validator("recorded_at")
    @classmethod
    def _plausible_moment(cls, value: datetime) -> datetime:
        if not 2000 <= value.year <= 2200:
            raise ValueError("is not a plausible moment for a recording")
        return value.astimezone(timezone.utc)

    @field_validator("withdrawal_code")
    @classmethod
    def _a_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        canonical = normalise_code(value)
        if canonical is None:
            raise ValueError("is not a withdrawal code like ABCD-2345")
        return canonical


# The fields of an upload's metadata a station sends, and those that say what the audio
# is. Named one by one, so a field a later sidecar gains never leaves the station unless
# it is added here. Never the plain withdrawal code: only its hash leaves the booth.
UPLOAD_FIELDS = tuple(
    name for name in (*UploadMetadata.model_fields, "schema_version", "channels", "format", "subtype")
    if name != "withdrawal_code"
)


class _Request(BaseModel):
    # Fields a newer station adds are ignored, so it still talks to an older store.
    model_config = ConfigDict(extra="ignore")


class ClaimIn(_Request):
    how: Literal["next", "match", "booking"]
    count: Annotated[int, Field(ge=1, le=100, description='Names wanted ("next" only; the others give one).')] = 1
    first_name: Annotated[StorableText, Field(max_length=100)] | None = None
    birthday: Annotated[str, Field(pattern=r"^\d{2}-\d{2}$", description="MM-DD")] | None = None
    age: Annotated[
        int, Field(strict=True, ge=MIN_AGE, le=MAX_AGE, description="The participant's age, a whole number.")
    ] | None = None
    code: Annotated[StorableText, Field(max_length=32)] | None = None

    @field_validator("birthday")
    @classmethod
    def _a_day(cls, value: str | None) -> str | None:
        if value is None:
            return None
        month, day = (int(part) for part in value.split("-"))
        # A leap year, so that 29 February, a real birthday, is allowed.
        if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:
            raise ValueError("is not a day of the year (MM-DD)")
        return value

    @model_validator(mode="after")
    def _what_to_match(self) -> ClaimIn:
        if self.how == "match" and not ((self.first_name or "").strip() or self.birthday or self.age is not None):
            raise ValueError('"match" needs a first_name, a birthday or an age')
        if self.how == "booking" and not (self.code or "").strip():
            raise ValueError('"booking" needs the code')
        return self

    def birthday_tuple(self) -> tuple[int, int] | None:
        if self.birthday is None:
            return None
        month, day = self.birthday.split("-")
        return int(month), int(day)


class LeaseOut(BaseModel):
    lease_id: uuid.UUID
    person_id: str
    expires_at: datetime
    how: Literal["next", "match", "booking"]
    surname: str
    given_names: str
    transport: str
    list_number: int
    birth_date: str | None
    birth_place: str
    fictional: bool
    sex: Literal["f", "m", ""] = ""  # so the booth's lines agree with the person (née, partie)


class LeasesOut(BaseModel):
    leases: list[LeaseOut]


SCREEN_BASE64_MAX = 400_000  # a picture of about 300 kB; stations send a few tens of kB
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class HeartbeatIn(_Request):
    version: Annotated[StorableText, Field(max_length=64)]
    queue_length: Annotated[int, Field(ge=0, le=INT32)]
    free_disk_bytes: Annotated[int, Field(ge=0, le=INT64)]
    audio_state: Annotated[StorableText, Field(max_length=64)]
    controller_state: Annotated[StorableText, Field(max_length=64)]
    input_overflows: Annotated[int, Field(ge=0, le=INT64)]
    # Issue 14: the station program's own devices and whether it runs, and a small
    # picture of its screen (see kiosk.central.station_health).
    devices: Annotated[
        dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")], Annotated[StorableText, Field(max_length=64)]],
        Field(max_length=8, description="Device name -> state word, as the station's program wrote them."),
    ] | None = None
    program: Literal["running", "stopped"] | None = None
    program_seen_at: AwareDatetime | None = None
    screen_png: Annotated[str, Field(max_length=SCREEN_BASE64_MAX, description="The screen, PNG, base64.")] | None = None
    screen_taken_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _a_picture(self) -> HeartbeatIn:
        if self.screen_png is not None:
            try:
                png = base64.b64decode(self.screen_png, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("screen_png is not base64") from None
            if not png.startswith(PNG_SIGNATURE):
                raise ValueError("screen_png is not a PNG picture")
            if self.screen_taken_at is None:
                raise ValueError("screen_taken_at must come with screen_png")
        return self

    def screen(self) -> tuple[datetime, bytes] | None:
        """The picture, decoded, and when it was taken; None when none came."""
        if self.screen_png is None or self.screen_taken_at is None:
            return None
        return self.screen_taken_at, base64.b64decode(self.screen_png)


class HeartbeatOut(BaseModel):
    received_at: datetime


class DiskOut(BaseModel):
    free_bytes: int
    needed_bytes: int = Field(description="Room one upload may need ([server] max_upload_mb).")
    can_take: bool = Field(description="Whether an upload fits now.")


class HealthOut(BaseModel):
    status: Literal["ok", "disk_full"]
    version: str
    time: datetime
    database: str
    free_disk_bytes: int
    disk: DiskOut


class RecordingOut(BaseModel):
    recording_id: uuid.UUID
    status: Literal["received", "approved", "rejected", "withdrawn"]
    sha256: str
    size_bytes: int
    received_at: datetime


class VoiceOut(BaseModel):
    person_id: str
    recording_id: uuid.UUID
    sha256: str
    size_bytes: int
    duration_s: float
    surname: str
    given_names: str
    transport: str
    transport_position: int
    list_number: int
    approved_at: datetime


class VoicesOut(BaseModel):
    persons: int = Field(description="Persons in the collection (the 25,843).")
    names_with_voice: int = Field(description="Persons with a received or approved recording.")
    voices: list[VoiceOut]


REFUSAL_CODES = (
    "name_taken_elsewhere",
    "name_has_voice",
    "disk_full",
    "wrong_role",
    "audio_not_flac",
    "audio_too_short",
    "audio_too_long",
    "audio_duration_differs",
    "audio_rate_differs",
)
"""The `code` of a refusal a station acts on by itself (see kiosk.central.errors)."""


class Problem(BaseModel):
    detail: str | list[dict[str, Any]]  # a list for FastAPI's own validation errors
    code: str | None = Field(default=None, description="Why, for a station to act on: " + ", ".join(REFUSAL_CODES) + ".")


LEASE_PERSON_FIELDS = tuple(name for name in LeaseOut.model_fields if name not in ("lease_id", "person_id", "expires_at", "how"))
"""What a lease says of its person, for the booth's screens."""


# -- bookings (the museum's booking system: /api/v1/bookings) -------------------------

MAX_GROUP = 6
"""A school group reads with at most six participants, with a member of staff."""


def birthday_problem(text: str) -> str | None:
    """Why `text` is not a birthday (MM-DD), or None when it is one (29 February is)."""
    parts = text.split("-")
    if len(parts) != 2 or not all(len(part) == 2 and part.isascii() and part.isdigit() for part in parts):
        return f"birthday {text!r} is not MM-DD (for example 04-19 for 19 April)"
    month, day = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        return f"birthday {text!r} is not a day of the year (MM-DD: month first)"
    return None


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: Annotated[StorableText, Field(max_length=100, description="Matched as the wall's search folds it.")] | None = None
    birthday: Annotated[str, Field(max_length=5, description="MM-DD")] | None = None
    age: Annotated[int, Field(strict=True, ge=MIN_AGE, le=MAX_AGE, description="Whole years.")] | None = None

    @field_validator("birthday")
    @classmethod
    def _a_day(cls, value: str | None) -> str | None:
        problem = birthday_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    language: Literal["nl", "fr", "en"] = "nl"
    participants: Annotated[
        list[ParticipantIn],
        Field(min_length=1, max_length=MAX_GROUP, description=f"One per participant, 1 to {MAX_GROUP} (a group)."),
    ]


class BookingOut(BaseModel):
    code: str = Field(description="ABCD-2345; the participant types it at the booth.")
    person_id: str
    name: str
    matched_on: Literal["first_name", "birthday", "age", "next"] | None = Field(
        None, description="What the participant shares with the person; only when just booked."
    )
    expires_at: datetime
    language: Literal["nl", "fr", "en"]
    group: str | None = Field(description="The same for every booking of one group.")
    state: Literal["active", "used", "cancelled", "expired"]


class BookingsOut(BaseModel):
    bookings: list[BookingOut]
