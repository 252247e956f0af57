"""The outbox: accepted takes, kept so that a kill -9 or a power cut cannot lose or half-keep one.

When a participant in the "Elke naam telt" booth accepts a take, that recording of their
voice reading one name must survive anything the gallery does to the station (a power
cut at closing time, a technician pulling the plug, a full disk) and reach the central
store exactly once. This module is the station's side of that promise: the audio and
its sidecar on disk, and the sync queue read from them. The booth encodes a take
(`exhibits.booth.take_store.TakeStore.keep`) and hands it here with `Outbox.add`; the uploader,
`kiosk sync` and `kiosk doctor` read the queue without loading any audio library. It has no database; the file
system is the database, written the way rclone and Syncthing write: a temporary name,
fsync, rename into place, fsync the directory.

Layout under `root` (the station's data folder / "takes"):

    tmp/<id>.flac.partial     being written; never a take (removed by reconcile)
    tmp/<id>.json.partial
    audio/<id>.flac           48 kHz mono FLAC, written and fsynced before the sidecar
    takes/<id>.json           the sidecar: its appearance is the commit point
    sent/<id>.json            the central store acknowledged it (status, time)
    failed/<id>.json          the central store refused it for good (reason), for a technician
    withdrawn/<id>.json       the participant withdrew it here; its audio is gone
    orphans/<id>.flac         audio whose sidecar never appeared: never accepted, kept for a technician
    damaged/<id>.json|.flac   a sidecar whose audio is missing or does not match it
    .lock                     flock: writers share it, reconcile() takes it alone
    .sending                  one byte-range lock per take: held by an upload from its last
                              piece until its answer is recorded, and by a withdrawal

A take is accepted if and only if `takes/<id>.json` exists and its audio matches the
sha256 and size it records. Everything else is state that `reconcile()` (run at
start-up) brings back to that rule. Nothing that identifies the reader is stored, nor
logged: the sidecar holds the consent (version, language, age band, guardian) and ids.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from kiosk.configbase import LANGUAGES, STATION_ID_PATTERN
from kiosk.contract import AGE_BANDS, CODE_ALPHABET, CODE_LENGTH, UNDER_13, normalise_code, withdrawal_code_hash
from kiosk.errors import KioskError
from kiosk.files import fsync_directory, write_durably

log = logging.getLogger(__name__)

SENT_STATUSES = (200, 201)

WITHDRAWAL_ALPHABET = CODE_ALPHABET  # drawn with `secrets`
WITHDRAWAL_LENGTH = CODE_LENGTH

_ID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_FILE_MODE = 0o640  # a voice is personal data: not for every user of the machine
_DIR_MODE = 0o750
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
PRUNED = "pruned"  # kiosk.link.prune keeps the sidecar of a take whose audio it removed here
_SENDING_SLOTS = 2**40  # byte offsets of the sending locks: two takes share one by chance only


@dataclass(frozen=True)
class Consent:
    """What the participant agreed to, stored with their recording (GDPR).

    Only the terms, never the person: no name, no contact, no booking code. Under 13 a
    parent's or guardian's consent is required, so a 9-12 consent without it is refused
    here as well as on the screen.
    """

    version: str  # the version of the consent text shown, e.g. "2026-11"
    language: str  # nl | fr | en: the language it was given in
    age_band: str  # "9-12" | "13-17" | "18+"
    guardian_confirmed: bool  # a parent's or guardian's consent; required for 9-12

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version.strip():
            raise KioskError("the consent has no version", "give the version of the consent text shown, e.g. 2026-11")
        if self.language not in LANGUAGES:
            raise KioskError(
                f"the consent's language {self.language!r} is not one of {', '.join(LANGUAGES)}",
                "give the language the consent text was shown in",
            )
        if self.age_band not in AGE_BANDS:
            raise KioskError(
                f"the consent's age band {self.age_band!r} is not one of {', '.join(AGE_BANDS)}",
                "give the participant's age band",
            )
        if not isinstance(self.guardian_confirmed, bool):
            raise KioskError("guardian_confirmed must be true or false")
        if self.age_band == UNDER_13 and not self.guardian_confirmed:
            raise KioskError(
                "a participant aged 9-12 needs a parent's or guardian's consent",
                "keep the take only after a parent or guardian has confirmed",
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "language": self.language,
            "age_band": self.age_band,
            "guardian_confirmed": self.guardian_confirmed,
        }


@dataclass(frozen=True)
class KeptTake:
    """An accepted take: its audio, its sidecar, and what the sidecar holds."""

    recording_id: str  # UUID4
    audio_path: Path
    sidecar_path: Path
    metadata: dict[str, Any]  # exactly what the sidecar holds


@dataclass(frozen=True)
class ReconcileReport:
    """What `reconcile()` found and did, for the start-up log and a technician."""

    takes: int = 0  # accepted takes after reconciling
    verified: int = 0  # of which the audio was hashed (all not yet sent, or all with full=True)
    partials_removed: int = 0  # unfinished writes of a crashed process
    orphaned: tuple[str, ...] = ()  # audio without a sidecar: never accepted, moved to orphans/
    damaged: tuple[tuple[str, str], ...] = ()  # (recording id, why), moved to damaged/
    withdrawals_finished: tuple[str, ...] = ()  # withdrawals a crash had interrupted

    @property
    def clean(self) -> bool:
        """True when there was nothing to repair."""
        return not (self.partials_removed or self.orphaned or self.damaged or self.withdrawals_finished)

    def to_json(self) -> dict[str, Any]:
        return {
            "takes": self.takes,
            "verified": self.verified,
            "partials_removed": self.partials_removed,
            "orphaned": list(self.orphaned),
            "damaged": [{"recording_id": rid, "reason": why} for rid, why in self.damaged],
            "withdrawals_finished": list(self.withdrawals_finished),
        }

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """One paragraph a technician can act on."""
        if self.clean:
            return f"{self.takes} takes, all consistent."
        parts = [f"{self.takes} takes kept."]
        if self.partials_removed:
            parts.append(f"Removed {self.partials_removed} unfinished writes left by a crash (never accepted takes).")
        if self.orphaned:
            parts.append(
                f"{len(self.orphaned)} recordings were interrupted before the participant's take was "
                "committed; their audio was moved to orphans/ and is not queued. No consent record goes "
                "with them: a technician decides whether to delete them."
            )
        if self.damaged:
            parts.append(
                f"{len(self.damaged)} takes are DAMAGED (audio missing or not matching its sidecar) and were "
                "moved to damaged/: check the disk (kiosk doctor) and tell the collection team."
            )
        if self.withdrawals_finished:
            parts.append(f"Finished {len(self.withdrawals_finished)} withdrawals that a crash had interrupted.")
        return " ".join(parts)


@dataclass(frozen=True)
class Withdrawal:
    """What `withdraw()` did with a participant's code."""

    status: Literal["deleted", "already_withdrawn", "sent", "not_found"]
    message: str
    recording_id: str | None = None
    person_id: str | None = None  # the name read: it goes back to the queue when "deleted"


