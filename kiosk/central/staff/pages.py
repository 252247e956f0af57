"""The staff pages at /staff: server-rendered HTML, one form per action, no JavaScript.

Progress (overall and per transport), station health, the moderation queue with an
audio player, the decisions made (history), withdrawal by code, and the export of
approved voices as a BagIt bag. Every page but the login needs a session
(`kiosk.central.staff.sessions`); every POST is checked for its origin and its CSRF
token first. Texts come from the `staff.*` keys of media/i18n in the session's
language (nl, fr or en), switched at the top of each page.

Actions follow post/redirect/get: after a decision the browser is sent back to the page
it came from with a short notice, so reloading never decides twice.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_datetime, format_timedelta, get_timezone
from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from kiosk.central.config import CentralConfig
from kiosk.central.db import Database
from kiosk.central.deps import AudioDep, ConfigDep, DatabaseDep
from kiosk.central.errors import Conflict, NotFound, Refusal, Unprocessable
from kiosk.central.moderation import (
    REASON_MAX,
    approve,
    choose_take,
    decisions,
    find_code,
    keep_or_withdraw,
    other_takes,
    recording_audio,
    recordings_to_review,
    reject,
    status_counts,
    waiting_count,
    withdraw_recording,
)
from kiosk.central.pending_withdrawals import KeptWithdrawal, kept_withdrawal_of
from kiosk.central.recordings import AudioStore
from kiosk.central.staff.accounts import LoginRefused, log_in
from kiosk.central.staff.bookings import add_booking_pages
from kiosk.central.staff.export import plan_bag, stream_bag_tar
from kiosk.central.staff.sessions import (
    COOKIE,
    CsrfRefused,
    SessionRules,
    StaffSession,
    check_csrf,
    check_origin,
    close_session,
    find_session,
    open_session,
    set_language,
)
from kiosk.central.station_health import device_label, problem_words, station_screen, stations_health
from kiosk.central.status import central_status, collection_is_fictional
from kiosk.contract import normalise_code
from kiosk.errors import KioskError
from kiosk.i18n import LANGUAGE_NAMES, LANGUAGES, LOCALES, catalogue, number, text

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PREFIX = "/staff"
PAGE_SIZE = 20
# Far past the end of any list here (2 million recordings), and an offset every database
# takes: a larger page number from a hand-typed or hostile URL must not reach the SQL.
MAX_PAGE = 100_000
LANG_COOKIE = "dossin_staff_lang"
LOGIN_COOKIE = "dossin_staff_login"
MUSEUM_TIME = get_timezone("Europe/Brussels")
REASONS = ("other_name", "unclear", "noise", "cut_off", "silent", "not_respectful", "other")
HISTORY_STATUSES = ("approved", "rejected", "withdrawn")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginNeeded(Exception):
    """No live session: the browser is sent to the login page, and back afterwards."""

    def __init__(self, next_path: str):
        self.next_path = next_path


def _templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment


def _safe_next(path: str | None) -> str:
    """Where to go after login: a staff page of this store, never another site."""
    if path and path.startswith(PREFIX + "/") and not path.startswith("//") and "\\" not in path:
        return path
    return f"{PREFIX}/progress"


def mount_staff(app: FastAPI, config: CentralConfig, database: Database, audio: AudioStore) -> None:
    """Add the staff pages and their stylesheet to the store's app (its state holds what they read)."""
    app.state.config = config
    app.state.database = database
    app.state.audio = audio
    app.state.staff = StaffSettings.from_config(config)
    app.include_router(router)
    # The Bookings page (kiosk.central.staff.bookings), with these pages' own helpers.
    bookings = APIRouter(prefix=PREFIX, include_in_schema=False)
    add_booking_pages(
        bookings, config, database, session_of=session_of, render=render, posted=posted, back=back, refused=refused
    )
    app.include_router(bookings)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="staff-static")

    @app.exception_handler(LoginNeeded)
    async def _to_login(request: Request, needed: LoginNeeded) -> Response:
        return RedirectResponse(f"{PREFIX}/login?{urlencode({'next': needed.next_path})}", status_code=303)


