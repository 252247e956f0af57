"""Station configuration: working defaults, and every mistake named with what to do."""

from pathlib import Path

import pytest

from kiosk.config import load_station_config, parse_station_config, write_station_config
from kiosk.errors import KioskError


def test_init_writes_a_config_that_loads_with_paths_under_the_folder(tmp_path):
    target = write_station_config(tmp_path / "booth", exhibit="booth", station_id="booth-1")
    config = load_station_config(target)
    assert config.station.id == "booth-1" and config.station.exhibit == "booth"
    assert config.data_dir == (tmp_path / "booth" / "data").resolve()
    assert config.collection_dir == (tmp_path / "booth" / "collection").resolve()
    assert config.idle.answer_within_s >= 20, "WCAG 2.2.1 asks for at least 20 s to answer"
    assert (tmp_path / "booth" / "data").is_dir()


def test_a_folder_can_be_given_instead_of_the_file(tmp_path):
    write_station_config(tmp_path, exhibit="wall", station_id="wall-1")
    assert load_station_config(tmp_path).station.exhibit == "wall"


def test_init_refuses_to_overwrite(tmp_path):
    write_station_config(tmp_path, exhibit="wall", station_id="wall-1")
    with pytest.raises(KioskError, match="already exists"):
        write_station_config(tmp_path, exhibit="wall", station_id="wall-2")


def test_strings_with_quotes_and_backslashes_survive(tmp_path):
    odd = 'C:\\museum\\"collectie"'
    write_station_config(tmp_path, exhibit="wall", station_id="wall-1", collection=odd)
    assert load_station_config(tmp_path).collection.path == odd


def _problems(text: str) -> str:
    with pytest.raises(KioskError) as caught:
        parse_station_config(text, Path("/gallery/station.toml"))
    return str(caught.value)


def test_every_problem_is_named_with_file_section_and_key():
    message = _problems(
        """
[station]
id = "Booth 1"
exhibit = "kiosk"
languages = ["nl", "de"]

[idle]
warn_after_s = 2
answer_within_s = 5
colour = "red"
"""
    )
    assert "/gallery/station.toml has 6 problem(s)" in message
    assert "[station] id must be lowercase letters" in message
    assert "[station] exhibit must be one of 'booth', 'wall' or 'memorial'" in message
    assert "[station] languages.1 must be one of" in message
    assert "[idle] warn_after_s" in message and "[idle] answer_within_s" in message
    assert "[idle] colour unknown setting" in message
    assert "what to do:" in message


def test_a_toml_syntax_error_names_the_line():
    message = _problems('[station]\nid = "booth-1\nexhibit = "booth"\n')
    assert "not valid TOML" in message and "line 2" in message


def test_a_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(KioskError, match="kiosk station init"):
        load_station_config(tmp_path / "nope.toml")


def test_the_token_is_never_part_of_the_printed_config(tmp_path):
    (tmp_path / "token").write_text("s3cret-token\n")
    write_station_config(tmp_path, exhibit="booth", station_id="booth-1", central_url="http://127.0.0.1:8800", token_file="token")
    config = load_station_config(tmp_path)
    token = config.token()
    assert token.get_secret_value() == "s3cret-token"
    assert "s3cret" not in repr(token) and "s3cret" not in str(token)
    assert "s3cret" not in str(config.describe()) and "s3cret" not in repr(config)


def test_an_unreadable_token_file_says_what_to_do(tmp_path):
    write_station_config(tmp_path, exhibit="booth", station_id="booth-1", central_url="http://127.0.0.1:8800", token_file="missing")
    with pytest.raises(KioskError, match="kiosk central enroll"):
        load_station_config(tmp_path).token()


def test_a_central_url_must_be_http():
    message = _problems('[station]\nid = "booth-1"\nexhibit = "booth"\n[central]\nurl = "ftp://x"\n')
    assert "[central] url must start with http://" in message


def test_the_booth_names_where_to_withdraw_with_a_working_default(tmp_path):
    config = load_station_config(write_station_config(tmp_path, exhibit="booth", station_id="booth-1"))
    assert config.booth.contact == "info@kazernedossin.eu"
    text = (tmp_path / "station.toml").read_text(encoding="utf-8")
    assert 'contact = "info@kazernedossin.eu"' in text, "the setting is written, with its comment, for a technician to change"
    changed = text.replace('contact = "info@kazernedossin.eu"', 'contact = "kazernedossin.eu/intrekken"')
    assert parse_station_config(changed, tmp_path / "station.toml").booth.contact == "kazernedossin.eu/intrekken"
    assert "contact" in _problems(text.replace('contact = "info@kazernedossin.eu"', 'contact = ""'))
