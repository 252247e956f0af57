"""The station tokens this store process has seen, by hash: a token check without the database.

Every booth request carries its token. Reading the `stations` table for each one cost a
read transaction per request, two per claim and give-back. `KnownTokens` keeps, per
process, the SHA-256 of each token that proved a station, with that station; a request
whose token is in the map needs no database to say who sent it.

What ends a token must end it at once, in every process that keeps such a map:
- In this process, `enroll` and `revoke` (`kiosk.central.stations`) forget the station's
  tokens as they change its row.
- In another process (`kiosk central revoke` and `kiosk central enroll` run as their own
  programs, next to the serving one), the map cannot hear it. So the map only says who
  a token *claims* to be: the lease operations (`kiosk.central.leases`), the hot path,
  read the station's row inside the write transaction they open anyway (the claim
  already locked that row) and refuse a revoked or replaced token there (401,
  `TokenEnded`), forgetting it; every other route reads the row as before
  (`kiosk.central.api.current_station`). No request is ever served on a token that the
  database no longer holds when the request's transaction runs.

Only tokens that proved a station are kept (at most a few per station, enrolled
by a technician), so the map stays small whatever strangers send.
"""

from __future__ import annotations

import threading
from typing import Any

from kiosk.central.errors import Refusal

NO_TOKEN = "no valid station token: send Authorization: Bearer TOKEN with the token from `kiosk central enroll`"


class TokenEnded(Refusal):
    """401: the token was revoked or replaced since this process last saw it (or is unknown)."""

    status = 401

    def __init__(self, detail: str = NO_TOKEN):
        super().__init__(detail)


class KnownTokens:
    """token hash -> the station it proves (a `kiosk.central.stations.Station`), for one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stations: dict[str, Any] = {}

    def get(self, token_hash: str) -> Any | None:
        return self._stations.get(token_hash)

    def keep(self, token_hash: str, station: Any) -> None:
        with self._lock:
            self._stations[token_hash] = station

    def forget(self, *, token_hash: str | None = None, station_row: int | None = None) -> None:
        """Forget one token, or every token of the station with row id `station_row`."""
        with self._lock:
            if token_hash is not None:
                self._stations.pop(token_hash, None)
            if station_row is not None:
                for hashed in [h for h, station in self._stations.items() if station.id == station_row]:
                    del self._stations[hashed]

    def __len__(self) -> int:
        return len(self._stations)
