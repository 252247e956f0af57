"""kiosk.link.prune: only audio the store acknowledged long ago leaves the station."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sync_support import keep_takes

from exhibits.booth.take_store import TakeStore
from kiosk.link.prune import prune, pruned_ids, sync_counts

LATER = datetime.now(timezone.utc) + timedelta(days=40)


@pytest.fixture
def store(tmp_path: Path) -> TakeStore:
    return TakeStore(tmp_path / "takes", "booth-1")


def four_takes(store: TakeStore) -> dict[str, str]:
    """One take in each state: sent (201), sent (200), failed, queued."""
    sent, held, failed, queued = (take.recording_id for take in keep_takes(store, 4))
    store.mark_sent(sent, status=201)
    store.mark_sent(held, status=200)
    store.mark_failed(failed, "the store refused it")
    return {"sent": sent, "held": held, "failed": failed, "queued": queued}


def test_only_takes_sent_longer_ago_than_the_keep_time_lose_their_audio(store):
    ids = four_takes(store)
    assert prune(store, 30).pruned == (), "sent just now: kept"
    report = prune(store, 30, now=LATER)
    assert set(report.pruned) == {ids["sent"], ids["held"]} and report.freed_bytes > 0
    for kind in ("sent", "held"):
        assert not (store.root / "audio" / f"{ids[kind]}.flac").exists()
        assert not (store.root / "takes" / f"{ids[kind]}.json").exists()
    for kind in ("failed", "queued"):
        assert (store.root / "audio" / f"{ids[kind]}.flac").exists(), f"a {kind} take is never pruned"
        assert (store.root / "takes" / f"{ids[kind]}.json").exists()
    assert [take.recording_id for take in store.queued()] == [ids["queued"]]


def test_unsent_takes_are_never_touched_even_with_no_keep_time(store):
    ids = four_takes(store)
    before = {p: p.read_bytes() for kind in ("failed", "queued") for p in store.root.rglob(f"{ids[kind]}*")}
    prune(store, 0, now=LATER + timedelta(days=3650))
    assert {p: p.read_bytes() for p in before} == before


def test_after_pruning_the_store_is_consistent_and_counts_stay_right(store):
    ids = four_takes(store)
    counts = sync_counts(store)
    prune(store, 30, now=LATER)
    report = store.reconcile(full=True)
    assert report.clean, report.summary()
    assert sync_counts(store) == counts == {"queued": 1, "sent": 2, "failed": 1}
    record = json.loads((store.root / "pruned" / f"{ids['sent']}.json").read_text())
    assert record["consent"]["version"] == "2026-11" and record["withdrawal_code"]
    assert record["pruned_at"] and record["sent_at"]
    assert prune(store, 30, now=LATER).pruned == (), "pruning twice changes nothing"


def test_a_prune_interrupted_by_a_crash_is_finished_next_time(store):
    ids = four_takes(store)
    root = store.root
    # Crash 1: the record was written, the sidecar and audio still there.
    (root / "pruned").mkdir(exist_ok=True)
    shutil.copy(root / "takes" / f"{ids['sent']}.json", root / "pruned" / f"{ids['sent']}.json")
    assert sync_counts(store)["sent"] == 2, "not counted twice while half pruned"
    # Crash 2: record and sidecar gone, audio left; the booth's reconcile() calls it an orphan.
    shutil.copy(root / "takes" / f"{ids['held']}.json", root / "pruned" / f"{ids['held']}.json")
    (root / "takes" / f"{ids['held']}.json").unlink()
    assert store.reconcile().orphaned == (ids["held"],)
    report = prune(store, 30)
    assert set(report.finished) == {ids["sent"], ids["held"]}
    assert not list((root / "orphans").iterdir())
    assert not (root / "audio" / f"{ids['sent']}.flac").exists()
    assert store.reconcile().clean
    assert sync_counts(store) == {"queued": 1, "sent": 2, "failed": 1}
    assert pruned_ids(store) == {ids["sent"], ids["held"]}
