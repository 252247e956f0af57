"""The central store's HTTP API (FastAPI), as the booths and `kiosk doctor` use it.

Every call but /api/v1/health carries `Authorization: Bearer TOKEN` (from
`kiosk central enroll`). Errors are `{"detail": ...}` with a status a station can act on:
401 who are you, 403 not yours (or not this token's role), 404 no such thing, 409
conflict, 410 ended, 413 too large, 415 not multipart, 422 what was sent is wrong
(FastAPI's own validation errors give `detail` as a list), 507 the disk is full. A
refusal a station acts on by itself also carries `"code"` (see `kiosk.central.errors`).
The description is served at /openapi.json.

- `GET /api/v1/health`: `{"status": "ok"|"disk_full", "version", "time", "database",
  "free_disk_bytes", "disk": {"free_bytes", "needed_bytes", "can_take"}}`; "disk_full"
  when the audio folder has less room than one upload may need; 503 when the database
  does not answer.
- `PUT /api/v1/recordings/{recording_id}`: the upload, exactly as CONTRACT.md says
  (see `kiosk.central.recordings`).
- `POST /api/v1/leases` `{"how": "next"|"match"|"booking", "count", "first_name",
  "birthday": "MM-DD", "age", "code"}` -> `{"leases": [...]}`; 429 after too many wrong codes.
- `POST /api/v1/bookings`, `GET`/`DELETE /api/v1/bookings/{code}`: the museum's booking
  system, with a token of role "booking" (`kiosk.central.booking_api`); such a token
  does nothing else, and a station's token cannot book.
- `GET /api/v1/leases`: the names this booth holds. `DELETE /api/v1/leases/{id}`: give one back.
  `POST /api/v1/leases/{id}/renew`: hold it longer.
- `POST /api/v1/heartbeats` `{version, queue_length, free_disk_bytes, audio_state,
  controller_state, input_overflows}` -> `{"received_at"}`.
- `GET /api/v1/voices[?person_id=ID]`: the approved recordings the wall and the memorial
  may play, one per person, in transport and list order, with the collection's size
  (`kiosk.central.moderation.approved_voices`); with an ETag, and 304 for If-None-Match.
- `GET /api/v1/voices/audio/{sha256}`: the FLAC of an approved recording; 404 for audio
  that is not approved (any more). Content-addressed, so it never changes: cached for good.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from kiosk import __version__
from kiosk.central.config import CentralConfig
from kiosk.central.db import Database, open_database
from kiosk.central.deps import AudioDep, DatabaseDep, NameRulesDep, UploadLimitDep
from kiosk.central.disk import disk_state, refuse_when_full
from kiosk.central.errors import Refusal
from kiosk.central.bookings import WrongCodes, is_booking_code
from kiosk.central.leases import Lease, NameRules, claim, held_by, release, renew
from kiosk.central.health_routes import health_router
from kiosk.central.metrics import StoreMetrics, read_metrics_token
from kiosk.central.moderation import approved_voices, voice_audio, voices_version
from kiosk.central.recordings import AudioStore, Stored, parse_metadata, store_recording
from kiosk.central.status import central_status
from kiosk.central.codes import token_hash
from kiosk.central.stations import ROLE_RIGHTS, Heartbeat, Right, Station, authenticate, record_heartbeat
from kiosk.central.tokens import TokenEnded
from kiosk.central.uploads import ReceivedUpload, check_declared_length, receive_upload
from kiosk.contract import (
    ClaimIn,
    HealthOut,
    HeartbeatIn,
    HeartbeatOut,
    LeaseOut,
    LeasesOut,
    Problem,
    RecordingOut,
    StorableText,
    UploadMetadata,
    VoicesOut,
)

log = logging.getLogger(__name__)

API = "/api/v1"


def _answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    words = {
        400: "The request is malformed.",
        401: "No token, or a token this store does not know (`kiosk central enroll`).",
        403: "The token's station may not do this (or its role may not: see `kiosk central enroll --role`).",
        404: "No such thing.",
        409: "A conflict with what the store holds.",
        410: "The lease has ended.",
        413: "Larger than [server] max_upload_mb.",
        415: "Not multipart/form-data.",
        422: "What was sent is not valid.",
        429: "Too many wrong booking codes from this station: wait, then try again.",
        503: "The database does not answer.",
        507: "The store's disk is full; nothing was kept.",
    }
    return {status: {"model": Problem, "description": words[status]} for status in statuses}


_bearer = HTTPBearer(auto_error=False, description="The station's token from `kiosk central enroll`.")


async def current_station(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Station:
    """The station whose token came with the request, read from the database; or 401 (with WWW-Authenticate)."""
    database = request.app.state.database
    station = await run_in_threadpool(authenticate, database, credentials.credentials if credentials else None)
    if station is None:
        raise TokenEnded()
    return station


StationDep = Annotated[Station, Depends(current_station)]


def _may(station: Station, right: Right) -> Station:
    if not station.may(right):
        roles = ", ".join(role for role, rights in ROLE_RIGHTS.items() if right in rights)
        raise Refusal(
            f"station {station.station_id!r} is enrolled as a {station.role}; only {roles} tokens may do this "
            f"(`kiosk central enroll --role ROLE {station.station_id}` gives it another role)",
            status=403,
            code="wrong_role",
        )
    return station


def station_with(right: Right) -> Any:
    """A dependency: the station whose token came with the request, if its role has `right`; else 403."""

    async def allowed(station: StationDep) -> Station:
        return _may(station, right)

    return Depends(allowed)


async def booth_station(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Station:
    """For the lease routes: the booth whose token came with the request, from the process's
    map of known tokens (`kiosk.central.tokens`); the lease operations check it again in
    their own transaction, so a token revoked by another process is refused at once."""
    return _may(await _known_station(request, credentials), "lease")


async def uploading_station(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Station:
    """For the upload: as `booth_station`; `store_recording` checks the token again in its
    first read, before anything is answered or kept (issue 18Y: one read less per upload)."""
    return _may(await _known_station(request, credentials), "upload")


async def _known_station(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Station:
    database = request.app.state.database
    token = credentials.credentials if credentials else None
    station = database.tokens.get(token_hash(token)) if token else None
    if station is None:
        station = await run_in_threadpool(authenticate, database, token)
    if station is None:
        raise TokenEnded()
    return station


BoothDep = Annotated[Station, Depends(booth_station)]
UploaderDep = Annotated[Station, Depends(uploading_station)]
ReaderDep = Annotated[Station, station_with("voices")]
ReporterDep = Annotated[Station, station_with("heartbeat")]
BookingDep = Annotated[Station, station_with("book")]
"""For the booking API: a station whose token is a booking token."""

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["metadata", "audio"],
                    "properties": {
                        "metadata": {"$ref": "#/components/schemas/UploadMetadata"},
                        "audio": {"type": "string", "format": "binary", "description": "The take, FLAC."},
                    },
                },
                "encoding": {"metadata": {"contentType": "application/json"}, "audio": {"contentType": "audio/flac"}},
            }
        },
    }
}


def create_app(config: CentralConfig, database: Database | None = None) -> FastAPI:
    """The store's ASGI app for `config`; opens (and migrates) the database unless given one."""
    database = database or open_database(config)
    audio = AudioStore(config.audio_dir)
    audio.prepare()
    rules = NameRules(lease_s=config.names.lease_s, hand_size=config.names.hand_size)
    limit = config.max_upload_bytes

    app = FastAPI(
        title="Kazerne Dossin central store",
        version=__version__,
        description="Recordings and names for the 'Elke naam telt' booths. See CONTRACT.md for the upload protocol.",
    )
    app.state.database = database
    app.state.audio = audio
    app.state.rules = rules
    app.state.upload_limit = limit
    app.state.metrics = StoreMetrics(database, read_metrics_token(config.metrics_token_file))
    app.state.wrong_codes = WrongCodes(
        database.now, limit=config.bookings.wrong_code_limit, window_s=config.bookings.wrong_code_window_s
    )

    # The booths' routes first: a request is matched against the routes in this order,
    # and the lease routes are the ones asked most.
    app.add_exception_handler(Refusal, _refused)
    app.include_router(router)

    from kiosk.central.booking_api import booking_router  # /api/v1/bookings, for the booking system

    app.include_router(booking_router(config, database), prefix=API)

    from kiosk.central.staff.pages import mount_staff  # the staff pages at /staff

    mount_staff(app, config, database, audio)

    app.include_router(health_router(API, current_station, _answers(401)))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