router = APIRouter(prefix=PREFIX, include_in_schema=False)


@dataclass(frozen=True)
class StaffSettings:
    """What the staff pages read of the store's config, once per app (app.state.staff)."""

    rules: SessionRules
    secure: bool
    silent_after: timedelta
    templates: Environment

    @classmethod
    def from_config(cls, config: CentralConfig) -> StaffSettings:
        return cls(
            rules=SessionRules.from_config(config.staff),
            secure=config.staff.secure_cookies,
            silent_after=timedelta(seconds=config.staff.station_silent_after_s),
            templates=_templates(),
        )


def _settings(request: Request) -> StaffSettings:
    return request.app.state.staff


def _rules(request: Request) -> SessionRules:
    return _settings(request).rules


def _secure(request: Request) -> bool:
    return _settings(request).secure


def _silent_after(request: Request) -> timedelta:
    return _settings(request).silent_after


RulesDep = Annotated[SessionRules, Depends(_rules)]
SecureDep = Annotated[bool, Depends(_secure)]
SilentAfterDep = Annotated[timedelta, Depends(_silent_after)]


# -- helpers -------------------------------------------------------------------------


def session_of(request: Request) -> StaffSession:
    session = find_session(request.app.state.database, request.cookies.get(COOKIE), _rules(request))
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginNeeded(target)
    return session


def render(
    request: Request, name: str, language: str, session: StaffSession | None, status: int = 200, **values: Any
) -> HTMLResponse:
    database: Database = request.app.state.database

    def t(key: str, **fields: Any) -> str:
        return catalogue(language).text(f"staff.{key}", **fields)

    def when(moment: datetime | None) -> str:
        if moment is None:
            return "–"
        return format_datetime(moment, "d MMM y, HH:mm", tzinfo=MUSEUM_TIME, locale=LOCALES[language])

    def ago(moment: datetime) -> str:
        return format_timedelta(database.now() - moment, locale=LOCALES[language], threshold=1.1)

    page = _settings(request).templates.get_template(name).render(
        t=t,
        num=lambda value: number(language, value),
        pct=lambda value: format_decimal(value, format="0.0", locale=LOCALES[language]),
        when=when,
        ago=ago,
        lang=language,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        session=session,
        csrf=session.csrf_token if session else "",
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        page_name=name.removesuffix(".html"),
        fictional=collection_is_fictional(database),
        waiting=waiting_count(database) if session else 0,
        prefix=PREFIX,
        **values,
    )
    return HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)


async def posted(request: Request, session: StaffSession) -> Any:
    check_origin(request.headers, request.headers.get("host"))
    form = await request.form()
    check_csrf(session.csrf_token, form.get("csrf"))
    return form


def back(path: str, **query: Any) -> RedirectResponse:
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return RedirectResponse(path + (f"?{urlencode(query)}" if query else ""), status_code=303)


def refused(request: Request, session: StaffSession, refusal: Refusal) -> HTMLResponse:
    key = {NotFound: "error.not_found", Conflict: "error.conflict"}.get(type(refusal), "error.refused")
    if isinstance(refusal, CsrfRefused):
        key = "error.csrf"
    return render(request, "error.html", session.language, session, status=refusal.status, message_key=key)


def login_language(request: Request) -> str:
    wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return wanted if wanted in LANGUAGES else "nl"


def login_page(
    request: Request,
    language: str,
    *,
    problem: str | None = None,
    wait_s: int = 0,
    status: int = 200,
    next_path: str | None = None,
) -> HTMLResponse:
    import secrets

    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        language,
        None,
        status=status,
        next_path=_safe_next(next_path or request.query_params.get("next") or None),
        login_token=token,
        problem=problem,
        notice=request.query_params.get("notice", ""),
        wait_minutes=max(1, math.ceil(wait_s / 60)),
    )
    cookie_options = {"httponly": True, "samesite": "strict", "secure": _secure(request), "path": PREFIX}
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, **cookie_options)
    response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, **cookie_options)
    return response


# -- login and logout ------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, database: DatabaseDep, rules: RulesDep) -> Response:
    if find_session(database, request.cookies.get(COOKIE), rules) is not None:
        return back(_safe_next(request.query_params.get("next")))
    return login_page(request, login_language(request))


