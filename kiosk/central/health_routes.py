"""Routes for station health and withdrawal (issue 14), as a router the store's app includes.

- `GET /api/v1/withdrawn`: the recordings this station uploaded that were withdrawn since
  (`{"recordings": [id, ...]}`); the station deletes its own copies of them.
- `GET /metrics`: Prometheus text format (`kiosk.central.metrics`); loopback or token.
"""

from __future__ import annotations

import uuid
from typing import Any

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from kiosk.central.moderation import withdrawn_from
from kiosk.central.stations import Station


class WithdrawnOut(BaseModel):
    recordings: list[uuid.UUID]


def health_router(
    api: str, current_station: Callable[..., Station], answers: dict[int | str, dict[str, Any]]
) -> APIRouter:
    """The routes, with the API's prefix, how it finds the calling station, and its documented refusals."""
    router = APIRouter()

    @router.get(f"{api}/withdrawn", response_model=WithdrawnOut, responses=answers, tags=["stations"])
    def get_withdrawn(request: Request, station: Station = Depends(current_station)) -> Any:
        """The recordings of this station that were withdrawn: delete every copy of them."""
        return {"recordings": withdrawn_from(request.app.state.database, station.id)}

    router.add_api_route("/metrics", get_metrics, methods=["GET"], include_in_schema=False)
    return router


def get_metrics(request: Request) -> Response:
    metrics = request.app.state.metrics
    if not metrics.allowed(request.client.host if request.client else None, request.headers):
        return Response(
            "metrics are served on loopback, or with Authorization: Bearer and the token of [metrics] token_file\n",
            status_code=403,
            media_type="text/plain",
        )
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
