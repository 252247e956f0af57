"""`kiosk central ...` and `kiosk collection import`: set up, run and read the central store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kiosk.central.config import DEFAULT_PORT
from kiosk.cli.output import config_option, emit, json_option



@click.group()
def central() -> None:
    """The central store: names for the booths and their recordings.

    `init` writes a central.toml, `serve` runs the store, `enroll` gives a station its
    token (and role), `revoke` ends one, `status` says how many names have a voice. Import the collection with
    `kiosk collection import`.
    """


@central.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Port the store listens on."
)
def init(folder: Path, port: int) -> None:
    """Write FOLDER/central.toml with working defaults: SQLite and the audio folder under FOLDER."""
    from kiosk.central.config import load_central_config, write_central_config

    target = write_central_config(folder, port=port)
    config = load_central_config(target)
    click.echo(f"wrote {target}")
    click.echo(f"next: kiosk collection import COLLECTION --central {target}")
    click.echo(f"      kiosk central enroll --config {target} STATION_ID   (once per station)")
    click.echo(
        f"      kiosk central serve --config {target}   (listens on http://{config.server.host}:{config.server.port})"
    )


@central.command()
@config_option
def serve(config_path: Path) -> None:
    """Run the store's HTTP service (logs as JSON lines on stdout); Ctrl-C stops it."""
    from kiosk.central.config import load_central_config
    from kiosk.central.server import serve as run_server

    run_server(load_central_config(config_path))


@central.command()
@config_option
@click.option(
    "--role",
    type=click.Choice(["booth", "wall", "memorial", "booking"]),
    default="booth",
    show_default=True,
    help="What the token may do: a booth leases names and uploads; a wall or memorial reads the approved "
    "voices; booking only books. All but booking send heartbeats.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the token to this file (mode 0600, replaced if it exists) instead of printing it.",
)
@click.argument("station_id")
@json_option
def enroll(config_path: Path, role: str, out: Path | None, station_id: str, as_json: bool) -> None:
    """Give STATION_ID a new token for ROLE; enrolling again replaces the old token (and role).

    The token is shown once (or written to --out) and stored only as a hash: save it in
    the station's token_file ([central] in station.toml), readable by the kiosk user only.
    A token from before roles keeps a booth's rights until the station is enrolled again.
    """
    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database
    from kiosk.central.stations import check_station_id
    from kiosk.central.stations import enroll as enroll_station

    check_station_id(station_id)
    config = load_central_config(config_path)
    database = open_database(config)
    try:
        token = enroll_station(database, station_id, role)
    finally:
        database.dispose()
    if out is not None:
        _write_secret(out, token)
        emit(
            {"station_id": station_id, "role": role, "token_file": str(out)},
            as_json,
            lambda r: f"token for {station_id} ({role}) written to {out}",
        )
        return
    emit({"station_id": station_id, "role": role, "token": token}, as_json, lambda r: r["token"])


