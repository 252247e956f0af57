"""The bookings API, for the museum's online booking system (`/api/v1/bookings`).

The booking system holds a token of role "booking" (`kiosk central enroll --role booking
NAME`). That token makes, reads and cancels bookings and nothing else; a station's
token cannot book (403 both ways). What the participant shares to be matched (first
name, birthday, age) is used for the match and not kept (`kiosk.central.bookings`).

- `POST /api/v1/bookings` `{"language": "nl"|"fr"|"en", "participants": [{"first_name"?,
  "birthday"?: "MM-DD", "age"?: 9..120}, ... 1 to 6]}` -> 201 `{"bookings": [{"code",
  "person_id", "name", "matched_on", "expires_at", "language", "group", "state"}]}`;
  409 when fewer names wait than participants (nothing booked), 422 for bad input.
- `GET /api/v1/bookings/{code}` -> the booking with its state (active, used, cancelled,
  expired); 404 for a code no booking has. The code may be typed in any case, with
  spaces or dashes.
- `DELETE /api/v1/bookings/{code}` -> 204: cancelled, its name back in the queue (again:
  204); 409 used, 410 expired, 404 unknown.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from kiosk.central.bookings import BookingRules, book, cancel_booking, find_booking
from kiosk.central.config import CentralConfig
from kiosk.central.db import Database
from kiosk.central.matching import Wish, parse_birthday
from kiosk.contract import BookingIn, BookingsOut, BookingOut, ParticipantIn
from kiosk.central.stations import Station, authenticate

_bearer = HTTPBearer(auto_error=False, description="The booking system's token (`kiosk central enroll --role booking`).")


class _Problem(BaseModel):
    detail: str | list[dict[str, Any]]


_WORDS = {
    401: "No token, or one this store does not know.",
    403: "The token is not a booking token.",
    404: "No booking has this code.",
    409: "Fewer names wait than participants (nothing booked), or the booking was used.",
    410: "The booking expired.",
    422: "What was sent is not valid.",
}


def _answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": _Problem, "description": _WORDS[status]} for status in statuses}


def booking_client(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Station:
    """The booking system whose token came with the request: 401 without one, 403 for a station's."""
    client = authenticate(request.app.state.database, credentials.credentials if credentials else None)
    if client is None:
        raise HTTPException(
            401,
            "no valid token: send Authorization: Bearer TOKEN with the token from "
            "`kiosk central enroll --role booking NAME`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not client.may("book"):
        raise HTTPException(403, f"a {client.role} token cannot book: use a token of role booking")
    return client


ClientDep = Annotated[Station, Depends(booking_client)]


def _wish(participant: ParticipantIn) -> Wish:
    name = " ".join((participant.first_name or "").split()) or None
    birthday = parse_birthday(participant.birthday) if participant.birthday else None
    return Wish(name, birthday, participant.age)


def booking_router(config: CentralConfig, database: Database) -> APIRouter:
    router = APIRouter(tags=["bookings"])
    rules = BookingRules(expire_days=config.bookings.expire_days)

    @router.post("/bookings", status_code=201, response_model=BookingsOut, responses=_answers(401, 403, 409, 422))
    async def post_booking(body: BookingIn, client: ClientDep) -> Any:
        """Book one name per participant (a group of up to six gets different names)."""
        made = await run_in_threadpool(
            book,
            database,
            rules,
            [_wish(participant) for participant in body.participants],
            language=body.language,
            made_by=f"api:{client.station_id}",
        )
        return {"bookings": [booking.to_json() for booking in made]}

    @router.get("/bookings/{code}", response_model=BookingOut, responses=_answers(401, 403, 404))
    def get_booking(code: str, client: ClientDep) -> Any:
        """A booking by its code, with its state."""
        return find_booking(database, code[:40]).to_json()

    @router.delete("/bookings/{code}", status_code=204, responses=_answers(401, 403, 404, 409, 410))
    def delete_booking(code: str, client: ClientDep) -> Response:
        """Cancel a booking: its name goes back to the queue, its code no longer works."""
        cancel_booking(database, code[:40], by=f"api:{client.station_id}")
        return Response(status_code=204)

    return router