@router.post("/login")
async def login_submit(request: Request, database: DatabaseDep, rules: RulesDep, secure: SecureDep) -> Response:
    language = login_language(request)
    try:
        check_origin(request.headers, request.headers.get("host"))
        form = await request.form()
        check_csrf(request.cookies.get(LOGIN_COOKIE), form.get("login_token"))
    except CsrfRefused:
        return login_page(request, language, problem="login.expired", status=403)
    language = str(form.get("lang") or language)
    language = language if language in LANGUAGES else "nl"
    try:
        staff = await run_in_threadpool(
            log_in,
            database,
            str(form.get("username", "")),
            str(form.get("password", "")),
            address=request.client.host if request.client else None,
        )
    except LoginRefused as refusal:
        return login_page(
            request,
            language,
            problem=refusal.key.removeprefix("staff."),
            wait_s=refusal.wait_s,
            status=401,
            next_path=str(form.get("next") or ""),
        )
    cookie, _session = open_session(database, staff, rules, language)
    response = back(_safe_next(str(form.get("next") or "")))
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(rules.lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=secure,
        path=PREFIX,
    )
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(request: Request, database: DatabaseDep) -> Response:
    session = session_of(request)
    try:
        await posted(request, session)
    except CsrfRefused as refusal:
        return refused(request, session, refusal)
    close_session(database, request.cookies.get(COOKIE))
    response = back(f"{PREFIX}/login", lang=session.language, notice="logged_out")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.post("/language")
async def language(request: Request, database: DatabaseDep) -> Response:
    session = session_of(request)
    try:
        form = await posted(request, session)
    except CsrfRefused as refusal:
        return refused(request, session, refusal)
    set_language(database, session, str(form.get("lang", "")))
    return back(_safe_next(str(form.get("next") or "")))


@router.get("")
@router.get("/")
def home(request: Request) -> Response:
    session_of(request)
    return back(f"{PREFIX}/progress")


# -- progress --------------------------------------------------------------------


@router.get("/progress")
def progress(request: Request, database: DatabaseDep) -> Response:
    session = session_of(request)
    figures = central_status(database)
    return render(
        request,
        "progress.html",
        session.language,
        session,
        figures=figures,
        chart=_progress_chart(figures),
        share=_share(figures["names_with_voice"], figures["persons"]),
    )


# -- stations --------------------------------------------------------------------


@router.get("/stations")
def station_health(request: Request, database: DatabaseDep, silent_after: SilentAfterDep) -> Response:
    session = session_of(request)
    rows = stations_health(database, silent_after=silent_after)
    return render(
        request,
        "stations.html",
        session.language,
        session,
        rows=rows,
        troubled=sum(1 for row in rows if row.problems),
        words=problem_words,
        device_label=device_label,
    )


@router.get("/stations/{station_id}/screen.png")
def station_screen_picture(request: Request, database: DatabaseDep, station_id: str) -> Response:
    session_of(request)
    picture = station_screen(database, station_id)
    if picture is None:
        return Response(status_code=404)
    return Response(picture[1], media_type="image/png", headers={"Cache-Control": "private, no-store"})


# -- moderation ------------------------------------------------------------------


