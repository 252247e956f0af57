"""Token checks from the store's map of known tokens: an ended token is refused from the
next request on, whether it was revoked or replaced in the serving process or by
`kiosk central revoke|enroll` in another one; and sixteen booths claiming over HTTP while
tokens are revoked never hold one name twice. On SQLite and PostgreSQL, real uvicorn on
loopback, the real command line."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import httpx
import pytest
from central_support import Store, lease_rule_breaks
from sqlalchemy import func, select
from test_central_cli import kiosk

from kiosk.central.api import create_app
from kiosk.central.codes import token_hash
from kiosk.central.leases import NameRules, claim, release
from kiosk.central.schema import leases, stations
from kiosk.central.stations import Station, enroll, revoke
from kiosk.central.tokens import TokenEnded

BOOTHS = 16


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _config_file(store: Store) -> str:
    return str(store.config.source)


def _refused(answer: httpx.Response) -> bool:
    return answer.status_code == 401 and answer.headers.get("www-authenticate") == "Bearer"


@pytest.fixture
def served(store: Store, live_server: Any) -> str:
    return live_server(create_app(store.config, store.database)).url


def test_a_token_revoked_in_the_serving_process_is_refused_on_the_next_request(store: Store, served: str):
    token = enroll(store.database, "booth-1")
    with _client(served, token) as booth:
        [lease] = booth.post("/api/v1/leases", json={"how": "next"}).json()["leases"]
        assert len(store.database.tokens) == 1  # known now: later requests need no database to say who
        revoke(store.database, "booth-1")
        assert len(store.database.tokens) == 0
        assert _refused(booth.post("/api/v1/leases", json={"how": "next"}))
        assert _refused(booth.delete(f"/api/v1/leases/{lease['lease_id']}"))
        assert _refused(booth.get("/api/v1/leases"))
        assert _refused(booth.post(f"/api/v1/leases/{lease['lease_id']}/renew"))


def test_a_token_revoked_by_another_process_is_refused_on_the_next_request(store: Store, served: str):
    """`kiosk central revoke` runs as its own program: the server's map cannot hear it, the
    lease operations read the station's row in their own transaction."""
    token = enroll(store.database, "booth-1")
    with _client(served, token) as booth:
        [lease] = booth.post("/api/v1/leases", json={"how": "next", "count": 1}).json()["leases"]
        assert store.database.tokens.get(token_hash(token)) is not None
        result = kiosk("central", "revoke", "--config", _config_file(store), "booth-1", "--json")
        assert result.returncode == 0, result.stderr
        # The map still knows the token; the very next request is refused all the same.
        assert store.database.tokens.get(token_hash(token)) is not None
        assert _refused(booth.delete(f"/api/v1/leases/{lease['lease_id']}"))
        assert store.database.tokens.get(token_hash(token)) is None  # and forgotten
        assert _refused(booth.post("/api/v1/leases", json={"how": "next"}))
        assert _refused(booth.post("/api/v1/heartbeats", json={}))
    with store.database.read() as connection:
        assert connection.execute(select(leases.c.end_reason)).scalars().all() == ["released"]


def test_a_token_replaced_by_another_process_is_refused_and_the_new_one_works(store: Store, served: str):
    old = enroll(store.database, "booth-1")
    with _client(served, old) as booth:
        assert booth.post("/api/v1/leases", json={"how": "next"}).status_code == 200
        result = kiosk("central", "enroll", "--config", _config_file(store), "booth-1")
        assert result.returncode == 0, result.stderr
        new = result.stdout.strip()
        assert _refused(booth.post("/api/v1/leases", json={"how": "next"}))
        assert _refused(booth.get("/api/v1/leases"))
    with _client(served, new) as booth:
        held = booth.get("/api/v1/leases").json()["leases"]
        assert len(held) == 1  # re-enrolling keeps the station's names
        assert booth.delete(f"/api/v1/leases/{held[0]['lease_id']}").status_code == 204
        assert booth.post("/api/v1/leases", json={"how": "next"}).status_code == 200


def test_unknown_tokens_are_refused_and_not_kept(store: Store, served: str):
    for attempt in range(20):
        with _client(served, f"not-a-token-{attempt}") as stranger:
            assert _refused(stranger.post("/api/v1/leases", json={"how": "next"}))
            assert _refused(stranger.delete("/api/v1/leases/00000000-0000-4000-8000-000000000000"))
    assert len(store.database.tokens) == 0


def test_a_wall_token_from_the_map_still_may_not_lease(store: Store, served: str):
    token = enroll(store.database, "wall-1", "wall")
    with _client(served, token) as wall:
        assert wall.get("/api/v1/voices").status_code == 200  # the token is known now
        for _ in range(2):
            answer = wall.post("/api/v1/leases", json={"how": "next"})
            assert answer.status_code == 403 and answer.json()["code"] == "wrong_role"


