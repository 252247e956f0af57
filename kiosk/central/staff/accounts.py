"""Staff accounts: usernames, scrypt-hashed passwords, and throttled logins.

Why scrypt (hashlib) rather than argon2: it is in the standard library (no compiled
dependency to keep building on the gallery machines), it is memory-hard like argon2,
and the store already uses it for withdrawal codes. The parameters are OWASP's Password
Storage Cheat Sheet's (N = 2^17, r = 8, p = 1: 128 MiB and a few tenths of a second per
hash); at most `HASHING_AT_ONCE` hashes run at once, so a burst of logins cannot take
the machine's memory. Each password has its own random salt; the parameters are stored
with the hash, so they can be raised later and old hashes still verify, and a hash made
with older parameters is made again at the next successful login.

Throttling counts failures per (username, client address) and per client address
(`login_failures`), never per account alone: someone failing on purpose from elsewhere
locks only their own address out, not the staff member. After `FREE_FAILURES` wrong
passwords for one username from one address (or `ADDRESS_FREE_FAILURES` for any
usernames from one address) that address waits a minute, doubling with every further
failure up to `LONGEST_LOCK_S`; a right password during the wait is refused too, so
guessing stays slow. Unknown usernames are counted and locked exactly like known ones
and answered with the same words, and cost the same hashing time, so neither the
message nor the timing tells which usernames exist. The counts live in the database,
so every process of the store (and a restart) sees them; a count nobody added to for
`FORGET_AFTER` starts again, and such rows are pruned hourly (`kiosk.central.upkeep`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, insert, select, update

from kiosk.central.db import Database
from kiosk.central.errors import Refusal
from kiosk.central.schema import login_failures, staff_accounts, staff_sessions
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
FIRST_LOCK_S = 60
LONGEST_LOCK_S = 15 * 60
FORGET_AFTER = timedelta(hours=1)
PRUNE_AFTER = timedelta(days=1)
DEMO_USERNAME = "demo"
NO_ADDRESS = "-"
"""The address of a login that came from no network client (a test, a script)."""

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1  # OWASP Password Storage Cheat Sheet
_SCRYPT_MAXMEM = 2**28  # above 128 * N * r = 128 MiB, which these parameters need
_DKLEN = 32
HASHING_AT_ONCE = 2
_hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` (base64) for a password."""
    salt = secrets.token_bytes(16)
    derived = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(derived)])


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


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with other parameters than today's."""
    return not stored.startswith(f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    if 128 * n * r > _SCRYPT_MAXMEM or p > 16:
        raise ValueError("scrypt parameters beyond what this store computes")
    with _hashing:
        return hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_DKLEN, maxmem=_SCRYPT_MAXMEM
        )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to check unknown usernames against, so they cost the same time as known ones."""
    return hash_password(secrets.token_urlsafe(16))


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
        _end_locks(connection, username)
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


def log_in(database: Database, username: str, password: str, *, address: str | None = None) -> StaffMember:
    """The account these credentials open, or LoginRefused (wrong, locked for a while, or disabled).

    `address` is the client's address (`request.client.host`); see the module docstring.
    """
    username = str(username).strip().lower()
    keys = _failure_keys(username, address or NO_ADDRESS)
    now = database.now()
    with database.read() as connection:
        row = connection.execute(select(staff_accounts).where(staff_accounts.c.username == username)).first()
        waits = [
            locked_until
            for (locked_until,) in connection.execute(
                select(login_failures.c.locked_until).where(login_failures.c.key_hash.in_(keys))
            )
            if locked_until is not None and locked_until > now
        ]
    if waits:
        verify_password(password, _dummy_hash())
        wait = int((max(waits) - now).total_seconds()) + 1
        raise LoginRefused("too many wrong passwords: wait, then try again", key="staff.login.locked", wait_s=wait)
    stored = row.password_hash if row is not None else _dummy_hash()
    if not verify_password(password, stored) or row is None:
        _count_failure(database, username, keys, now)
        raise LoginRefused("wrong username or password", key="staff.login.wrong")
    if row.disabled_at is not None:
        raise LoginRefused("this account is disabled", key="staff.login.disabled")
    values: dict = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if needs_rehash(row.password_hash):
        values["password_hash"] = hash_password(password)
    with database.write() as connection:
        connection.execute(update(staff_accounts).where(staff_accounts.c.id == row.id).values(**values))
        # This username from this address starts afresh; the address's own count stays.
        connection.execute(delete(login_failures).where(login_failures.c.key_hash == keys[0]))
    log.info("staff logged in", extra={"staff": username, "rehashed": "password_hash" in values})
    return StaffMember(row.id, row.username)


def _failure_keys(username: str, address: str) -> tuple[str, str]:
    """(this username from this address, any username from this address), hashed."""
    return (
        hashlib.sha256(f"user\0{username}\0{address}".encode("utf-8", "surrogatepass")).hexdigest(),
        hashlib.sha256(f"address\0{address}".encode("utf-8", "surrogatepass")).hexdigest(),
    )


def _username_hash(username: str) -> str:
    return hashlib.sha256(f"username\0{username}".encode("utf-8", "surrogatepass")).hexdigest()


def _count_failure(database: Database, username: str, keys: tuple[str, str], now: datetime) -> None:
    locked = False
    with database.write() as connection:
        for key, free, owner in ((keys[0], FREE_FAILURES, _username_hash(username)), (keys[1], ADDRESS_FREE_FAILURES, None)):
            row = connection.execute(
                select(login_failures.c.failures, login_failures.c.last_failure_at)
                .where(login_failures.c.key_hash == key)
                .with_for_update()
            ).first()
            fresh = row is None or now - row.last_failure_at > FORGET_AFTER
            failures = 1 if fresh else row.failures + 1
            locked_until = None
            if failures >= free:
                locked_until = now + timedelta(seconds=min(FIRST_LOCK_S * 2 ** (failures - free), LONGEST_LOCK_S))
                locked = True
            values = {"failures": failures, "last_failure_at": now, "locked_until": locked_until}
            if row is None:
                connection.execute(insert(login_failures).values(key_hash=key, username_hash=owner, **values))
            else:
                connection.execute(update(login_failures).where(login_failures.c.key_hash == key).values(**values))
    if locked:
        log.warning("staff logins from one address held back after wrong passwords")


def _end_locks(connection, username: str) -> None:
    """Forget the failed logins counted for `username` (from any address)."""
    connection.execute(delete(login_failures).where(login_failures.c.username_hash == _username_hash(username)))


def prune_login_failures(database: Database) -> int:
    """Delete failure counts nobody has added to for a day; how many went."""
    with database.write() as connection:
        return connection.execute(
            delete(login_failures).where(login_failures.c.last_failure_at < database.now() - PRUNE_AFTER)
        ).rowcount


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