def _write_secret(path: Path, secret: str) -> None:
    """Write `secret` to `path` with mode 0600, atomically (a temporary name, fsync, rename)."""
    import os

    from kiosk.errors import KioskError

    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)  # whatever the umask says
            os.write(fd, (secret + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise KioskError(
            f"cannot write the token to {path} ({error.strerror}); the station has a new token all the same",
            "choose a folder you may write to and enroll the station again",
        ) from None


@central.command()
@config_option
@click.argument("station_id")
@json_option
def revoke(config_path: Path, station_id: str, as_json: bool) -> None:
    """End STATION_ID's token now: the store refuses it from the next request on.

    The names the station held go back to the queue; its recordings and heartbeats
    stay. `kiosk central enroll` gives it a new token.
    """
    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database
    from kiosk.central.stations import revoke as revoke_station

    database = open_database(load_central_config(config_path))
    try:
        released = revoke_station(database, station_id)
    finally:
        database.dispose()
    emit(
        {"station_id": station_id, "revoked": True, "leases_released": released},
        as_json,
        lambda r: f"token of {station_id} revoked; {released} name(s) it held went back to the queue",
    )


@central.command()
@config_option
@json_option
def status(config_path: Path, as_json: bool) -> None:
    """Persons, recordings held and approved, and names with a voice, per transport.

    A name has a voice when at least one of its recordings is received or approved
    (not rejected, not withdrawn); recordings counts those held, received or approved.
    """
    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database
    from kiosk.central.status import central_status, status_lines

    database = open_database(load_central_config(config_path))
    try:
        report = central_status(database)
    finally:
        database.dispose()
    emit(report, as_json, status_lines)


@click.command("import")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--central",
    "central_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The central store's central.toml.",
)
@json_option
def import_collection(folder: Path, central_path: Path, as_json: bool) -> None:
    """Import the collection in FOLDER into the central store, all or nothing.

    The folder is checked first (as `kiosk collection check` does) and refused whole
    with every problem listed. Importing again updates persons in place: their
    recordings stay theirs; persons no longer listed are kept but leave the queue.
    """
    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database
    from kiosk.central.importer import import_collection as run_import

    database = open_database(load_central_config(central_path))
    try:
        report = run_import(database, folder)
    finally:
        database.dispose()
    emit(report.to_json(), as_json, lambda r: report.summary())


@central.group()
def staff() -> None:
    """Staff accounts for the staff pages (http://HOST:PORT/staff).

    The password is asked twice without echo; a script pipes it on stdin instead
    (one line). `passwd` also enables a disabled account and ends its lock.
    """


def _read_password() -> str:
    import sys

    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        from kiosk.errors import KioskError

        raise KioskError("no password on stdin", "pipe the password as one line, or run the command at a terminal")
    return line


def _with_database(config_path: Path, action) -> None:
    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database

    database = open_database(load_central_config(config_path))
    try:
        action(database)
    finally:
        database.dispose()


@staff.command("add")
@config_option
@click.argument("username")
def staff_add(config_path: Path, username: str) -> None:
    """Add the staff account USERNAME (lowercase letters, digits, . _ -)."""
    from kiosk.central.staff.accounts import add_staff, check_username

    check_username(username)
    password = _read_password()
    _with_database(config_path, lambda database: add_staff(database, username, password))
    click.echo(f"staff account {username} added; it signs in at /staff/login")


@staff.command("passwd")
@config_option
@click.argument("username")
def staff_passwd(config_path: Path, username: str) -> None:
    """Give USERNAME a new password (and enable the account, end its lock, sign it out everywhere)."""
    from kiosk.central.staff.accounts import set_password

    password = _read_password()
    _with_database(config_path, lambda database: set_password(database, username, password))
    click.echo(f"new password set for {username}")


@staff.command("disable")
@config_option
@click.argument("username")
def staff_disable(config_path: Path, username: str) -> None:
    """Stop USERNAME from signing in, and sign it out now (`passwd` enables it again)."""
    from kiosk.central.staff.accounts import disable_staff

    _with_database(config_path, lambda database: disable_staff(database, username))
    click.echo(f"staff account {username} disabled")


@central.command("export")
@config_option
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The bag's folder; must not exist yet (written under a temporary name, renamed when complete).",
)
@json_option
def export(config_path: Path, out: Path, as_json: bool) -> None:
    """Write every approved voice as a BagIt bag (RFC 8493) in the folder OUT.

    One FLAC and one JSON file per person with an approved recording, checksummed in
    manifest-sha256.txt; nothing about the readers. A progress bar shows at a terminal.
    """
    import sys

    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database
    from kiosk.central.recordings import AudioStore
    from kiosk.central.staff.export import bag_summary, plan_bag, write_bag

    config = load_central_config(config_path)
    database = open_database(config)
    try:
        plan = plan_bag(database, AudioStore(config.audio_dir))
    finally:
        database.dispose()
    if sys.stdout.isatty() and not as_json:
        with click.progressbar(length=len(plan.payload), label="exporting", show_pos=True) as bar:
            path = write_bag(plan, out, progress=bar.update)
    else:
        path = write_bag(plan, out)
    emit(
        bag_summary(plan, path),
        as_json,
        lambda r: f"wrote {r['bag']}: {r['recordings']} recordings, {r['files']} files, {r['bytes']} bytes",
    )


