"""`kiosk screenshot`: see a station's screen without standing in front of it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kiosk.config import load_station_config


@click.command()
@click.argument("station_toml", type=click.Path(path_type=Path))
@click.option("--screen", "screen", required=True, help="Screen to render: attract, welcome, idle (the warning), a station's own, or all.")
@click.option("--lang", "language", type=click.Choice(["nl", "fr", "en"]), default=None, help="Language (default: the station's).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="PNG file to write (with --screen all: a folder, one NAME-LANG.png per screen and language).")
@click.option("--person", "person", default=None, help="Person id shown on screens that show one (the wall's person page; the booth's name, review, thanks).")
@click.option("--layout", "layout", is_flag=True, help="Also write beside each PNG a JSON of every visible widget (box, text, the size its text needs, colours), for the layout audit.")
@click.option("--large-text", "large_text", is_flag=True, help="As a visitor who switched large text on sees it (not the attract screen: settings belong to a visit).")
@click.option("--high-contrast", "high_contrast", is_flag=True, help="As a visitor who switched high contrast on sees it.")
@click.option("--audio", "audio", is_flag=True, help="In audio mode: the focus ring on the screen's first control.")
def screenshot(
    station_toml: Path, screen: str, language: str | None, out: Path, person: str | None, layout: bool, large_text: bool, high_contrast: bool, audio: bool
) -> None:
    """Render one screen of a station headless and save it as PNG.

    Runs on a private virtual screen of the station's size, so it is safe on a live
    gallery machine: the visitor in front of it sees nothing. `--screen all --out DIR`
    saves every screen in every language the station offers (or only --lang).
    `--layout` writes NAME-LANG.json beside each picture (CONTRACT.md, "Layout JSON");
    `python -m kiosk.audit FILE.json…` lists what breaks the layout rules.
    """
    from kiosk.logs import configure_logging
    from kiosk.session import Settings
    from kiosk.shell.render import Shot, render

    visit = Settings(audio=audio, large_text=large_text, high_contrast=high_contrast) if (audio or large_text or high_contrast) else None

    config = load_station_config(station_toml)
    configure_logging(config.station.id, "WARNING", stream=sys.stderr)
    if config.station.exhibit == "memorial":  # drawn with pygame, not the Kivy shell
        from exhibits.memorial.app import screenshot as memorial_screenshot

        for path in memorial_screenshot(config, screen, language, out, layout=layout):
            click.echo(str(path))
        return
    if screen == "all":
        for path in render(config, every_screen_into=out, languages=[language] if language else None, person=person, layout=layout, visit=visit):
            click.echo(str(path))
        return
    written = render(config, [Shot(screen, language or config.station.default_language, out)], person=person, layout=layout, visit=visit)
    click.echo(str(written[0]))
