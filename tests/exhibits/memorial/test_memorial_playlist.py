"""The memorial's order, loudspeakers and opening hours, without sound or screen."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from exhibits.memorial.playlist import ChannelMap, Entry, OpeningHours, Playlist
from kiosk.config import parse_station_config
from kiosk.errors import KioskError


def entry(position: int, number: int, transport: str = "", person: str | None = None) -> Entry:
    return Entry(
        person_id=person or f"p-{position}-{number}",
        sha256=f"{position:02d}{number:062d}",
        size_bytes=10,
        surname=f"S{number}",
        given_names="G",
        transport=transport or f"T{position}",
        transport_position=position,
        list_number=number,
    )


def test_names_play_in_transport_then_list_order_and_start_again_after_the_last():
    playlist = Playlist([entry(2, 1), entry(0, 10), entry(0, 2), entry(1, 5)])
    heard, key = [], None
    for _ in range(6):
        following = playlist.after(key)
        heard.append((following.transport_position, following.list_number))
        key = following.key
    assert heard == [(0, 2), (0, 10), (1, 5), (2, 1), (0, 2), (0, 10)]


def test_a_newly_approved_name_joins_at_its_place_and_a_withdrawn_one_disappears():
    first = Playlist([entry(0, 1), entry(0, 3), entry(1, 1)])
    current = first.after(None)
    assert (current.list_number, current.transport_position) == (1, 0)
    # Meanwhile list number 2 was approved and 3 withdrawn.
    second = Playlist([entry(0, 1), entry(0, 2), entry(1, 1)])
    following = second.after(current.key)
    assert following.list_number == 2
    assert second.after(following.key).transport_position == 1
    # Even the name sounding now may be withdrawn: the next is still found by its place.
    third = Playlist([entry(1, 1)])
    assert third.after(current.key).transport_position == 1
    assert Playlist([]).after(current.key) is None


def test_each_transport_has_its_loudspeaker_and_fewer_loudspeakers_fold_in_turn():
    on_28 = ChannelMap(28)
    assert [on_28.channel_of(entry(p, 1)) for p in range(28)] == list(range(28))
    on_4 = ChannelMap(4)
    assert [on_4.channel_of(entry(p, 1)) for p in range(9)] == [0, 1, 2, 3, 0, 1, 2, 3, 0]
    named = ChannelMap(4, {"XXIIA": 4})
    assert named.channel_of(entry(22, 1, "XXIIA")) == 3
    assert named.channel_of(entry(23, 1, "XXIIB")) == 23 % 4
    with pytest.raises(KioskError, match="channels 1 to 4"):
        ChannelMap(4, {"Z": 5})


def test_opening_hours_follow_the_week_and_the_closed_dates():
    hours = OpeningHours(
        {"mon": "09:00-17:00", "tue": "09:00-12:00, 13:00-17:00", "wed": "closed", "sun": "10:00-24:00"},
        closed_dates=[date(2026, 12, 25)],
    )
    monday = datetime(2026, 11, 23, 8, 59)
    assert not hours.is_open(monday)
    assert hours.is_open(monday.replace(hour=9, minute=0))
    assert hours.is_open(monday.replace(hour=16, minute=59))
    assert not hours.is_open(monday.replace(hour=17, minute=0))
    assert not hours.is_open(datetime(2026, 11, 24, 12, 30))  # Tuesday lunch
    assert hours.is_open(datetime(2026, 11, 24, 13, 0))
    assert not hours.is_open(datetime(2026, 11, 25, 11, 0))  # Wednesday
    assert not hours.is_open(datetime(2026, 11, 28, 11, 0))  # Saturday, not listed
    assert hours.is_open(datetime(2026, 11, 29, 23, 59))  # Sunday until midnight
    assert not hours.is_open(datetime(2026, 12, 25, 11, 0))  # a Friday, but closed that day
    assert hours.describe(datetime(2026, 11, 24, 8, 0)) == "09:00-12:00, 13:00-17:00"
    with pytest.raises(KioskError, match=r"opening hours, mon"):
        OpeningHours({"mon": "17:00-09:00"})


MEMORIAL_TOML = """
[station]
id = "memorial-1"
exhibit = "memorial"

