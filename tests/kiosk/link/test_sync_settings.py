"""The [sync] section of station.toml: defaults, the template's lines, mistakes named."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import load_station_config, parse_station_config, write_station_config
from kiosk.errors import KioskError

MINIMAL = '[station]\nid = "booth-1"\nexhibit = "booth"\n'


def test_defaults_without_a_sync_section():
    sync = parse_station_config(MINIMAL, Path("/s/station.toml")).sync
    assert (sync.heartbeat_s, sync.keep_sent_days, sync.names_in_hand) == (60, 30, 3)
    assert (sync.retry_first_s, sync.retry_max_s) == (1, 300)


def test_station_init_writes_every_sync_setting(tmp_path):
    target = write_station_config(tmp_path, exhibit="booth", station_id="booth-1")
    text = target.read_text()
    for key in ("heartbeat_s", "keep_sent_days", "names_in_hand", "retry_first_s", "retry_max_s", "invalid_retries", "invalid_retry_s", "upload_timeout_s"):
        assert f"\n{key} = " in text
    assert load_station_config(target).sync == parse_station_config(MINIMAL, target).sync


@pytest.mark.parametrize(
    "lines, words",
    [
        ("retry_first_s = 10\nretry_max_s = 2", "[sync] retry_max_s must be at least retry_first_s"),
        ("heartbeat_s = 1", "[sync] heartbeat_s"),
        ("keep_sent_days = -1", "[sync] keep_sent_days"),
        ("upload_every = 3", "[sync] upload_every unknown setting"),
    ],
)
def test_mistakes_are_named_with_section_and_key(lines, words):
    with pytest.raises(KioskError) as raised:
        parse_station_config(MINIMAL + "[sync]\n" + lines + "\n", Path("/s/station.toml"))
    assert words in raised.value.message
