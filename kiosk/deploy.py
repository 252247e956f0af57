"""Releases side by side on a gallery machine: install, switch, check, roll back.

Layout under ROOT (/opt/dossin on a station; any folder in tests):

    ROOT/releases/VERSION/        one release: .venv/ with the project, and RELEASE.json
                                  written last (without it: an unfinished install, swept)
    ROOT/current -> releases/V    what the units run (ExecStart=ROOT/current/.venv/bin/kiosk)
    ROOT/previous -> releases/U   where a roll-back goes
    ROOT/pending.json             a switch whose health check has not passed yet
    ROOT/.lock                    one release operation at a time

Why this shape: a station must never be left without a working release, even when the
power goes in the middle of an update. A release counts only once its RELEASE.json is
written, after everything else reached the disk (it is built in place: a virtualenv
cannot be moved, its scripts name their interpreter by absolute path), and `current`
changes in one rename of a symlink. A switch writes pending.json before it flips `current` and removes
it only when the health check passed, so `check` at the next boot finishes an
interrupted switch, rolling back if the new release is not healthy.

This module uses the standard library only: the playbook copies it to the station as
/usr/local/sbin/dossin-release, which installs the very first release (before any
`kiosk` exists there). `kiosk release ...` runs the same code.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ROOT = Path("/opt/dossin")
PACKAGE = "dossin-kiosk"
VERSION_PATTERN = re.compile(r"^[0-9][0-9A-Za-z.+-]{0,63}$")
KEEP_RELEASES = 3
"""Releases kept on disk: `current`, `previous` and one more (an SD card is small)."""


class ReleaseError(Exception):
    """What went wrong, and what the technician can do about it."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass
class HealthCheck:
    """How a switch decides that the new release works.

    `restart`: units restarted after the switch. Their units are Type=notify, so
    `systemctl restart` returns only once the station sent READY=1, and fails when it
    did not in TimeoutStartSec. `commands`: argv strings that must exit 0 (e.g.
    `{current}/.venv/bin/kiosk doctor --json /srv/dossin/station/station.toml`), tried
    again until `settle_s` has passed, for services that need a moment.
    """

    restart: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    settle_s: float = 60.0
    systemctl: str = "systemctl"

    def to_json(self) -> dict:
        return {"restart": self.restart, "commands": self.commands, "settle_s": self.settle_s, "systemctl": self.systemctl}

    @classmethod
    def from_json(cls, data: dict) -> HealthCheck:
        return cls(
            restart=list(data.get("restart", [])),
            commands=list(data.get("commands", [])),
            settle_s=float(data.get("settle_s", 60.0)),
            systemctl=str(data.get("systemctl", "systemctl")),
        )