def test_the_lease_operations_check_the_token_in_their_transaction(store: Store):
    """Called in process with a Station that proved an old token: refused, and forgotten."""
    database = store.database
    first = enroll(database, "booth-1")
    with database.read() as connection:
        row = connection.execute(select(stations.c.id)).scalar_one()
    proved = Station(row, "booth-1", "booth", token_hash=token_hash(first))
    database.tokens.keep(token_hash(first), proved)
    [lease] = claim(database, proved, NameRules(), how="next")
    enroll(database, "booth-1")  # a new token: the old one ends
    for attempt in (
        lambda: claim(database, proved, NameRules(), how="next"),
        lambda: claim(database, proved, NameRules(), how="match", first_name="Chaja"),
        lambda: release(database, proved, lease.lease_id),
    ):
        database.tokens.keep(token_hash(first), proved)
        with pytest.raises(TokenEnded):
            attempt()
        assert database.tokens.get(token_hash(first)) is None
    # A Station made by the caller itself, without a token, is checked for revocation only.
    release(database, Station(row, "booth-1"), lease.lease_id)
    revoke(database, "booth-1")
    with pytest.raises(TokenEnded):
        claim(database, Station(row, "booth-1"), NameRules(), how="next")


def test_sixteen_booths_while_tokens_are_revoked_never_hold_one_name_twice(store: Store, served: str):
    """Booths claim and give back as fast as they can; two of them are revoked meanwhile,
    one in the serving process and one by `kiosk central revoke`. Every request a revoked
    booth sends after its revocation returned is refused; no name is held twice."""
    database = store.database
    tokens = {f"booth-{n}": enroll(database, f"booth-{n}") for n in range(1, BOOTHS + 1)}
    # Set before each revocation starts and after it returned.
    revoking = {"booth-1": threading.Event(), "booth-2": threading.Event()}
    revoked_at = {"booth-1": threading.Event(), "booth-2": threading.Event()}
    lock = threading.Lock()
    holder: dict[str, str] = {}
    problems: list[str] = []
    claims = [0]
    stop = threading.Event()

    def booth_loop(booth: str, seed: int) -> None:
        rng = random.Random(seed)
        with _client(served, tokens[booth]) as client:
            while True:
                if stop.is_set():
                    return
                after_revocation = booth in revoked_at and revoked_at[booth].is_set()
                answer = client.post("/api/v1/leases", json={"how": "next", "count": rng.randint(1, 2)})
                if after_revocation or answer.status_code == 401:
                    if not _refused(answer):
                        problems.append(f"{booth} served after its revocation: {answer.status_code}")
                    return
                if answer.status_code != 200:
                    problems.append(f"{booth}: {answer.status_code} {answer.text}")
                    return
                for lease in answer.json()["leases"]:
                    with lock:
                        claims[0] += 1
                        other = holder.get(lease["person_id"])
                        # A revocation gives the booth's names back while it may still think it holds them.
                        if other is not None and not (other in revoking and revoking[other].is_set()):
                            problems.append(f"{lease['person_id']} held by {other} and {booth}")
                        holder[lease["person_id"]] = booth
                    with lock:  # let go before the give-back is sent: the span lies within the lease
                        if holder.get(lease["person_id"]) == booth:
                            del holder[lease["person_id"]]
                    gave = client.delete(f"/api/v1/leases/{lease['lease_id']}")
                    if gave.status_code != 204 and not (booth in revoked_at and _refused(gave)):
                        problems.append(f"{booth} gave back: {gave.status_code} {gave.text}")

    finished: set[str] = set()

    def guarded(booth: str, seed: int) -> None:
        try:
            booth_loop(booth, seed)
        except BaseException as error:  # reported by the test, not lost in a thread
            problems.append(f"{booth}: {error!r}")
        finally:
            finished.add(booth)

    threads = [threading.Thread(target=guarded, args=(booth, seed)) for seed, booth in enumerate(tokens)]
    for thread in threads:
        thread.start()
    try:
        _wait_for(lambda: claims[0] >= 3 * BOOTHS or problems)
        revoking["booth-1"].set()
        revoke(database, "booth-1")
        revoked_at["booth-1"].set()
        revoking["booth-2"].set()
        result = kiosk("central", "revoke", "--config", _config_file(store), "booth-2")
        assert result.returncode == 0, result.stderr
        revoked_at["booth-2"].set()
        after = claims[0]
        # The revoked booths stop at their first refusal; the others go on meanwhile.
        _wait_for(lambda: {"booth-1", "booth-2"} <= finished and claims[0] >= after + 3 * BOOTHS or problems)
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)
    assert problems == []
    assert lease_rule_breaks(database) == {"open_twice": 0, "held_without_lease": 0, "held_otherwise": 0}
    with database.read() as connection:
        held_by_revoked = connection.execute(
            select(func.count())
            .select_from(leases.join(stations, stations.c.id == leases.c.station_id))
            .where(leases.c.ended_at.is_(None), stations.c.revoked_at.is_not(None))
        ).scalar()
    assert held_by_revoked == 0


def _wait_for(condition: Any, timeout: float = 120.0) -> None:
    """Wait on a condition, failing only after a generous timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come about in time"
        time.sleep(0.01)