@router.get("/queue")
def queue(request: Request, database: DatabaseDep, page: int = 1, notice: str = "") -> Response:
    session = session_of(request)
    page = bounded_page(page)
    items, total = recordings_to_review(database, status="received", limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:
        return back(f"{PREFIX}/queue", page=pages, notice=notice)
    return render(
        request,
        "queue.html",
        session.language,
        session,
        items=items,
        others=other_takes(database, [item.recording_id for item in items]),
        total=total,
        page=page,
        pages=pages,
        first=(page - 1) * PAGE_SIZE + 1,
        reasons=REASONS,
        reason_max=REASON_MAX,
        notice=notice,
    )


@router.get("/recordings/{recording_id}/audio")
def audio_of(request: Request, database: DatabaseDep, audio: AudioDep, recording_id: uuid.UUID) -> Response:
    session_of(request)
    try:
        path = recording_audio(database, audio, recording_id)
    except NotFound:
        return Response(status_code=404)
    return FileResponse(path, media_type="audio/flac", headers={"Cache-Control": "private, no-store"})


@router.post("/recordings/{recording_id}/approve")
async def approve_one(request: Request, database: DatabaseDep, recording_id: uuid.UUID) -> Response:
    session = session_of(request)
    try:
        form = await posted(request, session)
        await run_in_threadpool(approve, database, recording_id, by=session.staff.username)
    except Refusal as refusal:
        return refused(request, session, refusal)
    return back(_return_to(form), notice="approved")


@router.post("/recordings/{recording_id}/choose")
async def choose_one(request: Request, database: DatabaseDep, recording_id: uuid.UUID) -> Response:
    session = session_of(request)
    try:
        form = await posted(request, session)
        reason = text(session.language, "staff.takes.reason")
        await run_in_threadpool(choose_take, database, recording_id, reason=reason, by=session.staff.username)
    except Refusal as refusal:
        return refused(request, session, refusal)
    return back(_return_to(form), notice="chosen")


@router.post("/recordings/{recording_id}/reject")
async def reject_one(request: Request, database: DatabaseDep, recording_id: uuid.UUID) -> Response:
    session = session_of(request)
    try:
        form = await posted(request, session)
    except Refusal as refusal:
        return refused(request, session, refusal)
    choice = str(form.get("reason", ""))
    note = " ".join(str(form.get("note", "")).split())
    if choice not in REASONS or (choice == "other" and not note):
        return back(_return_to(form), notice="reason_missing")
    label = text(session.language, f"staff.reason.{choice}")
    reason = label if not note else (note if choice == "other" else f"{label}: {note}")
    try:
        await run_in_threadpool(reject, database, recording_id, reason=reason[:REASON_MAX], by=session.staff.username)
    except Refusal as refusal:
        return refused(request, session, refusal)
    return back(_return_to(form), notice="rejected")


@router.get("/history")
def history(request: Request, database: DatabaseDep, status: str = "approved", page: int = 1, notice: str = "") -> Response:
    session = session_of(request)
    status = status if status in HISTORY_STATUSES else "approved"
    page = bounded_page(page)
    items, total = recordings_to_review(database, status=status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)  # type: ignore[arg-type]
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:
        return back(f"{PREFIX}/history", status=status, page=pages, notice=notice)
    decided = decisions(database, [item.recording_id for item in items])
    counts = status_counts(database)
    return render(
        request,
        "history.html",
        session.language,
        session,
        shown=status,
        statuses=HISTORY_STATUSES,
        counts=counts,
        items=items,
        decided=decided,
        total=total,
        page=page,
        pages=pages,
        reasons=REASONS,
        reason_max=REASON_MAX,
        notice=notice,
    )


# -- withdrawal ------------------------------------------------------------------


@router.get("/withdraw")
def withdraw_form(request: Request) -> Response:
    session = session_of(request)
    return render(request, "withdraw.html", session.language, session, code="", problem=None, keep=False)


@router.post("/withdraw")
async def withdraw_check(request: Request, database: DatabaseDep) -> Response:
    session = session_of(request)
    try:
        form = await posted(request, session)
    except Refusal as refusal:
        return refused(request, session, refusal)
    typed = str(form.get("code", ""))
    canonical = normalise_code(typed)
    if canonical is None:
        return render(
            request, "withdraw.html", session.language, session, status=422, code=typed, problem="withdraw.not_a_code",
            keep=False,
        )
    found, code_hash = await run_in_threadpool(find_code, database, canonical)
    if found is None:
        # Not on the store yet: staff may keep the withdrawal for when it arrives (issue WD).
        kept = await run_in_threadpool(kept_withdrawal_of, database, code_hash)
        if kept is not None:
            return render(request, "withdraw_done.html", session.language, session, kept=kept, done=None, found=None)
        return render(
            request, "withdraw.html", session.language, session, status=404, code=canonical, problem="withdraw.unknown",
            keep=True,
        )
    return render(request, "withdraw_confirm.html", session.language, session, code=canonical, found=found)


@router.post("/withdraw/confirm")
async def withdraw_confirm(request: Request, database: DatabaseDep, audio: AudioDep) -> Response:
    """Withdraw the recording found, or keep the withdrawal of a code no recording has yet."""
    session = session_of(request)
    try:
        form = await posted(request, session)
        code = str(form.get("code", ""))
        found, code_hash = await run_in_threadpool(find_code, database, code)
        by = session.staff.username
        if found is None:
            done = await run_in_threadpool(keep_or_withdraw, database, audio, code_hash, by=by)
        else:
            done = await run_in_threadpool(withdraw_recording, database, audio, found["id"], by=by)
    except Unprocessable:
        return render(
            request, "withdraw.html", session.language, session, status=422, code="", problem="withdraw.not_a_code",
            keep=False,
        )
    except Refusal as refusal:
        return refused(request, session, refusal)
    if isinstance(done, KeptWithdrawal):
        return render(request, "withdraw_done.html", session.language, session, kept=done, done=None, found=None)
    return render(request, "withdraw_done.html", session.language, session, kept=None, done=done, found=found)


# -- export ----------------------------------------------------------------------


@router.get("/export")
def export_page(request: Request, database: DatabaseDep, audio: AudioDep, config: ConfigDep) -> Response:
    session = session_of(request)
    try:
        plan = plan_bag(database, audio)
        problem = None
    except KioskError as error:
        plan, problem = None, str(error)
    return render(
        request,
        "export.html",
        session.language,
        session,
        plan=plan,
        problem=problem,
        megabytes=(sum(f.size for f in plan.payload) / 1e6) if plan else 0,
        config_path=str(config.source) if config.source else "central.toml",
    )


@router.get("/export/bag.tar")
def export_download(request: Request, database: DatabaseDep, audio: AudioDep) -> Response:
    session = session_of(request)
    try:
        plan = plan_bag(database, audio)
    except KioskError:
        return back(f"{PREFIX}/export")
    log.info("bag download started", extra={"staff": session.staff.username, "recordings": plan.recordings})
    return StreamingResponse(
        stream_bag_tar(plan),
        media_type="application/x-tar",
        headers={"Content-Disposition": f'attachment; filename="{plan.name}.tar"', "Cache-Control": "no-store"},
    )


def bounded_page(page: int) -> int:
    """A list's page number as the database may be asked for it: 1 to MAX_PAGE.

    A page past the list's end is sent to its last page by the page itself.
    """
    return min(max(1, page), MAX_PAGE)


def _return_to(form: Any) -> str:
    return _safe_next(str(form.get("return_to") or "")).split("?")[0] + _page_query(form)


def _page_query(form: Any) -> str:
    # Keep the list's page and tab when coming back; the notice is added by `back`.
    parts = str(form.get("return_to") or "").split("?", 1)
    if len(parts) < 2:
        return ""
    kept = [p for p in parts[1].split("&") if p.startswith(("page=", "status="))]
    return ""if not kept else "?" + "&".join(kept)


def _share(part: int, whole: int) -> float:
    return (100 * part / whole) if whole else 0.0


def _progress_chart(figures: dict[str, Any]) -> dict[str, Any]:
    """Geometry of the per-transport bar chart (the template draws it as SVG)."""
    row_height, label_width, bar_width, figure_width = 24, 64, 520, 190
    rows = []
    for index, (code, counts) in enumerate(figures["transports"].items()):
        whole, part = counts["persons"], counts["names_with_voice"]
        rows.append(
            {
                "code": code,
                "persons": whole,
                "voiced": part,
                "y": index * row_height,
                "width": round(bar_width * part / whole, 1) if whole else 0,
                "share": _share(part, whole),
            }
        )
    return {
        "rows": rows,
        "row_height": row_height,
        "label_width": label_width,
        "bar_width": bar_width,
        "width": label_width + bar_width + figure_width,
        "height": max(1, len(rows)) * row_height,
        "overall_width": round(bar_width * figures["names_with_voice"] / figures["persons"], 1) if figures["persons"] else 0,
    }