class Releases:
    """The releases under one ROOT; every method that changes something holds the lock."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.releases_dir = self.root / "releases"
        self.current_link = self.root / "current"
        self.previous_link = self.root / "previous"
        self.pending_file = self.root / "pending.json"

    # -- reading -----------------------------------------------------------------------

    def release_dir(self, version: str) -> Path:
        if not VERSION_PATTERN.match(version):
            raise ReleaseError(
                f"{version!r} is not a release version", "give a version like 0.2.0 (digits, letters, dots, dashes)"
            )
        return self.releases_dir / version

    def versions(self) -> list[str]:
        if not self.releases_dir.is_dir():
            return []
        complete = [p / "RELEASE.json" for p in self.releases_dir.iterdir() if (p / "RELEASE.json").is_file()]
        return [marker.parent.name for marker in sorted(complete, key=lambda marker: marker.stat().st_mtime)]

    def _link_version(self, link: Path) -> str | None:
        if not link.is_symlink():
            return None
        return Path(os.readlink(link)).name

    def current(self) -> str | None:
        return self._link_version(self.current_link)

    def previous(self) -> str | None:
        return self._link_version(self.previous_link)

    def failure(self, version: str) -> dict | None:
        marker = self.release_dir(version) / "FAILED.json"
        return json.loads(marker.read_text()) if marker.exists() else None

    def status(self) -> dict:
        pending = json.loads(self.pending_file.read_text()) if self.pending_file.exists() else None
        releases = []
        for version in self.versions():
            info_file = self.release_dir(version) / "RELEASE.json"
            info = json.loads(info_file.read_text()) if info_file.exists() else {}
            releases.append({"version": version, "installed_at": info.get("installed_at"), "failed": self.failure(version)})
        return {
            "root": str(self.root),
            "current": self.current(),
            "previous": self.previous(),
            "pending": pending,
            "releases": releases,
        }

    # -- changing ----------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ReleaseError(
                    f"another release operation is running under {self.root}",
                    "wait for it to finish (see `dossin-release status`), then try again",
                ) from None
            yield

    def install(self, version: str, wheelhouse: Path, python: str = sys.executable, keep: int = KEEP_RELEASES) -> Path:
        """Build releases/VERSION from the wheels in WHEELHOUSE, beside the running one.

        Offline on purpose: a station behind a gallery wall may have no internet, and a
        release must be the same on every station. Nothing the units run changes here.
        """
        target = self.release_dir(version)
        wheelhouse = Path(wheelhouse)
        if not wheelhouse.is_dir():
            raise ReleaseError(
                f"no wheelhouse at {wheelhouse}",
                "build one with `pip wheel --wheel-dir wheelhouse .` on a machine of the station's architecture",
            )
        with self.locked():
            if (target / "RELEASE.json").exists():
                return target  # installing the same version twice changes nothing
            self.releases_dir.mkdir(parents=True, exist_ok=True)
            self._sweep_unfinished()
            _run([python, "-m", "venv", str(target / ".venv")], "creating the release's virtualenv")
            _run(
                [str(target / ".venv/bin/python"), "-m", "pip", "install", "--quiet", "--no-index",
                 "--disable-pip-version-check", "--find-links", str(wheelhouse), f"{PACKAGE}=={version}"],
                f"installing {PACKAGE} {version} from {wheelhouse}",
                hint=f"the wheelhouse must hold {PACKAGE}-{version} and every wheel it needs, built for this machine",
            )
            said = _run([str(target / ".venv/bin/kiosk"), "--version"], "running the new release's kiosk").strip()
            if not said.endswith(version):
                raise ReleaseError(
                    f"the installed kiosk says {said!r}, not version {version}",
                    f"build the wheelhouse from the {version} sources",
                )
            _sync_tree(target)
            _write_json_durably(target / "RELEASE.json", {"version": version, "installed_at": _now(), "wheelhouse": str(wheelhouse)})
            self._prune(keep)
        return target

    def switch(self, version: str, check: HealthCheck, *, force: bool = False) -> str:
        """Point `current` at VERSION, check it, and go back by itself when it fails."""
        target = self.release_dir(version)
        with self.locked():
            if not (target / "RELEASE.json").exists():
                raise ReleaseError(f"release {version} is not installed under {self.releases_dir}", "install it first")
            failed = self.failure(version)
            if failed and not force:
                raise ReleaseError(
                    f"release {version} failed its health check on {failed['at']}: {failed['reason']}",
                    "fix the release and install it under a new version, or switch with --force to try it again",
                )
            old = self.current()
            if old == version:
                return f"release {version} is already current"
            _write_json_durably(self.pending_file, {"version": version, "rollback_to": old, "since": _now(), "check": check.to_json()})
            if old is not None:
                self._point(self.previous_link, old)
            self._point(self.current_link, version)
            return self._finish_pending()

    def check(self) -> str:
        """After a boot: finish a switch that was interrupted, else check `current` as it is."""
        with self.locked():
            if self.pending_file.exists():
                return self._finish_pending()
        return f"release {self.current()} is current; no switch was waiting for its health check"

    def rollback(self, check: HealthCheck) -> str:
        """By hand: go back to `previous` (and the release left becomes `previous`)."""
        with self.locked():
            old, back_to = self.current(), self.previous()
            if back_to is None or not (self.release_dir(back_to) / "RELEASE.json").exists():
                raise ReleaseError(f"there is no previous release under {self.root} to roll back to", "install and switch to a release instead")
            self._point(self.current_link, back_to)
            if old is not None:
                self._point(self.previous_link, old)
            self._restart(check)
            return f"rolled back from {old} to {back_to}"

    def _finish_pending(self) -> str:
        pending = json.loads(self.pending_file.read_text())
        version, rollback_to = pending["version"], pending["rollback_to"]
        check = HealthCheck.from_json(pending["check"])
        if self.current() != version:  # power went before `current` flipped
            self.pending_file.unlink()
            _fsync_dir(self.root)
            return f"the switch to {version} had not happened; {self.current()} stays current"
        problem = self._health_problem(check)
        if problem is None:
            self.pending_file.unlink()
            _fsync_dir(self.root)
            return f"switched to {version}; the health check passed"
        _write_json_durably(self.release_dir(version) / "FAILED.json", {"at": _now(), "reason": problem})
        if rollback_to is None:
            self.pending_file.unlink()
            raise ReleaseError(
                f"release {version} failed its health check ({problem}) and there is no earlier release to go back to",
                "read `journalctl -u 'dossin-*'` and `kiosk doctor`, then install a working release",
            )
        self._point(self.current_link, rollback_to)
        self._point(self.previous_link, version)
        self.pending_file.unlink()
        _fsync_dir(self.root)
        self._restart(check)
        raise ReleaseError(
            f"release {version} failed its health check ({problem}); rolled back to {rollback_to}",
            f"the station runs {rollback_to} again; see `journalctl -u 'dossin-*'` for why {version} failed",
        )

    def _health_problem(self, check: HealthCheck) -> str | None:
        restart_problem = self._restart(check)
        if restart_problem:
            return restart_problem
        deadline = time.monotonic() + check.settle_s
        for command in check.commands:
            argv = shlex.split(command.replace("{current}", str(self.current_link)))
            while True:
                try:
                    result = subprocess.run(argv, capture_output=True, text=True, timeout=max(check.settle_s, 5))
                    problem = None if result.returncode == 0 else f"`{command}` exited {result.returncode}: {_tail(result.stderr or result.stdout)}"
                except (OSError, subprocess.TimeoutExpired) as error:
                    problem = f"`{command}` could not run: {error}"
                if problem is None:
                    break
                if time.monotonic() >= deadline:
                    return problem
                time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
        return None

    def _restart(self, check: HealthCheck) -> str | None:
        for unit in check.restart:
            try:
                result = subprocess.run([check.systemctl, "restart", unit], capture_output=True, text=True, timeout=300)
            except (OSError, subprocess.TimeoutExpired) as error:
                return f"restarting {unit} failed: {error}"
            if result.returncode != 0:
                return f"{unit} did not start: {_tail(result.stderr or result.stdout)}"
        return None

    def _point(self, link: Path, version: str) -> None:
        """Make LINK point at releases/VERSION in one rename: never missing, never half."""
        temporary = link.with_name(f".{link.name}.new-{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        os.symlink(Path("releases") / version, temporary)
        os.replace(temporary, link)
        _fsync_dir(self.root)

    def _sweep_unfinished(self) -> None:
        in_use = {self.current(), self.previous()}
        for folder in self.releases_dir.iterdir():
            if folder.is_dir() and folder.name not in in_use and not (folder / "RELEASE.json").exists():
                shutil.rmtree(folder, ignore_errors=True)

    def _prune(self, keep: int) -> None:
        in_use = {self.current(), self.previous()}
        pending = json.loads(self.pending_file.read_text()) if self.pending_file.exists() else {}
        in_use |= {pending.get("version"), pending.get("rollback_to")}
        removable = [v for v in self.versions() if v not in in_use]
        for version in removable[: max(0, len(self.versions()) - keep)]:
            shutil.rmtree(self.release_dir(version))


def _run(argv: Sequence[str], doing: str, hint: str = "") -> str:
    try:
        result = subprocess.run(list(argv), capture_output=True, text=True)
    except OSError as error:
        raise ReleaseError(f"{doing}: {error}", hint or "check that the program exists (python3-venv installed?)") from None
    if result.returncode != 0:
        raise ReleaseError(f"{doing} failed: {_tail(result.stderr or result.stdout)}", hint or "see the message above")
    return result.stdout


def _tail(text: str, lines: int = 5) -> str:
    return " / ".join(line.strip() for line in text.strip().splitlines()[-lines:]) or "no output"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _write_json_durably(path: Path, data: dict) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temporary, "w") as out:
        json.dump(data, out, indent=2)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def _sync_tree(folder: Path) -> None:
    """Everything pip wrote reaches the disk before RELEASE.json says the release is whole."""
    for directory, _folders, files in os.walk(folder):
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                descriptor = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
        _fsync_dir(Path(directory))


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# -- command line (dossin-release, and `kiosk release`) ---------------------------------


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Install, switch, check and roll back releases of the gallery software.")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("DOSSIN_ROOT", DEFAULT_ROOT)), help="where releases live (default: /opt/dossin or $DOSSIN_ROOT)")
    commands = parser.add_subparsers(dest="command", required=True)

    install = commands.add_parser("install", help="build releases/VERSION from a wheelhouse, beside the running release")
    install.add_argument("version")
    install.add_argument("--wheelhouse", type=Path, required=True, help=f"folder with the {PACKAGE} wheel and every wheel it needs")
    install.add_argument("--python", default=sys.executable, help="interpreter for the release's virtualenv (default: this one)")
    install.add_argument("--keep", type=int, default=KEEP_RELEASES, help="releases kept on disk (default: %(default)s)")

    def health_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--restart", action="append", default=[], metavar="UNIT", help="restart this unit after the switch (repeatable)")
        command.add_argument("--check", action="append", default=[], metavar="COMMAND", help="must exit 0 for the release to count as healthy; {current} is the current link (repeatable)")
        command.add_argument("--settle-s", type=float, default=60.0, help="how long a check may keep failing before it counts (default: %(default)s)")
        command.add_argument("--systemctl", default="systemctl", help=argparse.SUPPRESS)

    switch = commands.add_parser("switch", help="make VERSION current; roll back by itself when its health check fails")
    switch.add_argument("version")
    switch.add_argument("--force", action="store_true", help="switch even to a release that failed before")
    health_options(switch)

    rollback = commands.add_parser("rollback", help="go back to the previous release")
    health_options(rollback)

    commands.add_parser("check", help="at boot: finish a switch that was interrupted (roll back if unhealthy)")

    status = commands.add_parser("status", help="current, previous, pending and installed releases")
    status.add_argument("--json", action="store_true", help="print one JSON document")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "dossin-release") -> int:
    args = _parser(prog).parse_args(argv)
    releases = Releases(args.root)
    try:
        if args.command == "install":
            print(f"installed {releases.install(args.version, args.wheelhouse, args.python, args.keep)}")
        elif args.command == "status":
            report = releases.status()
            if args.json:
                print(json.dumps(report, indent=2))
            else:
                print(f"current: {report['current']}\nprevious: {report['previous']}")
                if report["pending"]:
                    print(f"pending: switch to {report['pending']['version']} not yet checked (run `{prog} check`)")
                for release in report["releases"]:
                    failed = f"  FAILED {release['failed']['at']}: {release['failed']['reason']}" if release["failed"] else ""
                    print(f"  {release['version']}  installed {release['installed_at']}{failed}")
        elif args.command == "check":
            print(releases.check())
        else:
            check = HealthCheck(args.restart, args.check, args.settle_s, args.systemctl)
            if args.command == "switch":
                print(releases.switch(args.version, check, force=args.force))
            else:
                print(releases.rollback(check))
    except ReleaseError as error:
        print(f"{prog}: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"  what to do: {error.hint}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
