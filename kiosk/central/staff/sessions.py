"""Staff sessions: a random cookie, its hash in the database, and a CSRF token per session.

Server-side rows rather than signed cookies, so that logging out, disabling an account
or changing its password ends its sessions at once, and no signing key has to be kept
and rotated. The cookie holds 32 random bytes; the store keeps only their SHA-256 (a
copy of the database logs nobody in). A session ends `session_hours` after login, or
`idle_minutes` after the last page opened, whichever comes first.

CSRF: every form carries the session's synchronizer token, checked in constant time
on every POST, and a POST whose Origin (or Referer) names another site is refused
before that. The cookie itself is HttpOnly and SameSite=Strict, and Secure when
`[staff] secure_cookies` says the store is reached over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select, update

from kiosk.central.db import Database
from kiosk.central.errors import Forbidden
from kiosk.central.schema import staff_accounts, staff_sessions
from kiosk.central.staff.accounts import StaffMember
from kiosk.i18n import LANGUAGES

COOKIE = "dossin_staff"
TOUCH_EVERY_S = 60
"""last_seen_at is written at most this often, not on every page."""


@dataclass(frozen=True)
class StaffSession:
    id_hash: str
    staff: StaffMember
    csrf_token: str
    language: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionRules:
    lifetime: timedelta
    idle: timedelta

    @classmethod
    def from_config(cls, staff_section) -> SessionRules:
        return cls(timedelta(hours=staff_section.session_hours), timedelta(minutes=staff_section.idle_minutes))


def _hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


def open_session(database: Database, staff: StaffMember, rules: SessionRules, language: str) -> tuple[str, StaffSession]:
    """A new session for `staff`: (the cookie's value, the session)."""
    cookie = secrets.token_urlsafe(32)
    now = database.now()
    session = StaffSession(
        _hash(cookie), staff, secrets.token_urlsafe(32), language if language in LANGUAGES else "nl", now + rules.lifetime
    )
    with database.write() as connection:
        # Sessions that ended are removed here, so the table does not grow without end.
        connection.execute(delete(staff_sessions).where(staff_sessions.c.expires_at <= now))
        connection.execute(
            insert(staff_sessions).values(
                id_hash=session.id_hash,
                account_id=staff.id,
                created_at=now,
                last_seen_at=now,
                expires_at=session.expires_at,
                csrf_token=session.csrf_token,
                language=session.language,
            )
        )
    return cookie, session


def find_session(database: Database, cookie: str | None, rules: SessionRules) -> StaffSession | None:
    """The live session this cookie names, or None (no cookie, unknown, expired, idle too long, account disabled)."""
    if not cookie:
        return None
    id_hash = _hash(cookie)
    now = database.now()
    with database.read() as connection:
        row = connection.execute(
            select(staff_sessions, staff_accounts.c.username, staff_accounts.c.disabled_at)
            .join(staff_accounts, staff_accounts.c.id == staff_sessions.c.account_id)
            .where(staff_sessions.c.id_hash == id_hash)
        ).first()
    if row is None or not hmac.compare_digest(row.id_hash, id_hash):
        return None
    if row.expires_at <= now or row.last_seen_at + rules.idle <= now or row.disabled_at is not None:
        close_session(database, cookie)
        return None
    if (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
        with database.write() as connection:
            connection.execute(update(staff_sessions).where(staff_sessions.c.id_hash == id_hash).values(last_seen_at=now))
    return StaffSession(id_hash, StaffMember(row.account_id, row.username), row.csrf_token, row.language, row.expires_at)


def close_session(database: Database, cookie: str | None) -> None:
    """Log out: the session's row goes (harmless for a cookie that names none)."""
    if cookie:
        with database.write() as connection:
            connection.execute(delete(staff_sessions).where(staff_sessions.c.id_hash == _hash(cookie)))


def set_language(database: Database, session: StaffSession, language: str) -> None:
    if language not in LANGUAGES:
        return
    with database.write() as connection:
        connection.execute(
            update(staff_sessions).where(staff_sessions.c.id_hash == session.id_hash).values(language=language)
        )


class CsrfRefused(Forbidden):
    """A POST that did not come from one of the store's own forms."""


def check_csrf(expected: str | None, given: str | None) -> None:
    """Refuse a form without the token its page carried."""
    if not expected or not given or not hmac.compare_digest(expected.encode(), str(given).encode()):
        raise CsrfRefused(
            "this form is out of date or did not come from the staff pages: open the page again and repeat what you did"
        )


def check_origin(headers, host: str | None) -> None:
    """Refuse a POST whose Origin (or, without one, Referer) names another site than this store.

    Only the host and port are compared: behind the TLS proxy the browser says https
    while the store itself is reached over http.
    """
    source = headers.get("origin") or headers.get("referer")
    if source is None:
        return  # not from a browser, or one that sends neither: the token still has to match
    if source == "null" or urlsplit(source).netloc != (host or ""):
        raise CsrfRefused("this form was sent from another site: open the staff pages directly and repeat what you did")