router = APIRouter()


async def _refused(request: Request, refusal: Refusal) -> JSONResponse:
    if request.url.path.startswith(f"{API}/recordings/"):
        request.app.state.metrics.count_upload_error(refusal.status)
    headers = {"Connection": "close"} if refusal.close_connection else {}
    if refusal.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(refusal.problem(), status_code=refusal.status, headers=headers)


@router.get(f"{API}/health", response_model=HealthOut, responses=_answers(503), tags=["health"])
def health(database: DatabaseDep, audio: AudioDep, limit: UploadLimitDep) -> Any:
    """Whether the store answers and its database with it (for `kiosk doctor`); no token needed."""
    try:
        with database.read() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.error("health check: the database does not answer", extra={"error": str(error).splitlines()[0]})
        return JSONResponse({"detail": "the database does not answer"}, status_code=503)
    disk = disk_state(audio.root, limit)
    return {
        "status": "ok" if disk.can_take else "disk_full",
        "version": __version__,
        "time": database.now(),
        "database": database.dialect,
        "free_disk_bytes": disk.free_bytes,
        "disk": disk.to_json(),
    }


@router.put(
    f"{API}/recordings/{{recording_id}}",
    status_code=201,
    response_model=RecordingOut,
    responses=_answers(400, 401, 403, 409, 413, 415, 422, 507)
    | {200: {"model": RecordingOut, "description": "Held already, with the same audio."}},
    openapi_extra=UPLOAD_BODY,
    tags=["recordings"],
)
async def put_recording(database: DatabaseDep, audio: AudioDep, limit: UploadLimitDep, recording_id: uuid.UUID, request: Request, station: UploaderDep) -> Any:
    """Upload a take: 201 when kept durably now, 200 when held already (see CONTRACT.md)."""
    check_declared_length(request, limit)

    def keep(upload: ReceivedUpload) -> Stored:
        metadata, document = parse_metadata(upload.metadata)
        return store_recording(database, audio, station, recording_id, metadata, document, upload.audio)

    try:
        with refuse_when_full():
            stored = await receive_upload(request, audio, limit, keep)
    except ClientDisconnect:
        log.warning(
            "upload cut off by the station",
            extra={"station_id": station.station_id, "recording_id": str(recording_id)},
        )
        request.app.state.metrics.count_upload_error(400)
        return Response(status_code=400)
    # RecordingOut as FastAPI would write it from the model, without validating our own answer again.
    answer = stored.to_json()
    answer["received_at"] = _as_z(answer["received_at"])
    return JSONResponse(answer, status_code=stored.status)


