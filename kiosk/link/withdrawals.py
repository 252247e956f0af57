"""A booth deletes its own copy of a take the participant withdrew at the central store.

Staff withdraw a recording by its code (the staff page, `kiosk central withdraw`); the
store then lists it among this station's withdrawn recordings (`GET /api/v1/withdrawn`).
`kiosk sync run` asks at every heartbeat, and `--once` at its end, and deletes the take's
audio and sidecar here, whether it was sent or is still queued. The log says how many
takes went, never whose.
"""

from __future__ import annotations

import logging
import uuid

from kiosk.link.outbox import Outbox
from kiosk.link.client import CentralClient, StoreUnreachable, problem_detail

log = logging.getLogger(__name__)


def apply_withdrawals(client: CentralClient, store: Outbox) -> int:
    """Delete the takes the store says were withdrawn; how many were deleted here.

    StoreUnreachable when the store cannot be asked (asked again next time); TokenRefused
    for a refused token.
    """
    response = client.send("GET", "/withdrawn")
    if response.status_code != 200:
        raise StoreUnreachable(f"{response.status_code} from GET /api/v1/withdrawn: {problem_detail(response)}")
    try:
        listed = [str(uuid.UUID(str(item))) for item in response.json()["recordings"]]
    except (ValueError, KeyError, TypeError) as error:
        raise StoreUnreachable(f"the store's list of withdrawn recordings is not readable: {error!r}") from None
    deleted = sum(store.withdrawn_on_the_store(recording_id) for recording_id in listed)
    if deleted:
        log.info("withdrawn takes deleted from this station", extra={"takes": deleted})
    return deleted
