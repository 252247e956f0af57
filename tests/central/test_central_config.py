"""central.toml: working defaults, and every mistake named with file, [section] key and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.central.codes import new_code
from kiosk.central.config import load_central_config, parse_central_config, write_central_config
from kiosk.errors import KioskError


def test_init_writes_a_config_that_loads_with_paths_under_the_folder(tmp_path: Path):
    target = write_central_config(tmp_path / "store", port=8123)
    config = load_central_config(target)
    assert config.server.host == "127.0.0.1" and config.server.port == 8123
    assert config.database_url.database == str((tmp_path / "store" / "central.sqlite3").resolve())
    assert config.audio_dir == (tmp_path / "store" / "audio").resolve()
    assert config.names.lease_s == 3600 and config.names.hand_size == 5
    assert config.max_upload_bytes == 50_000_000
    assert load_central_config(tmp_path / "store").source == target.resolve(), "a folder works too"


def test_init_refuses_to_overwrite(tmp_path: Path):
    write_central_config(tmp_path)
    with pytest.raises(KioskError, match="already exists"):
        write_central_config(tmp_path)


def test_every_setting_is_explained_in_the_written_file(tmp_path: Path):
    text = write_central_config(tmp_path).read_text(encoding="utf-8")
    for key in ("host", "port", "max_upload_mb", "url", "audio_dir", "lease_s", "hand_size", "level"):
        line = next(line for line in text.splitlines() if line.startswith(f"{key} ="))
        assert "#" in line or key == "url", f"{key} has no comment"


def _problems(text: str) -> str:
    with pytest.raises(KioskError) as caught:
        parse_central_config(text, Path("/srv/central/central.toml"))
    return str(caught.value)


def test_every_problem_is_named_with_file_section_and_key():
    message = _problems(
        """
[server]
port = 70000
max_upload_mb = 0
colour = "red"

[names]
hand_size = 0
"""
    )
    assert "/srv/central/central.toml has 4 problem(s)" in message
    assert "[server] port" in message and "[server] max_upload_mb" in message
    assert "[server] colour unknown setting" in message
    assert "[names] hand_size" in message
    assert "kiosk central init" in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://x@y/z", "must be an SQLite"),
        ("postgresql://kiosk@db/central", "postgresql+psycopg://"),
        ("sqlite://", "needs a file"),
        ("sqlite:///:memory:", "needs a file"),
        ("not a url", "is not a database URL"),
    ],
)
def test_a_database_url_the_store_cannot_use_is_refused(url: str, expected: str):
    message = _problems(f'[database]\nurl = "{url}"\n')
    assert "[database] url" in message and expected in message


def test_a_password_in_the_database_url_is_never_shown(tmp_path: Path):
    message = _problems('[database]\nurl = "postgresql://kiosk:s3cret@db/central"\n')
    assert "s3cret" not in message
    target = write_central_config(tmp_path)
    target.write_text(
        target.read_text().replace("sqlite:///central.sqlite3", "postgresql+psycopg://kiosk:s3cret@db/central")
    )
    config = load_central_config(target)
    assert config.database_url.password == "s3cret"
    assert "s3cret" not in config.database_label and "s3cret" not in str(config.describe())


def test_an_absolute_sqlite_path_stays_as_written(tmp_path: Path):
    config = parse_central_config(
        '[database]\nurl = "sqlite:////var/lib/dossin/central.sqlite3"\n', tmp_path / "central.toml"
    )
    assert config.database_url.database == "/var/lib/dossin/central.sqlite3"


def test_files_that_cannot_be_read_are_named(tmp_path: Path):
    with pytest.raises(KioskError, match="no such file"):
        load_central_config(tmp_path / "missing.toml")
    broken = tmp_path / "central.toml"
    broken.write_text("[server\nport = 1\n")
    with pytest.raises(KioskError, match="not valid TOML"):
        load_central_config(broken)


def test_codes_look_like_the_booths_withdrawal_codes():
    from kiosk.link.outbox import normalise_withdrawal_code

    for _ in range(50):
        code = new_code()
        assert normalise_withdrawal_code(code.lower().replace("-", " ")) == code
