"""Codes people type: booking codes and the booth's withdrawal codes, and secrets stored hashed.

Both kinds of code look like the booth's withdrawal codes: eight symbols in two groups,
ABCD-2345, from an alphabet without the letters people read one for another (0/O, 1/I/L)
and without U. The alphabet and the canonical form are part of the contract between
stations and store (`kiosk.contract`).

Station tokens are 256-bit random strings: one round of SHA-256 stores them safely.
A withdrawal code has only about 39 bits, so a plain hash of it could be reversed by
trying every code; it is stored with scrypt, made slow and memory-hungry on purpose.
The salt is fixed because a participant withdraws by code alone: the store must find
the recording by computing the hash once, not by trying the code against every row.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from kiosk.contract import CODE_ALPHABET, CODE_LENGTH

TOKEN_BYTES = 32

_SCRYPT_SALT = b"kazerne-dossin/withdrawal-code/v1"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def new_code() -> str:
    """A random code in the canonical form ABCD-2345."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def new_token() -> str:
    """A station's secret: 32 random bytes, URL-safe text."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the store keeps of a station's token (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(stored: str, computed: str) -> bool:
    """Compare two hashes in constant time, so timing tells nothing about a near miss."""
    return hmac.compare_digest(stored.encode("ascii"), computed.encode("ascii"))


def withdrawal_code_hash(code: str) -> str:
    """What the store keeps of a canonical withdrawal code (hex scrypt)."""
    return hashlib.scrypt(code.encode("ascii"), salt=_SCRYPT_SALT, **_SCRYPT).hex()
