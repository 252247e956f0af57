"""The station side of sync: takes go up to the central store, the station reports in.

- `uploader`: one take at a time, exactly the upload protocol of CONTRACT.md.
- `runner`: `kiosk sync run` (passes, backoff, `--once`), heartbeats from `heartbeat`.
- `prune`: the audio of takes the store acknowledged long ago leaves the station.
- `status`: the booth's own state, written by the booth for the heartbeats.
- `client`: the one HTTP door to the store, with the token and the error types.

The booth's names over the network live beside the booth: `exhibits.booth.remote_names`.
"""

from kiosk.sync.status import read_station_status, write_station_status

__all__ = ["read_station_status", "write_station_status"]