@central.command("withdraw")
@config_option
@click.argument("code")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for a script); the recording is named all the same.")
@json_option
def withdraw(config_path: Path, code: str, yes: bool, as_json: bool) -> None:
    """Withdraw the recording whose withdrawal CODE a participant gives (as on the thank-you
    screen, e.g. ABCD-2345): what the staff's withdrawal page does.

    The recording's audio is deleted on the store and its name goes back to the studios'
    queue. The booth that made it, the portrait wall and the memorial delete their own
    copies at their next sync (within about a minute). Without --yes the person whose
    name was read is shown and a confirmation asked.

    When no recording has the code yet (its booth has not sent it: offline, or still
    queued), the withdrawal is kept (status "pending"): the recording is deleted the
    moment it arrives and never used, and the booth deletes its copy.
    """
    import sys

    from kiosk.contract import normalise_code
    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database
    from kiosk.central.moderation import find_code, keep_or_withdraw, withdraw_recording
    from kiosk.central.pending_withdrawals import KeptWithdrawal
    from kiosk.central.recordings import AudioStore
    from kiosk.errors import KioskError
    from kiosk.logs import configure_logging

    canonical = normalise_code(code)
    if canonical is None:
        raise KioskError(
            f"{code!r} is not a withdrawal code",
            "a code is eight letters and digits like ABCD-2345, as on the thank-you screen (no 0, O, 1, I, L or U)",
        )
    config = load_central_config(config_path)
    configure_logging("central", config.log.level, stream=sys.stderr)  # that it happened, never whose
    database = open_database(config)
    try:
        found, code_hash = find_code(database, canonical)
        if found is None:
            _confirm(yes, f"no recording has the code {canonical} yet; the withdrawal is not kept",
                     "check the code with the participant, then add --yes to keep the withdrawal: the recording is "
                     "deleted the moment it arrives from its studio",
                     f"No recording has the code {canonical} yet. Keep the withdrawal, so that the recording is "
                     "deleted the moment it arrives from its studio?")
            done = keep_or_withdraw(database, AudioStore(config.audio_dir), code_hash, by="kiosk central withdraw")
            described = "the recording that arrived meanwhile"
        else:
            name = " ".join(part for part in (found["given_names"], found["surname"]) if part)
            described = f"{name} (transport {found['code']}, number {found['list_number']}), recorded {found['recorded_at']:%Y-%m-%d %H:%M} UTC"
            _confirm(yes, f"not withdrawn: the recording of {described} needs a confirmation",
                     "add --yes to withdraw it without a question",
                     f"Withdraw the recording of {described}? Its audio is deleted for good")
            done = withdraw_recording(database, AudioStore(config.audio_dir), found["id"], by="kiosk central withdraw")
    finally:
        database.dispose()
    if isinstance(done, KeptWithdrawal):
        emit(
            _kept_withdrawal_json(canonical, done),
            as_json,
            lambda r: (
                f"no recording has the code {canonical} yet. The withdrawal is kept"
                + (f" (since {done.asked_at:%Y-%m-%d %H:%M} UTC, by {done.asked_by})" if done.already else "")
                + ": if a recording with this code arrives, it is deleted at once and never used"
            ),
        )
        return
    result = {
        "code": canonical,
        "recording_id": str(done.recording_id),
        "person_id": done.person_id,
        "status": "already_withdrawn" if done.already else "withdrawn",
        "audio_deleted": done.audio_deleted,
        "name_has_voice": done.name_has_voice,
    }
    emit(
        result,
        as_json,
        lambda r: (
            f"the recording of {described} was withdrawn before; nothing more to do"
            if done.already
            else f"withdrawn: the recording of {described} is deleted; the booth, the wall and the memorial delete "
            "their copies at their next sync"
        ),
    )


def _confirm(yes: bool, what: str, hint: str, question: str) -> None:
    """Go on with --yes; ask at a terminal; otherwise stop, saying --yes is needed."""
    import sys

    from kiosk.errors import KioskError

    if yes:
        return
    if not sys.stdin.isatty():
        raise KioskError(what, hint)
    click.confirm(question, abort=True, err=True)


def _kept_withdrawal_json(code: str, kept: Any) -> dict[str, Any]:  # a KeptWithdrawal
    """`kiosk central withdraw --json` for a code no recording has yet: status "pending"."""
    return {
        "code": code,
        "recording_id": None,
        "person_id": None,
        "status": "pending",
        "audio_deleted": False,
        "name_has_voice": None,
        "pending_since": kept.asked_at.isoformat(),
        "asked_by": kept.asked_by,
    }


@central.command("stations")
@config_option
@json_option
def stations(config_path: Path, as_json: bool) -> None:
    """Each station's state, as the staff's stations page shows it: ok, or what needs
    attention since when and what to do; its devices, when it was last heard from and
    when its last recording arrived."""
    from datetime import timedelta

    from kiosk.central.config import load_central_config
    from kiosk.central.db import open_database
    from kiosk.central.station_health import problem_words, stations_health

    config = load_central_config(config_path)
    database = open_database(config)
    try:
        rows = stations_health(database, silent_after=timedelta(seconds=config.staff.station_silent_after_s))
    finally:
        database.dispose()

    def when(moment) -> str:
        return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "–"

    documents = []
    for row in rows:
        document = row.to_json()
        for problem, described in zip(row.problems, document["problems"]):
            described["what"], described["todo"] = problem_words(problem, "en", when)
        documents.append(document)

    def lines(report: dict) -> str:
        out = []
        for station in report["stations"]:
            devices = ", ".join(f"{name} {'ok' if d['ok'] else d['state']}" for name, d in station["devices"].items())
            out.append(
                f"{station['station_id']}: {station['state']}"
                + (f" ({devices})" if devices else "")
                + f"; last heard {station['last_heard_at'] or 'never'}; last recording {station['last_take_at'] or 'none'}"
            )
            out += [f"  {p['what']} What to do: {p['todo']}" for p in station["problems"]]
        return "\n".join(out) if out else "no station is enrolled yet (kiosk central enroll)"

    emit({"stations": documents}, as_json, lines)


from kiosk.cli.booking import booking  # noqa: E402  (its own module; `kiosk central booking`)

central.add_command(booking)
