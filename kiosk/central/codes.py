"""Codes people type: booking codes and the booth's withdrawal codes, and secrets stored hashed.

Both kinds of code look like the booth's withdrawal codes: eight symbols in two groups,
ABCD-2345, from an alphabet without the letters people read one for another (0/O, 1/I/L)
and without U. The alphabet and the canonical form are part of the contract between
stations and store (`kiosk.contract`).

Station tokens are 256-bit random strings: one round of SHA-256 stores them safely.

Withdrawal codes (issue 18Y). A code has only about 39 bits, so a fast hash of it could
be reversed by trying every code; it is kept with scrypt (N=2^14, r=8, p=1: 16 MiB and
about 40 ms a try), made slow and memory-hungry on purpose. What the design asks:

- The store never sees a code. The booth computes the hash when it keeps the take
  (`kiosk.link.outbox.Outbox.add`, once, while the participant reads the thank-you
  screen) and the upload carries only `withdrawal_code_hash`
  (`kiosk.contract.withdrawal_code_hash`, the one definition both sides use). The
  store's upload path then costs no scrypt at all: 38 ms of CPU per take, 82 % of the
  store's busy time during a sync, is gone from it.
- Staff typing a code find the recording with O(1) scrypt computations, never one per
  stored take. That rules out a random salt per take stored beside the hash (the store
  would have to try the code against every row's salt) and a selector/verifier split
  (a selector narrow enough to name one row among thousands is itself most of the
  code's 39 bits, so it would leak the code to a cheap search). The salt is therefore
  derived from the code: SHA-256 of a domain string and the canonical code. Staff
  compute it, then the hash, once, and look the hash up in the index.
- What the per-code salt buys, honestly: every code has its own salt, so two codes
  never share a hash computation, and the domain string ("kazerne-dossin/.../v2")
  makes any precomputed table specific to this scheme of this museum. What it cannot
  buy: because anyone who holds a code can compute its salt, a table of all 6.6e11
  codes could still be built once; it costs 6.6e11 scrypt runs (about 800 CPU-years at
  38 ms), the same as trying every code against one stolen row, and that cost is what
  protects the codes. A secret pepper known to the booths would add to it, but the
  stations have no shared secret to keep it in, and a pepper that leaks with one
  booth's disk protects nothing; so none is used.
- Rows kept before (scheme v1: one fixed salt for all codes, computed by the store)
  stay findable: a lookup computes the v2 hash and, only when no row has it, the v1
  hash too, so an old row costs one scrypt more and nothing has to be migrated (the
  codes themselves were never kept, so the old rows cannot be re-hashed).
- Booths of before still send the plain code. The store hashes it (v2) inside the
  upload's worker thread, accepting the 40 ms for those uploads only: moving it off the
  request would mean keeping the plain code somewhere until it is hashed, or answering
  201 for a row that cannot yet be found by its code. Neither is worth it for booths
  that are updated with the next release. The code itself is never stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from kiosk.contract import CODE_ALPHABET, CODE_LENGTH, withdrawal_code_hash

TOKEN_BYTES = 32

_V1_SCRYPT_SALT = b"kazerne-dossin/withdrawal-code/v1"
_V1_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}

__all__ = [
    "legacy_withdrawal_code_hash",
    "new_code",
    "new_token",
    "same_hash",
    "token_hash",
    "withdrawal_code_hash",
]


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


def legacy_withdrawal_code_hash(code: str) -> str:
    """The hash rows kept before issue 18Y carry (v1: one fixed salt); canonical code in."""
    return hashlib.scrypt(code.encode("ascii"), salt=_V1_SCRYPT_SALT, **_V1_SCRYPT).hex()