[memorial]
output = "simulated"
channels = 4
pause_s = 2.5

[memorial.channel_of]
XXIIA = 4
Z = 1
"""


def test_the_memorial_settings_are_read_from_station_toml_and_mistakes_named():
    config = parse_station_config(MEMORIAL_TOML, Path("/srv/memorial/station.toml"))
    settings = config.memorial
    assert (settings.channels, settings.pause_s, settings.target_lufs) == (4, 2.5, -23.0)
    assert settings.channel_of == {"XXIIA": 4, "Z": 1}
    assert settings.hours_file == "/etc/dossin/hours.conf"  # the gallery's one hours file
    with pytest.raises(KioskError) as refused:
        parse_station_config(MEMORIAL_TOML.replace("XXIIA = 4", "XXIIA = 5"), Path("/srv/m/station.toml"))
    assert "[memorial] channel_of" in str(refused.value) and "beyond the 4" in str(refused.value)
    # Every station.toml had [memorial.hours] before the hours file: it no longer counts,
    # and does not stop a station after an update (the doctor says to remove it).
    old = parse_station_config(MEMORIAL_TOML + '\n[memorial.hours]\nwed = "closed"\n', Path("/srv/m/station.toml"))
    assert old.memorial.old_hours_section and not settings.old_hours_section
    assert old.memorial.hours_file == "/etc/dossin/hours.conf" and "hours" not in old.describe()["memorial"]


def test_the_hours_file_is_read_as_dossin_hours_reads_it(tmp_path):
    conf = tmp_path / "hours.conf"
    conf.write_text(
        "# Ansible managed\nDAY_1=0900-1700\nDAY_2=0900-1200,1300-1700\nDAY_3=closed\nDAY_4=0900-1700\n"
        'DAY_5=0900-1700\nDAY_6=closed\nDAY_7=1000-2400\nCLOSED_DATES="2026-12-25 2027-01-01"\n',
        encoding="utf-8",
    )
    hours = OpeningHours.from_file(conf)
    assert hours.is_open(datetime(2026, 11, 23, 9, 0)) and not hours.is_open(datetime(2026, 11, 23, 17, 0))
    assert not hours.is_open(datetime(2026, 11, 24, 12, 30)) and hours.is_open(datetime(2026, 11, 24, 13, 0))
    assert not hours.is_open(datetime(2026, 11, 25, 11, 0))
    assert hours.is_open(datetime(2026, 11, 29, 23, 59))
    assert not hours.is_open(datetime(2026, 12, 25, 11, 0))  # a Friday, but closed that day
    assert hours.describe(datetime(2026, 11, 24, 8, 0)) == "09:00-12:00, 13:00-17:00"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("DAY_1=9 to 5\n", "hours.conf:1: DAY_1='9 to 5': write HHMM-HHMM"),
        ("DAY_8=0900-1700\n", "hours.conf:1: 'DAY_8=0900-1700' is not a setting"),
        ('CLOSED_DATES="25/12/2026"\n', "hours.conf:1: '25/12/2026' is not a date"),
        ("DAY_1=1700-0900\n" + "".join(f"DAY_{n}=closed\n" for n in range(2, 8)), "mon: '17:00-09:00': 17:00-09:00 ends before it begins"),
        ("DAY_1=0900-1700\n", "no hours for DAY_2, DAY_3"),
    ],
)
def test_a_wrong_hours_file_is_named_with_its_line(tmp_path, text, says):
    conf = tmp_path / "hours.conf"
    conf.write_text(text, encoding="utf-8")
    with pytest.raises(KioskError) as refused:
        OpeningHours.from_file(conf)
    assert says in refused.value.message and "DAY_1=0900-1700" in refused.value.hint


def test_a_missing_hours_file_says_what_to_do(tmp_path):
    with pytest.raises(KioskError) as refused:
        OpeningHours.from_file(tmp_path / "hours.conf")
    assert "the opening hours cannot be read" in refused.value.message and "dossin_opening_hours" in refused.value.hint
