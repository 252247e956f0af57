"""The staff's "Bookings" page: register visitors and groups, see and cancel bookings, print slips.

A member of staff registers one visitor or a group of up to six at the desk or on the
phone, with a first name, birthday or age per participant when they wish to share one;
the store matches a name to each (`kiosk.central.bookings`) and the page goes straight
to the booking sheet: one slip per participant with the code, the language and how to
use it at the booth, on one A4 page for a group. The slips name neither the participant
nor the person: the name is met at the booth. What the participant shared is not kept,
not even in the page after the booking is made.

Routes are added to the staff router by `add_booking_pages`, with the staff pages' own
helpers (session, CSRF check, rendering), so they behave like every other staff page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel.dates import format_date, get_month_names
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kiosk.central.bookings import (
    LANGUAGES,
    MAX_GROUP,
    BookingRules,
    book,
    cancel_booking,
    group_of,
    list_bookings,
    participant,
)
from kiosk.central.config import CentralConfig
from kiosk.central.db import Database
from kiosk.central.errors import Conflict, Gone, NotFound, Refusal, Unprocessable
from kiosk.i18n import LANGUAGE_NAMES, LOCALES, catalogue

SHOWN = 200
"""Bookings listed on the page, newest first: a season's worth."""


def _member_fields(form: Any, index: int) -> dict[str, str]:
    return {
        "first_name": str(form.get(f"first_name_{index}", "")).strip()[:100],
        "day": str(form.get(f"day_{index}", "")),
        "month": str(form.get(f"month_{index}", "")),
        "age": str(form.get(f"age_{index}", "")).strip()[:8],
    }


def _birthday(fields: dict[str, str]) -> str | None:
    """MM-DD from the day and month chosen, or None; ValueError when only one is chosen."""
    day, month = fields["day"], fields["month"]
    if not day and not month:
        return None
    if not (day.isdigit() and month.isdigit()):
        raise ValueError("half")
    return f"{int(month):02d}-{int(day):02d}"


def _sheet(slips: list) -> dict[str, Any]:
    """What the sheet shows: the group's slips in code order, in the booking's language."""
    slips = sorted(slips, key=lambda booking: booking.code)
    language = slips[0].language

    def slip_text(key: str, **fields: Any) -> str:
        return catalogue(language).text(f"staff.bookings.slip.{key}", **fields)

    return {
        "slips": slips,
        "slip": slip_text,
        "slip_lang": language,
        "language_name": LANGUAGE_NAMES[language],
        "valid_until": format_date(slips[0].expires_at, "long", locale=LOCALES[language]),
        "unusable": [s for s in slips if s.state != "active"],
    }


def add_booking_pages(
    router: APIRouter,
    config: CentralConfig,
    database: Database,
    *,
    session_of: Callable[[Request], Any],
    render: Callable[..., Response],
    posted: Callable[..., Any],
    back: Callable[..., Response],
    refused: Callable[..., Response],
) -> None:
    """The routes of the Bookings page under the staff router's prefix."""
    rules = BookingRules(expire_days=config.bookings.expire_days)

    def page(request: Request, session: Any, *, status: int = 200, members: int = 1, entered=None, **values: Any):
        members = min(max(members, 1), MAX_GROUP)
        entered = entered or [{"first_name": "", "day": "", "month": "", "age": ""} for _ in range(members)]
        shown = list_bookings(database, limit=SHOWN)
        return render(
            request,
            "bookings.html",
            session.language,
            session,
            status=status,
            members=members,
            max_group=MAX_GROUP,
            entered=entered,
            booking_languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            chosen_language=values.pop("chosen_language", session.language),
            months=list(get_month_names("wide", locale=LOCALES[session.language]).items()),
            days=list(range(1, 32)),
            bookings=shown,
            live=sum(1 for booking in shown if booking.state == "active"),
            expire_days=rules.expire_days,
            problem=values.pop("problem", None),
            problem_values=values.pop("problem_values", {}),
            notice=request.query_params.get("notice", ""),
            notice_code=request.query_params.get("code", ""),
            cancel_code=values.pop("cancel_code", ""),
            **values,
        )

    @router.get("/bookings")
    def bookings_page(request: Request, members: int = 1) -> Response:
        session = session_of(request)
        return page(request, session, members=members)

    @router.post("/bookings")
    async def bookings_add(request: Request) -> Response:
        session = session_of(request)
        try:
            form = await posted(request, session)
        except Refusal as refusal:
            return refused(request, session, refusal)
        try:
            members = min(max(int(str(form.get("members", "1"))), 1), MAX_GROUP)
        except ValueError:
            members = 1
        language = str(form.get("language", ""))
        entered = [_member_fields(form, index) for index in range(members)]

        def again(status: int, problem: str, **values: Any) -> Response:
            # What was typed comes back in the form only; nothing was kept.
            return page(request, session, status=status, members=members, entered=entered,
                        chosen_language=language, problem=problem, problem_values=values)

        wishes = []
        for number, fields in enumerate(entered, start=1):
            try:
                birthday = _birthday(fields)
                wishes.append(participant(fields["first_name"], birthday, fields["age"]))
            except ValueError:
                return again(422, "bookings.problem.half_birthday", number=number)
            except Unprocessable as refusal:
                key = "age" if "age" in refusal.detail else "birthday"
                return again(422, f"bookings.problem.{key}", number=number)
        try:
            made = await run_in_threadpool(
                book, database, rules, wishes, language=language, made_by=f"staff:{session.staff.username}"
            )
        except Conflict:
            return again(409, "bookings.problem.no_name")
        except Unprocessable:
            return again(422, "bookings.problem.language")
        return back(f"/staff/bookings/{made[0].code}/sheet", made="1")

    @router.get("/bookings/{code}/sheet")
    def booking_sheet(request: Request, code: str) -> Response:
        session = session_of(request)
        try:
            slips = group_of(database, code[:40])
        except NotFound as refusal:
            return refused(request, session, refusal)
        return render(request, "booking_sheet.html", session.language, session, **_sheet(slips),
                      just_made=request.query_params.get("made") == "1")

    @router.post("/bookings/cancel")
    async def booking_cancel(request: Request) -> Response:
        session = session_of(request)
        try:
            form = await posted(request, session)
        except Refusal as refusal:
            return refused(request, session, refusal)
        typed = str(form.get("code", ""))[:40]
        try:
            done = await run_in_threadpool(cancel_booking, database, typed, by=f"staff:{session.staff.username}")
        except (NotFound, Conflict, Gone) as refusal:
            problem = {NotFound: "unknown", Conflict: "used", Gone: "expired"}[type(refusal)]
            return page(request, session, status=refusal.status, problem=f"bookings.problem.{problem}",
                        problem_values={"code": typed}, cancel_code=typed)
        return back("/staff/bookings", notice="cancelled", code=done.code)


__all__ = ["add_booking_pages"]
