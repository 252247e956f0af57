"""The station's one door to the central store's HTTP API.

Everything the station says to the store (uploads, heartbeats, leases for names) goes
through `CentralClient`, so the token, the time limits and the translation of network
trouble live in one place. httpx's many exception types are folded once into two of
ours, as the Home Assistant integrations wrap their device libraries:

- `StoreUnreachable`: no answer that means anything (refused or reset connection, time
  out, a cut response, a 5xx from the store or a proxy in front of it). Worth trying
  again later; nothing is decided.
- `StoreDiskFull` (a `StoreUnreachable`): the store answered 507, its disk is full. It
  kept nothing; worth trying again once a technician has made room, and said as such,
  not as "unreachable".
- `TokenRefused` (a `KioskError`): the store says the token is wrong or revoked (401).
  Trying again cannot help; a technician must enroll the station again.

Any other answer is returned as it is, for the caller to read by its status.

The token travels only in the Authorization header. It is never logged, never put in an
error message, and the client's repr does not show it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from kiosk import __version__
from kiosk.config import StationConfig
from kiosk.errors import KioskError

if TYPE_CHECKING:  # httpx (with rich and pygments, 14 MB) only once a station talks to its store
    import httpx

log = logging.getLogger(__name__)

API = "/api/v1"
DEFAULT_TIMEOUT_S = 10.0


class StoreUnreachable(Exception):
    """The store gave no usable answer; the request may or may not have had an effect."""


class StoreDiskFull(StoreUnreachable):
    """The store answered 507: its disk is full and it kept nothing of the request."""


class TokenRefused(KioskError):
    """The store refused the station's token: nothing more can be sent until it is replaced."""


def token_refused(station_id: str, token_file: str | Path, url: str, status: int, detail: str) -> TokenRefused:
    """The message a technician gets when the store refuses this station's token."""
    if status == 403:
        what = (
            f"the central store at {url} refused this station's uploads (403 Forbidden: {detail}): "
            f"the token in {token_file} belongs to another station than {station_id!r}"
        )
    else:
        what = (
            f"the central store at {url} refused this station's token (401 Unauthorized): "
            f"the token in {token_file} is wrong or has been revoked"
        )
    return TokenRefused(
        what,
        f"on the central store run `kiosk central enroll --config central.toml {station_id}`, save the token it "
        f"prints in {token_file} (readable by the kiosk user only), then start `kiosk sync run` again; "
        "no take was marked, all stay queued",
    )


def problem_code(response: httpx.Response) -> str | None:
    """The store's machine-readable reason for a refusal (`"code"` of its problem JSON,
    e.g. "name_taken_elsewhere"), or None."""
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None


def problem_detail(response: httpx.Response) -> str:
    """The store's `detail` for a refusal, or the start of the body when it is not JSON."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, str):
        return detail
    if detail is not None:
        return str(detail)[:500]
    text = response.text.strip()
    return text[:200] if text else response.reason_phrase


class CentralClient:
    """An authenticated HTTP client for one station and its central store.

    Create it with `for_station(config)`; `transport` lets tests put a dummy server
    (httpx.MockTransport) in place of the network. Close it when done (or use `with`).
    """

    def __init__(
        self,
        base_url: str,
        token: SecretStr | None,
        *,
        station_id: str,
        token_file: str | Path = "",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ):
        if not base_url:
            raise KioskError(
                "[central] url is empty: this station has no central store to sync with",
                "set [central] url in station.toml to the store's address, e.g. http://central.local:8800",
            )
        if token is None:
            raise KioskError(
                "[central] token_file is not set: the central store would refuse this station",
                f"run `kiosk central enroll --config central.toml {station_id}` on the store, save the token "
                "in a file and name that file in [central] token_file",
            )
        self.base_url = base_url.rstrip("/")
        self.station_id = station_id
        self.token_file = str(token_file)
        import httpx

        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {token.get_secret_value()}",
                "User-Agent": f"dossin-kiosk/{__version__} ({station_id})",
            },
            timeout=timeout_s,
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def for_station(
        cls, config: StationConfig, *, timeout_s: float = DEFAULT_TIMEOUT_S, transport: httpx.BaseTransport | None = None
    ) -> CentralClient:
        token_file = config.resolve(config.central.token_file) if config.central.token_file else ""
        return cls(
            config.central.url,
            config.token() if config.central.url else None,
            station_id=config.station.id,
            token_file=token_file,
            timeout_s=timeout_s,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"<CentralClient {self.base_url} station={self.station_id}>"

    def __enter__(self) -> CentralClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, method: str, path: str, *, timeout_s: float | None = None, **kwargs: Any) -> httpx.Response:
        """One request to `API + path`; the answer, or StoreUnreachable / TokenRefused.

        A 5xx counts as unreachable: a store that cannot answer properly decided nothing.
        """
        if timeout_s is not None:
            kwargs["timeout"] = timeout_s
        import httpx

        try:
            response = self._http.request(method, f"{API}{path}", **kwargs)
        except httpx.RequestError as error:
            raise StoreUnreachable(f"{type(error).__name__}: {_first_line(error)}") from error
        if response.status_code == 507:
            raise StoreDiskFull(f"the central store's disk is full (507: {problem_detail(response)})")
        if response.status_code >= 500:
            raise StoreUnreachable(f"{response.status_code} {response.reason_phrase}: {problem_detail(response)}")
        if response.status_code == 401:
            raise token_refused(self.station_id, self.token_file, self.base_url, 401, problem_detail(response))
        return response


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "no details"
