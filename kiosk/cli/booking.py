"""`kiosk central booking ...`: register participants by hand, list and cancel bookings."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk.cli.output import config_option, emit, json_option


@click.group()
def booking() -> None:
    """Bookings: a name reserved for each participant who registered, until they read it.

    `add` matches a name on a first name, birthday or age (or takes the next waiting
    one) and prints the code the participant types at the booth; `list` shows the
    bookings; `cancel` ends one and gives its name back to the queue.
    """


def _run(config_path: Path, action):
    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database
    from kiosk.central.errors import Refusal
    from kiosk.errors import KioskError

    config = load_central_config(config_path)
    database = open_database(config)
    try:
        return action(database, config)
    except Refusal as refusal:
        raise KioskError(refusal.detail, "nothing was changed; correct the command and run it again") from None
    finally:
        database.dispose()


@booking.command("add")
@config_option
@click.option("--first-name", help="The participant's first name, to match a person with the same one.")
@click.option("--birthday", metavar="MM-DD", help="The participant's birthday, month first (04-19 is 19 April).")
@click.option("--age", metavar="N", help="The participant's age (9 to 120), matched to a person's age at deportation.")
@click.option(
    "--language", type=click.Choice(["nl", "fr", "en"]), default="nl", show_default=True, help="The booth's language."
)
@click.option(
    "--group",
    type=click.IntRange(1, 99),
    default=1,
    show_default=True,
    help="Participants in a group (at most 6): as many codes, each for a different name.",
)
@json_option
def add(
    config_path: Path,
    first_name: str | None,
    birthday: str | None,
    age: str | None,
    language: str,
    group: int,
    as_json: bool,
) -> None:
    """Reserve a name for one participant, or for each of a --group.

    The first name, birthday and age are used for the first participant's match and
    not kept; the others of a group get the next waiting names (the staff page takes
    them per member). Prints one code per participant.
    """
    from kiosk.central.bookings import MAX_GROUP, BookingRules, book, participant
    from kiosk.central.matching import Wish
    from kiosk.errors import KioskError

    if group > MAX_GROUP:
        raise KioskError(f"a group has at most {MAX_GROUP} participants, not {group}", "book a larger class as several groups")

    def run(database, config):
        wishes = [participant(first_name, birthday, age)] + [Wish()] * (group - 1)
        return book(database, BookingRules(config.bookings.expire_days), wishes, language=language, made_by="cli")

    made = _run(config_path, run)
    report = {
        "bookings": [
            {key: b.to_json()[key] for key in ("code", "person_id", "name", "matched_on", "expires_at")} for b in made
        ]
    }
    emit(report, as_json, _lines)


def _lines(report) -> str:
    return "\n".join(
        f"{b['code']}  {b['name']} ({b['person_id']}), matched on {b['matched_on'].replace('_', ' ')}, "
        f"until {b['expires_at'][:10]}"
        for b in report["bookings"]
    )


@booking.command("list")
@config_option
@click.option("--all", "show_all", is_flag=True, help="Also bookings used, cancelled or expired.")
@json_option
def list_command(config_path: Path, show_all: bool, as_json: bool) -> None:
    """The bookings that still hold a name, newest first (--all: every booking)."""
    from kiosk.central.bookings import list_bookings

    found = _run(config_path, lambda database, _config: list_bookings(database, live_only=not show_all))
    report = {"bookings": [b.to_json() for b in found]}
    emit(
        report,
        as_json,
        lambda r: "\n".join(
            f"{b['code']}  {b['state']:<9}  {b['language']}  until {b['expires_at'][:10]}  {b['name']} ({b['person_id']})"
            for b in r["bookings"]
        )
        or "no bookings",
    )


@booking.command("cancel")
@config_option
@click.argument("code")
@json_option
def cancel(config_path: Path, code: str, as_json: bool) -> None:
    """Cancel the booking CODE (any case, spaces or dashes): its name goes back to the queue."""
    from kiosk.central.bookings import cancel_booking

    done = _run(config_path, lambda database, _config: cancel_booking(database, code, by="cli"))
    emit(done.to_json(), as_json, lambda b: f"booking {b['code']} cancelled; {b['name']} waits in the queue again")
