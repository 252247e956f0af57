"""The station's link to the central store: everything a station says to it or asks of it.

It imports no exhibit: the exhibits use it.

- `outbox`: accepted takes on disk and their sync queue (the booth adds to it).
- `leases`: names leased from the store, a hand kept ahead for offline work.
- `voices`: the store's approved voices, cached on the station.
- `uploader`: one take at a time, exactly the upload protocol of CONTRACT.md.
- `runner`: `kiosk sync run` (passes, backoff, `--once`), heartbeats from `heartbeat`.
- `prune`: the audio of takes the store acknowledged long ago leaves the station.
- `status`: the booth's own state, written by the booth for the heartbeats.
- `client`: the one HTTP door to the store, with the token and the error types.
"""

from kiosk.link.status import read_station_status, write_station_status

__all__ = ["read_station_status", "write_station_status"]
