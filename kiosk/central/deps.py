"""What a route of the store needs, as FastAPI dependencies read from the app's state.

`create_app` (kiosk.central.api) puts the store's parts on `app.state` once; the API's and
the staff pages' routes, defined at module level, receive them with `Depends`, so a
route says in its signature what it uses and a test can override any of them.
They are `async`: FastAPI runs a plain `def` dependency in its thread pool, a thread
hop per dependency per request for reading an attribute.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kiosk.central.config import CentralConfig
from kiosk.central.db import Database
from kiosk.central.leases import NameRules
from kiosk.central.recordings import AudioStore


async def database(request: Request) -> Database:
    return request.app.state.database


async def audio_store(request: Request) -> AudioStore:
    return request.app.state.audio


async def central_config(request: Request) -> CentralConfig:
    return request.app.state.config


async def name_rules(request: Request) -> NameRules:
    return request.app.state.rules


async def upload_limit(request: Request) -> int:
    return request.app.state.upload_limit


DatabaseDep = Annotated[Database, Depends(database)]
AudioDep = Annotated[AudioStore, Depends(audio_store)]
ConfigDep = Annotated[CentralConfig, Depends(central_config)]
NameRulesDep = Annotated[NameRules, Depends(name_rules)]
UploadLimitDep = Annotated[int, Depends(upload_limit)]