@dataclass
class _Paths:
    root: Path
    tmp: Path = field(init=False)
    audio: Path = field(init=False)
    takes: Path = field(init=False)
    sent: Path = field(init=False)
    failed: Path = field(init=False)
    withdrawn: Path = field(init=False)
    orphans: Path = field(init=False)
    damaged: Path = field(init=False)

    def __post_init__(self) -> None:
        for name in ("tmp", "audio", "takes", "sent", "failed", "withdrawn", "orphans", "damaged"):
            setattr(self, name, self.root / name)

    def all_dirs(self) -> tuple[Path, ...]:
        return (self.tmp, self.audio, self.takes, self.sent, self.failed, self.withdrawn, self.orphans, self.damaged)


class Outbox:
    """The accepted takes of one booth station, and their sync queue.

    Several processes may use one store at once (the station, `kiosk sync run`,
    `kiosk booth ingest`): every write is one atomic rename, and they share a lock that
    only `reconcile()` takes alone, so it never mistakes another process's take in
    progress for a crash's leftovers. A lock held by a killed process is released by the
    kernel.
    """

    def __init__(self, root: Path, station_id: str):
        if not re.match(STATION_ID_PATTERN, station_id or ""):
            raise ValueError(f"not a station id: {station_id!r}")
        self.root = Path(root)
        self.station_id = station_id
        self._paths = _Paths(self.root)
        self._lock_path = self.root / ".lock"
        self._sending_path = self.root / ".sending"
        self._codes: set[str] | None = None  # withdrawal codes in use, read once when first needed
        try:
            self._make_dirs()
        except OSError as error:
            raise _storage_error(error, self.root, "the take store could not be set up") from error

    # -- keeping ---------------------------------------------------------------------

    def add(self, flac: bytes, metadata: dict[str, Any]) -> KeptTake:
        """Keep an encoded take durably; return only when it is on disk for good.

        `metadata` is the sidecar without its withdrawal code, which is drawn here so that
        it names one take of this store only, and hashed here once (scrypt, about 40 ms):
        the upload carries that hash, never the code (`kiosk.central.codes`). The audio
        is written first, the sidecar last: its appearance is the commit point. A disk
        that is full or failing raises `KioskError` and leaves nothing behind.
        """
        recording_id = metadata["recording_id"]
        _check_id(recording_id)
        # Serialised before anything is written, so a quality dict that is not JSON
        # (a NaN, an object) fails here and not between the audio and its sidecar.
        _encode_json(metadata)
        paths = self._paths
        audio = paths.audio / f"{recording_id}.flac"
        sidecar = paths.takes / f"{recording_id}.json"
        with self._shared():
            metadata["withdrawal_code"] = self._new_withdrawal_code()
            metadata["withdrawal_code_hash"] = withdrawal_code_hash(metadata["withdrawal_code"])
            try:
                _write_durably(flac, paths.tmp / f"{recording_id}.flac.partial", audio)
                _write_durably(_encode_json(metadata), paths.tmp / f"{recording_id}.json.partial", sidecar)
            except OSError as error:
                self._undo_keep(recording_id)
                raise _storage_error(error, self.root, "the take could not be kept") from error
        log.info(
            "take stored",
            extra={"recording_id": recording_id, "seconds": metadata.get("duration_s"), "bytes": len(flac)},
        )
        return KeptTake(recording_id, audio, sidecar, metadata)

    def _undo_keep(self, recording_id: str) -> None:
        """Take back a keep() that failed: sidecar first, so the take is never half there."""
        paths = self._paths
        for path in (
            paths.takes / f"{recording_id}.json",
            paths.audio / f"{recording_id}.flac",
            paths.tmp / f"{recording_id}.json.partial",
            paths.tmp / f"{recording_id}.flac.partial",
        ):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                log.exception("could not remove a failed take's file", extra={"recording_id": recording_id})
        for directory in (paths.takes, paths.audio, paths.tmp):
            try:
                fsync_directory(directory)
            except OSError:
                pass

    def _new_withdrawal_code(self) -> str:
        """A fresh code, unlike any other in this store, so a code names one take only."""
        codes = self._codes_in_use()
        while True:
            raw = "".join(secrets.choice(WITHDRAWAL_ALPHABET) for _ in range(WITHDRAWAL_LENGTH))
            code = f"{raw[:4]}-{raw[4:]}"
            if code not in codes:
                codes.add(code)
                return code

    def _codes_in_use(self) -> set[str]:
        """Codes of accepted, damaged and withdrawn takes; read from disk once per store."""
        if self._codes is None:
            self._codes = {
                code
                for _, metadata in self._read_all(self._paths.takes, self._paths.damaged, self._paths.withdrawn)
                if isinstance(code := metadata.get("withdrawal_code"), str)
            }
        return self._codes

    # -- start-up --------------------------------------------------------------------

    def reconcile(self, *, full: bool = False) -> ReconcileReport:
        """Bring the store back to "a take is accepted iff its sidecar matches its audio".

        Run at start-up, after whatever ended the last run. It removes unfinished
        writes; moves audio without a sidecar to orphans/ (not accepted, but audio is
        never deleted silently); moves a sidecar whose audio is missing or does not
        match (size always; sha256 for takes not yet sent, or for all with `full`) to
        damaged/ with an ERROR in the log; and finishes interrupted withdrawals. Sent
        takes are hashed only with `full`, because the central store has verified them
        and hashing years of audio at every start would delay the station.
        Running it twice changes nothing the second time.
        """
        paths = self._paths
        with self._exclusive():
            partials = 0
            for partial in list(paths.tmp.glob("*.partial")):
                partial.unlink(missing_ok=True)
                partials += 1

            finished = tuple(
                rid for rid in self._ids(paths.withdrawn, ".json") if self._delete_take_files(rid)
            )

            sidecar_ids = set(self._ids(paths.takes, ".json"))
            orphaned: list[str] = []
            for rid in self._ids(paths.audio, ".flac"):
                if rid not in sidecar_ids:
                    _move(paths.audio / f"{rid}.flac", paths.orphans, f"{rid}.flac")
                    orphaned.append(rid)
                    log.warning(
                        "audio without a sidecar moved to orphans: the take was never accepted",
                        extra={"recording_id": rid},
                    )

            sent_ids = set(self._ids(paths.sent, ".json"))
            damaged: list[tuple[str, str]] = []
            verified = 0
            for rid in sorted(sidecar_ids):
                hashed = full or rid not in sent_ids
                problem = self._check(rid, hash_audio=hashed)
                if problem is None:
                    verified += hashed
                    continue
                damaged.append((rid, problem))
                _move(paths.takes / f"{rid}.json", paths.damaged, f"{rid}.json")
                audio = paths.audio / f"{rid}.flac"
                if audio.exists():
                    _move(audio, paths.damaged, f"{rid}.flac")
                log.error("damaged take moved to damaged/", extra={"recording_id": rid, "reason": problem})

            for directory in (paths.tmp, paths.audio, paths.takes, paths.orphans, paths.damaged):
                fsync_directory(directory)
            # Read while the disk is warm, so the first participant's keep() does not wait for it.
            self._codes_in_use()

        report = ReconcileReport(
            takes=len(sidecar_ids) - len(damaged),
            verified=verified,
            partials_removed=partials,
            orphaned=tuple(orphaned),
            damaged=tuple(damaged),
            withdrawals_finished=finished,
        )
        level = logging.ERROR if damaged else logging.WARNING if not report.clean else logging.INFO
        log.log(level, "take store reconciled", extra=report.to_json())
        return report

    def _check(self, recording_id: str, *, hash_audio: bool) -> str | None:
        """Why this sidecar is not an accepted take, or None when it is one."""
        try:
            metadata = json.loads((self._paths.takes / f"{recording_id}.json").read_bytes())
        except (OSError, ValueError) as error:
            return f"the sidecar cannot be read: {error}"
        if not isinstance(metadata, dict) or metadata.get("recording_id") != recording_id:
            return "the sidecar does not describe this recording"
        audio = self._paths.audio / f"{recording_id}.flac"
        try:
            size = audio.stat().st_size
        except FileNotFoundError:
            return "the audio is missing"
        if size != metadata.get("size_bytes"):
            return f"the audio has {size} bytes, its sidecar says {metadata.get('size_bytes')}"
        if hash_audio and _sha256_file(audio) != metadata.get("sha256"):
            return "the audio does not match the sha256 in its sidecar"
        return None

    # -- the queue -------------------------------------------------------------------

    def queued(self) -> list[KeptTake]:
        """Accepted takes the central store has not acknowledged, oldest first.

        A take refused for good (`mark_failed`) is not queued: it waits for a technician.
        """
        done = set(self._ids(self._paths.sent, ".json")) | set(self._ids(self._paths.failed, ".json"))
        takes = [take for take in self._accepted() if take.recording_id not in done]
        return sorted(takes, key=lambda take: (str(take.metadata.get("recorded_at", "")), take.recording_id))

    def mark_sent(self, recording_id: str, *, status: int) -> None:
        """Record that the central store holds this take durably (it answered 201 or 200).

        Call it only after that answer: a take marked sent is never uploaded again.
        Marking twice is harmless; the first acknowledgement is kept.
        """
        _check_id(recording_id)
        if status not in SENT_STATUSES:
            raise ValueError(f"only 200 or 201 from the central store means sent, not {status}")
        paths = self._paths
        marker = paths.sent / f"{recording_id}.json"
        with self._shared():
            if marker.exists():
                return
            if not (paths.takes / f"{recording_id}.json").exists():
                # Withdrawn or moved to damaged/ while it was being uploaded: the central
                # store has it all the same, and that fact must not be lost.
                log.warning(
                    "the central store acknowledged a take that is not accepted here: "
                    "if it was withdrawn, it must be withdrawn on the central store too",
                    extra={"recording_id": recording_id, "status": status},
                )
            record = {"recording_id": recording_id, "status": status, "sent_at": _iso(_utc(None))}
            self._write_marker(record, marker)
            failed = paths.failed / f"{recording_id}.json"
            if failed.exists():
                failed.unlink()
                fsync_directory(paths.failed)
        log.info("take sent", extra={"recording_id": recording_id, "status": status})

    def mark_failed(self, recording_id: str, reason: str) -> None:
        """Record that the central store refused this take for good; it stays for a technician.

        The take leaves the queue, so one bad take cannot block the others. A later
        reason replaces an earlier one; a take already sent stays sent.
        """
        _check_id(recording_id)
        if not reason or not reason.strip():
            raise ValueError("say why the take failed, for the technician")
        paths = self._paths
        with self._shared():
            if (paths.sent / f"{recording_id}.json").exists():
                log.warning("a sent take cannot fail; left as sent", extra={"recording_id": recording_id})
                return
            record = {"recording_id": recording_id, "reason": reason, "failed_at": _iso(_utc(None))}
            self._write_marker(record, paths.failed / f"{recording_id}.json")
        log.error("take refused by the central store", extra={"recording_id": recording_id, "reason": reason})

    def counts(self) -> dict[str, int]:
        """{"queued", "sent", "failed"}: the `kiosk sync status --json` shape.

        Counted from file names only, so it stays fast with years of takes. Markers of
        takes no longer accepted here (withdrawn, damaged) are not counted.
        """
        accepted = set(self._ids(self._paths.takes, ".json"))
        sent = accepted & set(self._ids(self._paths.sent, ".json"))
        failed = (accepted & set(self._ids(self._paths.failed, ".json"))) - sent
        return {"queued": len(accepted) - len(sent) - len(failed), "sent": len(sent), "failed": len(failed)}

    def failed_reasons(self) -> dict[str, str]:
        """recording id -> why the central store refused it, for each take counted failed."""
        accepted = set(self._ids(self._paths.takes, ".json"))
        sent = set(self._ids(self._paths.sent, ".json"))
        reasons = {}
        for recording_id, record in self._read_all(self._paths.failed):
            if recording_id in accepted and recording_id not in sent:
                reasons[recording_id] = str(record.get("reason") or "no reason recorded")
        return reasons

    def voiced_person_ids(self) -> set[str]:
        """Persons with an accepted take here, sent or not, so no name is handed out twice offline.

        A take refused by the central store still counts: its voice is here, and a
        technician may yet bring it across. A withdrawn take does not.
        """
        return {
            person for take in self._accepted() if isinstance(person := take.metadata.get("person_id"), str)
        }

    # -- withdrawal ------------------------------------------------------------------

    def withdraw(self, withdrawal_code: str) -> Withdrawal:
        """Withdraw a participant's consent on this station, by the code they were given.

        A take not yet sent is deleted (audio and sidecar, a crash halfway is finished
        by `reconcile()`), and its name goes back to the queue. A take already sent can
        only be withdrawn on the central store, which holds it now; this says so.

        A take being uploaded at this moment (issue 18Y: several are in flight) is
        never deleted here while the store keeps it: the withdrawal takes the take's
        `sending` lock. Before the upload's last piece has gone, the withdrawal deletes
        the take and the upload, finding it gone, breaks off, so the store keeps
        nothing; after that, the withdrawal waits for the store's answer (at most
        `[sync] upload_timeout_s`) and then says "sent" if the store kept it.

        No screen or command calls this yet (issue WD). Participants withdraw through
        staff on the central store, which covers what this cannot: a take already sent,
        one whose 201 was lost (deleted here, kept there), and one not sent yet (the
        store keeps the withdrawal until the take arrives, `kiosk.central.pending_withdrawals`,
        and the booth then deletes its copy, `withdrawn_on_the_store`).
        """
        code = normalise_withdrawal_code(withdrawal_code)
        found = self._withdraw(code, recording_id=None)
        if found.status != "deleted" or found.recording_id is None:
            return found
        # Found and not sent: look again holding the take's sending lock, then delete.
        with self.sending(found.recording_id):
            done = self._withdraw(code, recording_id=found.recording_id)
        if done.status == "deleted":
            log.info("take withdrawn and deleted", extra={"recording_id": done.recording_id})
        return done

    @contextmanager
    def sending(self, recording_id: str) -> Iterator[None]:
        """Hold this take's sending lock: no withdrawal here decides on it meanwhile.

        An open-file-description lock on one byte of `.sending` (the byte's offset comes
        from the id), so threads of one process exclude each other as processes do, and
        the kernel releases it when its holder dies.
        """
        _check_id(recording_id)
        fd = os.open(self._sending_path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        try:
            offset = int(recording_id.replace("-", ""), 16) % _SENDING_SLOTS
            fcntl.fcntl(fd, fcntl.F_OFD_SETLKW, struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, offset, 1, 0))
            yield
        finally:
            os.close(fd)  # the last descriptor of the lock's file description: released

    def _withdraw(self, code: str, *, recording_id: str | None) -> Withdrawal:
        """What withdrawing `code` does now; deletes only when `recording_id` (locked) is the take found."""
        paths = self._paths
        with self._shared():
            for withdrawn_id, record in self._read_all(paths.withdrawn):
                if record.get("withdrawal_code") == code:
                    return Withdrawal(
                        "already_withdrawn",
                        "This recording was withdrawn earlier; its audio is deleted.",
                        recording_id=withdrawn_id,
                    )
            match = next(
                ((rid, m) for rid, m in self._read_all(paths.takes, paths.damaged) if m.get("withdrawal_code") == code),
                None,
            )
            if match is None:
                return Withdrawal(
                    "not_found",
                    "No recording on this station has this code. Check the code, or ask at the central store.",
                )
            found_id, metadata = match
            person_id = metadata.get("person_id")
            if (paths.sent / f"{found_id}.json").exists():
                return Withdrawal(
                    "sent",
                    "This recording has already reached the central store: it must be withdrawn there.",
                    recording_id=found_id,
                    person_id=person_id,
                )
            deleted = Withdrawal(
                "deleted",
                "The recording and its data are deleted from this station. The name can be read by someone else.",
                recording_id=found_id,
                person_id=person_id,
            )
            if recording_id != found_id:
                return deleted  # not yet: the caller takes the sending lock and asks again
            # The marker first: from here on, a crash leaves a withdrawal that
            # reconcile() finishes, never audio that looks orphaned or damaged.
            record = {"recording_id": found_id, "withdrawal_code": code, "withdrawn_at": _iso(_utc(None))}
            self._write_marker(record, paths.withdrawn / f"{found_id}.json")
            self._delete_take_files(found_id)
        return deleted

    def withdrawn_on_the_store(self, recording_id: str) -> bool:
        """Delete this station's copy of a take the central store says was withdrawn.

        Whether it was sent or is still queued (the store got it but the answer was
        lost), the audio and the sidecar go, with a withdrawn/ marker first so that a
        crash half-way is finished by `reconcile()`. True when something was deleted;
        False for a take this station no longer has (deleted before, or pruned).
        """
        _check_id(recording_id)
        paths = self._paths
        with self._shared():
            present = [
                path
                for path in (
                    paths.takes / f"{recording_id}.json",
                    paths.audio / f"{recording_id}.flac",
                    self.root / PRUNED / f"{recording_id}.json",
                )
                if path.exists()
            ] + sorted(paths.damaged.glob(f"{recording_id}*")) + sorted(paths.orphans.glob(f"{recording_id}*"))
            if not present:
                return False
            sidecar = next(iter(self._read_all_ids(paths.takes, recording_id)), {})
            record = {
                "recording_id": recording_id,
                "withdrawal_code": sidecar.get("withdrawal_code"),
                "withdrawn_at": _iso(_utc(None)),
                "where": "central store",
            }
            self._write_marker(record, paths.withdrawn / f"{recording_id}.json")
            self._delete_take_files(recording_id)
            self._codes = None  # read again: the code is in withdrawn/ now
        return True

    def _read_all_ids(self, directory: Path, recording_id: str) -> Iterator[dict[str, Any]]:
        try:
            content = json.loads((directory / f"{recording_id}.json").read_bytes())
        except (OSError, ValueError):
            return
        if isinstance(content, dict):
            yield content

    def _delete_take_files(self, recording_id: str) -> bool:
        """Delete every file of a withdrawn take, sidecar first; True if there was any."""
        paths = self._paths
        doomed = [paths.takes / f"{recording_id}.json", paths.audio / f"{recording_id}.flac"]
        doomed += sorted(paths.damaged.glob(f"{recording_id}*")) + sorted(paths.orphans.glob(f"{recording_id}*"))
        doomed.append(paths.failed / f"{recording_id}.json")
        doomed.append(paths.sent / f"{recording_id}.json")
        doomed.append(self.root / PRUNED / f"{recording_id}.json")  # the sidecar of a pruned take
        found = False
        for path in doomed:
            if path.exists():
                path.unlink()
                found = True
        if found:
            for directory in (paths.takes, paths.audio, paths.damaged, paths.orphans, paths.failed, paths.sent):
                fsync_directory(directory)
        return found

    # -- files -----------------------------------------------------------------------

    def _accepted(self) -> list[KeptTake]:
        """Every accepted take as its sidecar says; an unreadable sidecar waits for reconcile()."""
        paths = self._paths
        takes = []
        for rid in self._ids(paths.takes, ".json"):
            sidecar = paths.takes / f"{rid}.json"
            try:
                metadata = json.loads(sidecar.read_bytes())
            except FileNotFoundError:
                continue  # withdrawn or reconciled meanwhile
            except (OSError, ValueError):
                log.error("unreadable sidecar skipped; run reconcile", extra={"recording_id": rid})
                continue
            takes.append(KeptTake(rid, paths.audio / f"{rid}.flac", sidecar, metadata))
        return takes

    def _read_all(self, *directories: Path) -> Iterator[tuple[str, dict[str, Any]]]:
        """(recording id from the file name, content) of each readable <id>.json."""
        for directory in directories:
            for rid in self._ids(directory, ".json"):
                try:
                    content = json.loads((directory / f"{rid}.json").read_bytes())
                except (OSError, ValueError):
                    continue
                if isinstance(content, dict):
                    yield rid, content

    @staticmethod
    def _ids(directory: Path, suffix: str) -> list[str]:
        """Recording ids of the files named <id><suffix>; other names are not ours and left alone."""
        try:
            names = os.listdir(directory)
        except FileNotFoundError:
            return []
        return [
            name[: -len(suffix)]
            for name in names
            if name.endswith(suffix) and _ID_PATTERN.match(name[: -len(suffix)])
        ]

    def _write_marker(self, record: dict[str, Any], final: Path) -> None:
        rid = record["recording_id"]
        partial = self._paths.tmp / f"{rid}.{final.parent.name}.json.partial"
        try:
            _write_durably(_encode_json(record), partial, final)
        except OSError as error:
            partial.unlink(missing_ok=True)
            what = f"the station could not record the take as {final.parent.name}"
            raise _storage_error(error, self.root, what) from error

    def _make_dirs(self) -> None:
        """Create the layout; new directory entries are fsynced like any rename."""
        created = not self.root.exists()
        self.root.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        for directory in self._paths.all_dirs():
            try:
                directory.mkdir(mode=_DIR_MODE)
                created = True
            except FileExistsError:
                pass
        if not self._lock_path.exists():
            os.close(os.open(self._lock_path, os.O_WRONLY | os.O_CREAT, _FILE_MODE))
            created = True
        if created:
            fsync_directory(self.root)
            fsync_directory(self.root.parent)

    @contextmanager
    def _shared(self) -> Iterator[None]:
        with self._locked(fcntl.LOCK_SH):
            yield

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._locked(fcntl.LOCK_EX):
            yield

    @contextmanager
    def _locked(self, operation: int) -> Iterator[None]:
        # A new open file description per use: flock then also orders threads of one process.
        fd = os.open(self._lock_path, os.O_RDONLY)
        try:
            fcntl.flock(fd, operation)
            yield
        finally:
            os.close(fd)


