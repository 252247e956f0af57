"""`GET /metrics`: the store's figures in Prometheus' text format (prometheus-client).

Read from the database at each scrape, so they are true whatever process changed them
(the staff pages, `kiosk central withdraw`, another worker):

- `dossin_takes_received_total`: recordings ever received (whatever became of them);
- `dossin_takes_approved`: recordings approved now;
- `dossin_recordings_waiting`: recordings waiting for staff to listen;
- `dossin_station_last_heartbeat_timestamp_seconds{station}`: when each station last
  sent a heartbeat (Unix time), for an alert on a silent station;
- `dossin_upload_errors_total{status}`: uploads this store process refused or lost,
  by HTTP status (counted in the process, so from its start).

Only for the machine itself (loopback, not through the reverse proxy) or for a scraper
that sends `Authorization: Bearer TOKEN` with the token in `[metrics] token_file`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from kiosk.central.db import Database
from kiosk.central.schema import latest_heartbeats, recordings, stations
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

LOOPBACK = frozenset({"127.0.0.1", "::1"})
FORWARDED = ("forwarded", "x-forwarded-for", "x-real-ip")


class _StoreFigures(Collector):
    def __init__(self, database: Database):
        self.database = database

    def collect(self) -> Iterator[Metric]:
        with self.database.read() as connection:
            by_status = dict(connection.execute(select(recordings.c.status, func.count()).group_by(recordings.c.status)).all())
            beats = connection.execute(
                select(stations.c.station_id, latest_heartbeats.c.received_at)
                .join(latest_heartbeats, latest_heartbeats.c.station_id == stations.c.id)
                .order_by(stations.c.station_id)
            ).all()
        received = CounterMetricFamily("dossin_takes_received", "Recordings ever received from the booths.")
        received.add_metric([], sum(by_status.values()))
        yield received
        yield GaugeMetricFamily("dossin_takes_approved", "Recordings approved by staff now.", value=by_status.get("approved", 0))
        yield GaugeMetricFamily(
            "dossin_recordings_waiting", "Recordings waiting for staff to listen.", value=by_status.get("received", 0)
        )
        last = GaugeMetricFamily(
            "dossin_station_last_heartbeat_timestamp_seconds", "When each station last sent a heartbeat.", labels=["station"]
        )
        for station_id, received_at in beats:
            last.add_metric([station_id], received_at.timestamp())
        yield last


class StoreMetrics:
    """One store app's registry: the database figures, and upload errors counted here."""

    def __init__(self, database: Database, token: str | None = None):
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_StoreFigures(database))
        self.upload_errors = Counter(
            "dossin_upload_errors", "Uploads refused or cut off, by HTTP status.", ["status"], registry=self.registry
        )
        self._token = token

    def count_upload_error(self, status: int) -> None:
        self.upload_errors.labels(status=str(status)).inc()

    def allowed(self, client_host: str | None, headers: Mapping[str, str]) -> bool:
        """Loopback without a proxy in between, or the scraper's token."""
        if client_host in LOOPBACK and not any(name in headers for name in FORWARDED):
            return True
        if not self._token:
            return False
        scheme, _, given = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self._token.encode())

    def render(self) -> bytes:
        return generate_latest(self.registry)


def read_metrics_token(path: Path | None) -> str | None:
    """The scraper's token from `[metrics] token_file`; None when none is configured."""
    if path is None:
        return None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise KioskError(
            f"the metrics token file {path} cannot be read ({error.strerror})",
            "write a long random token in it (e.g. `openssl rand -hex 32 > FILE`), readable by the store's user, "
            "or empty [metrics] token_file to allow loopback only",
        ) from None
    if len(token) < 16:
        raise KioskError(f"the metrics token in {path} is shorter than 16 characters", "write a long random token in it")
    return token
