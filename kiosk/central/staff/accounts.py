"""Staff accounts: usernames, scrypt-hashed passwords, and throttled logins.

Why scrypt (hashlib) rather than argon2: it is in the standard library (no compiled
dependency to keep building on the gallery machines), it is memory-hard like argon2,
and the store already uses it for withdrawal codes. Each password has its own random
salt; the parameters are stored with the hash, so they can be raised later and old
hashes still verify (and are rehashed at the next login).

Throttling: after `FREE_FAILURES` wrong passwords in a row an account is locked for a
minute, doubling with every further failure up to `LONGEST_LOCK_S`; a right password
during the lock is refused too, so guessing stays slow. The count lives in the
database, so every process of the store (and a restart) sees it. An unknown username
costs the same hashing time as a known one, so timing does not tell which exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from kiosk.central.db import Database
from kiosk.central.errors import Refusal
from kiosk.central.schema import staff_accounts, staff_sessions
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
FREE_FAILURES = 5
FIRST_LOCK_S = 60
LONGEST_LOCK_S = 15 * 60
DEMO_USERNAME = "demo"

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_DKLEN = 32


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` (base64) for a password."""
    salt = secrets.token_bytes(16)
    derived = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return "$".join(["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(derived)])


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` was made from; compared in constant time."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(derived, base64.b64decode(expected))
    except (ValueError, TypeError):
        return False


def _needs_rehash(stored: str) -> bool:
    return not stored.startswith(f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}$")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_DKLEN, maxmem=2**26)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# A hash to check unknown usernames against, so they cost the same time as known ones.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def check_username(username: str) -> str:
    if not isinstance(username, str) or not re.match(USERNAME_PATTERN, username):
        raise KioskError(
            f"username {username!r} is not usable",
            "use 2 to 64 lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit",
        )
    return username


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise KioskError(
            f"the password is shorter than {MIN_PASSWORD} characters",
            "choose a longer one: a few unrelated words make a strong password that is easy to type",
        )
    if len(password) > MAX_PASSWORD:
        raise KioskError(f"the password is longer than {MAX_PASSWORD} characters", "choose a shorter one")
    return password


def add_staff(database: Database, username: str, password: str) -> None:
    """A new staff account; KioskError when the username is taken."""
    check_username(username)
    hashed = hash_password(check_new_password(password))
    now = database.now()
    with database.write() as connection:
        taken = connection.execute(select(staff_accounts.c.id).where(staff_accounts.c.username == username)).scalar()
        if taken is not None:
            raise KioskError(
                f"there is already a staff account {username!r}",
                f"choose another username, or `kiosk central staff passwd {username}` to give it a new password",
            )
        connection.execute(
            insert(staff_accounts).values(
                username=username,
                password_hash=hashed,
                created_at=now,
                password_changed_at=now,
                disabled_at=None,
                failed_logins=0,
                locked_until=None,
                last_login_at=None,
            )
        )
    log.info("staff account added", extra={"staff": username})


def set_password(database: Database, username: str, password: str) -> None:
    """A new password for an account; it also enables a disabled account, ends its lock and logs it out everywhere."""
    hashed = hash_password(check_new_password(password))
    with database.write() as connection:
        account = _account_id(connection, username)
        connection.execute(
            update(staff_accounts)
            .where(staff_accounts.c.id == account)
            .values(
                password_hash=hashed,
                password_changed_at=database.now(),
                disabled_at=None,
                failed_logins=0,
                locked_until=None,
            )
        )
        connection.execute(staff_sessions.delete().where(staff_sessions.c.account_id == account))
    log.info("staff password changed", extra={"staff": username})


def disable_staff(database: Database, username: str) -> None:
    """Stop an account from logging in, and end its sessions now (`passwd` enables it again)."""
    with database.write() as connection:
        account = _account_id(connection, username)
        connection.execute(
            update(staff_accounts).where(staff_accounts.c.id == account).values(disabled_at=database.now())
        )
        connection.execute(staff_sessions.delete().where(staff_sessions.c.account_id == account))
    log.info("staff account disabled", extra={"staff": username})


def _account_id(connection, username: str) -> int:
    account = connection.execute(select(staff_accounts.c.id).where(staff_accounts.c.username == username)).scalar()
    if account is None:
        raise KioskError(f"there is no staff account {username!r}", "check the spelling, or add it with `kiosk central staff add`")
    return account


class LoginRefused(Refusal):
    """A login that did not succeed; `detail` is what the person at the login page reads."""

    status = 401

    def __init__(self, detail: str, *, key: str, wait_s: int = 0):
        super().__init__(detail)
        self.key = key
        self.wait_s = wait_s


@dataclass(frozen=True)
class StaffMember:
    id: int
    username: str


def log_in(database: Database, username: str, password: str) -> StaffMember:
    """The account these credentials open, or LoginRefused (wrong, locked for a while, or disabled)."""
    username = str(username).strip().lower()
    with database.read() as connection:
        row = connection.execute(select(staff_accounts).where(staff_accounts.c.username == username)).first()
    now = database.now()
    if row is None:
        verify_password(password, _DUMMY_HASH)
        raise LoginRefused("wrong username or password", key="staff.login.wrong")
    if row.locked_until is not None and row.locked_until > now:
        verify_password(password, _DUMMY_HASH)
        wait = int((row.locked_until - now).total_seconds()) + 1
        raise LoginRefused("too many wrong passwords: wait, then try again", key="staff.login.locked", wait_s=wait)
    if not verify_password(password, row.password_hash):
        _count_failure(database, row.id, now)
        raise LoginRefused("wrong username or password", key="staff.login.wrong")
    if row.disabled_at is not None:
        raise LoginRefused("this account is disabled", key="staff.login.disabled")
    values: dict = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if _needs_rehash(row.password_hash):
        values["password_hash"] = hash_password(password)
    with database.write() as connection:
        connection.execute(update(staff_accounts).where(staff_accounts.c.id == row.id).values(**values))
    log.info("staff logged in", extra={"staff": username})
    return StaffMember(row.id, row.username)


def _count_failure(database: Database, account: int, now: datetime) -> None:
    with database.write() as connection:
        failures = connection.execute(
            select(staff_accounts.c.failed_logins).where(staff_accounts.c.id == account).with_for_update()
        ).scalar_one() + 1
        locked_until = None
        if failures >= FREE_FAILURES:
            lock_s = min(FIRST_LOCK_S * 2 ** (failures - FREE_FAILURES), LONGEST_LOCK_S)
            locked_until = now + timedelta(seconds=lock_s)
        connection.execute(
            update(staff_accounts)
            .where(staff_accounts.c.id == account)
            .values(failed_logins=failures, locked_until=locked_until)
        )
    if locked_until is not None:
        log.warning("staff login locked after wrong passwords", extra={"failures": failures})


def ensure_demo_staff(database: Database) -> tuple[str, str]:
    """The demo's staff account ("demo") with a new random password each call: (username, password).

    Only for `kiosk demo` and the screenshot script: print the password where the
    person running the demo reads it.
    """
    password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
    with database.read() as connection:
        exists = connection.execute(
            select(staff_accounts.c.id).where(staff_accounts.c.username == DEMO_USERNAME)
        ).scalar()
    if exists is None:
        add_staff(database, DEMO_USERNAME, password)
    else:
        set_password(database, DEMO_USERNAME, password)
    return DEMO_USERNAME, password