def normalise_withdrawal_code(code: str) -> str:
    """The canonical XXXX-XXXX form of a code as a person typed it (case, spaces, dashes)."""
    canonical = normalise_code(code)
    if canonical is None:
        raise KioskError(
            f"{code!r} is not a withdrawal code",
            "a code has 8 letters and digits, like ABCD-2345; it never contains 0, O, 1, I, L or U",
        )
    return canonical


# -- durable files -------------------------------------------------------------------


def _write_durably(data: bytes, partial: Path, final: Path) -> None:
    """`partial` and `final` are on one file system, so after a crash `final` is absent or whole."""
    write_durably(final, data, partial=partial, mode=_FILE_MODE)


def _move(source: Path, directory: Path, name: str) -> None:
    """Move a file aside under `name`, or `name` with a number if taken: nothing overwritten."""
    target = directory / name
    number = 1
    while target.exists():
        target = directory / f"{name}.{number}"
        number += 1
    os.replace(source, target)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _encode_json(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False, default=_numpy_scalar) + "\n").encode()


def _numpy_scalar(value: object) -> object:
    # A quality report computed with numpy may hand over numpy scalars.
    if type(value).__module__ == "numpy" and callable(getattr(value, "item", None)):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _check_id(recording_id: str) -> None:
    """Refuse anything but a UUID4 string: ids become file names."""
    if not isinstance(recording_id, str) or not _ID_PATTERN.match(recording_id):
        raise ValueError(f"not a recording id: {recording_id!r}")


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(timezone.utc)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("recorded_at must carry a time zone, or the UTC time in the sidecar would be a guess")
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _storage_error(error: OSError, root: Path, what: str) -> KioskError:
    """The one message a technician gets when the station's disk lets a take down."""
    if error.errno in _DISK_FULL:
        try:
            free = f"{shutil.disk_usage(root).free / 1e6:.1f} MB free"
        except OSError:
            free = "free space unknown"
        return KioskError(
            f"the station's disk is full: {what} ({free} on the disk of {root})",
            "nothing of this take was kept; make space (let queued takes upload with `kiosk sync run`, "
            "or remove other files from the disk), then record or keep the take again",
        )
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return KioskError(
            f"the station may not write to {root}: {what} ({error.strerror})",
            "check that the data folder's disk is mounted read-write and belongs to the kiosk user",
        )
    return KioskError(
        f"the station's disk failed: {what} ({error.strerror or error})",
        "run `kiosk doctor` and check the disk; takes kept before are not affected",
    )