# The lease routes' database work runs on these threads, handed over with asyncio's own
# executor call: FastAPI's thread pool (anyio's) costs several times more per request,
# and a booth asks for names and gives them back all day (bench/central_claims.py).
_LEASE_THREADS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="kiosk-leases")
_SQLITE_LEASE_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-lease-writer")
"""On SQLite, the changes to leases (a claim, a give-back, a renewal) run on this one
thread, one after the other in the order they came. SQLite lets one transaction write at
a time, and this process already queued its writers on one lock (`Database.write`):
sixteen threads taking turns at that lock and at Python's interpreter lock served a
quarter fewer claims a second than one thread taking them in turn (bench/central_claims.py,
0.65 against 0.86 times the ceiling). What a booth holds is read on the pool, beside a
change that waits for another process's write (an import)."""


async def _in_thread(function: Any, *args: Any, threads: ThreadPoolExecutor = _LEASE_THREADS, **kwargs: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(threads, partial(function, *args, **kwargs))


async def _lease_change(function: Any, database: Database, *args: Any, **kwargs: Any) -> Any:
    """FUNCTION(DATABASE, ...), which changes leases, on the thread for such changes."""
    threads = _SQLITE_LEASE_WRITER if database.dialect == "sqlite" else _LEASE_THREADS
    return await _in_thread(function, database, *args, threads=threads, **kwargs)


@router.post(f"{API}/leases", response_model=LeasesOut, responses=_answers(401, 403, 409, 422, 429), tags=["names"])
async def post_leases(
    database: DatabaseDep, rules: NameRulesDep, body: ClaimIn, station: BoothDep, request: Request
) -> Any:
    """Lease names to this booth: the next waiting, a match, or a booking; an empty list when none fits.

    A match shares the participant's first name, birthday or age (9 to 120), best the
    most of them; a booked name goes only to its code. Wrong booking codes are limited
    per station ([bookings] wrong_code_limit per wrong_code_window_s, then 429).
    """
    if body.how == "next":
        return _leases_answer(await _lease_change(claim, database, station, rules, how="next", count=body.count))
    return await _lease_change(_claim_otherwise, database, rules, body, station, request.app.state.wrong_codes)


def _claim_otherwise(
    database: Database, rules: NameRules, body: ClaimIn, station: Station, wrong_codes: WrongCodes
) -> JSONResponse:
    """A match or a booking (with the wrong codes counted)."""
    if body.how == "booking":
        wrong_codes.check(station.station_id)
    taken = claim(
        database,
        station,
        rules,
        how=body.how,
        count=body.count,
        first_name=body.first_name,
        birthday=body.birthday_tuple(),
        age=body.age,
        code=body.code,
    )
    if body.how == "booking" and not taken and not is_booking_code(database, body.code):
        wrong_codes.wrong(station.station_id)
    return _leases_answer(taken)


def _as_z(moment: str) -> str:
    """A UTC moment in ISO 8601 as pydantic writes it in answers: "Z", not "+00:00"."""
    return moment.replace("+00:00", "Z")


def _leases_answer(taken: list[Lease]) -> JSONResponse:
    """`LeasesOut` as FastAPI would write it from the model, without validating our own answer again."""
    leases = []
    for lease in taken:
        document = lease.to_json()
        document["expires_at"] = _as_z(document["expires_at"])
        leases.append(document)
    return JSONResponse({"leases": leases})


@router.get(f"{API}/leases", response_model=LeasesOut, responses=_answers(401, 403), tags=["names"])
async def get_leases(database: DatabaseDep, station: BoothDep) -> Any:
    """The names this booth holds now (after a restart, to take them up again or give them back)."""
    return _leases_answer(await _in_thread(held_by, database, station))


@router.delete(f"{API}/leases/{{lease_id}}", status_code=204, responses=_answers(401, 403, 404), tags=["names"])
async def delete_lease(database: DatabaseDep, lease_id: uuid.UUID, station: BoothDep) -> Response:
    """Give a name back to the queue; giving back an ended lease again is harmless."""
    await _lease_change(release, database, station, lease_id)
    return Response(status_code=204)


@router.post(
    f"{API}/leases/{{lease_id}}/renew",
    response_model=LeaseOut,
    responses=_answers(401, 403, 404, 410),
    tags=["names"],
)
async def renew_lease(database: DatabaseDep, rules: NameRulesDep, lease_id: uuid.UUID, station: BoothDep) -> Any:
    """Hold a name another [names] lease_s from now."""
    return (await _lease_change(renew, database, station, rules, lease_id)).to_json()


@router.post(f"{API}/heartbeats", response_model=HeartbeatOut, responses=_answers(401, 403, 422), tags=["stations"])
def post_heartbeat(database: DatabaseDep, body: HeartbeatIn, station: ReporterDep) -> Any:
    """Record how the station is doing, as its latest state and in its history."""
    beat = Heartbeat(**body.model_dump(include=set(Heartbeat.__dataclass_fields__)))
    return {"received_at": record_heartbeat(database, station, beat, screen=body.screen())}


@router.get(
    f"{API}/voices",
    response_model=VoicesOut,
    responses=_answers(401, 403, 422) | {304: {"description": "Not changed since the ETag in If-None-Match."}},
    tags=["voices"],
)
def get_voices(
    database: DatabaseDep,
    station: ReaderDep,
    request: Request,
    response: Response,
    person_id: Annotated[StorableText | None, Query(max_length=200, description="Only this person.")] = None,
) -> Any:
    """Approved recordings, one per person, in transport and list order (for the wall and the memorial).

    The answer carries an ETag; a station that sends it back in If-None-Match gets 304
    while nothing changed."""
    version = voices_version(database)
    if person_id is None and request.headers.get("if-none-match") == version:
        return Response(status_code=304, headers={"ETag": version})
    response.headers["ETag"] = version
    voices = approved_voices(database, person_id)
    figures = central_status(database)
    return {
        "persons": figures["persons"],
        "names_with_voice": figures["names_with_voice"],
        "voices": [voice.to_json() for voice in voices],
    }


@router.get(
    f"{API}/voices/audio/{{sha256}}",
    response_class=FileResponse,
    responses=_answers(401, 403, 404, 422) | {200: {"content": {"audio/flac": {}}, "description": "The FLAC."}},
    tags=["voices"],
)
def get_voice_audio(
    database: DatabaseDep,
    audio: AudioDep,
    station: ReaderDep, sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
) -> Any:
    """The audio of an approved recording, by its sha256."""
    path = voice_audio(database, audio, sha256)
    return FileResponse(
        path,
        media_type="audio/flac",
        headers={"Cache-Control": "private, max-age=31536000, immutable", "ETag": f'"{sha256}"'},
    )


def _openapi(app: FastAPI) -> dict[str, Any]:
    # The upload's body is read as a stream, not through a model, so its metadata
    # schema is added to the description by hand.
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        metadata_schema = UploadMetadata.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(metadata_schema.pop("$defs", {}))
        components["UploadMetadata"] = metadata_schema
        app.openapi_schema = schema
    return app.openapi_schema
