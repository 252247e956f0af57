"""A take withdrawn at the central store leaves the booth too, at its next sync: real store on loopback."""

from __future__ import annotations

import json
import logging

from sync_support import keep_takes

from kiosk.central.moderation import withdraw
from kiosk.central.recordings import AudioStore
from kiosk.link.runner import SyncRunner


def files_of(store, recording_id: str) -> list[str]:
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob(f"{recording_id}*") if "withdrawn" not in p.parts)


def test_sent_and_queued_copies_are_deleted_at_the_next_sync(station, central, caplog):
    store = station.store
    sent, queued, kept = keep_takes(store, 3)
    runner = SyncRunner(station.config)
    try:
        assert runner.run_once().sent == 3
        # The store got this one, but the station never heard so: it is still queued here.
        (store.root / "sent" / f"{queued.recording_id}.json").unlink()
        assert [t.recording_id for t in store.queued()] == [queued.recording_id]
        audio = AudioStore(central.config.audio_dir)
        for take in (sent, queued):
            withdraw(central.database, audio, take.metadata["withdrawal_code"], by="anna")
        caplog.set_level(logging.DEBUG)
        report = runner.run_once()
    finally:
        runner.close()
    assert report.withdrawn == 2
    for take in (sent, queued):
        assert files_of(store, take.recording_id) == [], take.recording_id  # audio, sidecar, markers: gone
        assert (store.root / "withdrawn" / f"{take.recording_id}.json").exists()  # so a crash half-way is finished
    assert files_of(store, kept.recording_id) == [f"audio/{kept.recording_id}.flac", f"sent/{kept.recording_id}.json",
                                                  f"takes/{kept.recording_id}.json"]
    assert store.counts()["queued"] == 0
    # The log says it happened, never whose.
    assert any("withdrawn takes deleted" in record.getMessage() for record in caplog.records)
    about_withdrawal = [r for r in caplog.records if "withdraw" in r.getMessage() + r.name]
    assert about_withdrawal
    for record in about_withdrawal:
        said = json.dumps(record.__dict__, default=str)
        for take in (sent, queued):
            for secret in (take.recording_id, take.metadata["person_id"], take.metadata["withdrawal_code"]):
                assert secret not in said, (secret, record.getMessage())
    # Nothing more to do the next time.
    runner = SyncRunner(station.config)
    try:
        assert runner.run_once().withdrawn == 0
    finally:
        runner.close()
