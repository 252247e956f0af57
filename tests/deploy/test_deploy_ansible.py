"""The Ansible playbook in deploy/ansible: syntax, ansible-lint (production profile, offline),
the example inventory, and the templates rendered and checked by the tools that read them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ANSIBLE = Path(__file__).resolve().parents[2] / "deploy" / "ansible"
BIN = Path(sys.executable).parent
EXAMPLE_INVENTORY = ANSIBLE / "inventory" / "gallery.example.yml"


def ansible_tool(tool: str, *arguments: str, home: Path) -> subprocess.CompletedProcess:
    program = BIN / tool
    if not program.exists():
        pytest.fail(f"{tool} is missing: `pip install -e '.[test]'` installs ansible-core and ansible-lint", pytrace=False)
    # A private HOME: Ansible keeps its temporary files and collections cache there.
    environment = {**os.environ, "HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(home / "tmp"), "NO_COLOR": "1",
                   "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    return subprocess.run([str(program), *arguments], capture_output=True, text=True, cwd=ANSIBLE, env=environment, timeout=300)


def test_playbook_syntax(tmp_path: Path) -> None:
    result = ansible_tool("ansible-playbook", "--syntax-check", "-i", str(EXAMPLE_INVENTORY), "site.yml", home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_ansible_lint_production_profile(tmp_path: Path) -> None:
    result = ansible_tool("ansible-lint", "--offline", "site.yml", home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Profile 'production' was required, and it passed" in result.stdout + result.stderr


def test_example_inventory_is_a_whole_gallery(tmp_path: Path) -> None:
    result = ansible_tool("ansible-inventory", "-i", str(EXAMPLE_INVENTORY), "--list", home=tmp_path)
    assert result.returncode == 0, result.stderr
    inventory = json.loads(result.stdout)
    stations = inventory["stations"]["hosts"]
    exhibits = sorted(inventory["_meta"]["hostvars"][host]["dossin_exhibit"] for host in stations)
    assert exhibits == ["booth", "booth", "memorial", "wall"]
    assert len(inventory["central"]["hosts"]) == 1


def render(template: str, **values) -> str:
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(ANSIBLE / "roles/station/templates"), undefined=jinja2.StrictUndefined)
    return environment.get_template(template).render(ansible_managed="Ansible managed", **values)


def test_opening_hours_templates_agree(tmp_path: Path) -> None:
    """The timer fires exactly at the times hours.conf opens and closes; both are valid."""
    hours = {1: "0900-1700", 2: "0900-1700", 3: "closed", 4: "0900-1700", 5: "0900-1700", 6: "1000-1700", 7: "1000-1800"}
    conf = tmp_path / "hours.conf"
    conf.write_text(render("hours.conf.j2", dossin_opening_hours=hours))
    timer = tmp_path / "dossin-hours.timer"
    timer.write_text(render("dossin-hours.timer.j2", dossin_opening_hours=hours))
    (tmp_path / "dossin-hours.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/true\n")

    if shutil.which("systemd-analyze"):
        verified = subprocess.run(["systemd-analyze", "verify", "--man=no", str(timer)], capture_output=True, text=True, cwd=tmp_path)
        assert verified.returncode == 0 and verified.stderr == "", verified.stderr
    calendar = [line.split("=", 1)[1] for line in timer.read_text().splitlines() if line.startswith("OnCalendar=")]
    assert "Sun *-*-* 18:00:00" in calendar and "Sat *-*-* 10:00:00" in calendar
    assert not any(spec.startswith("Wed") for spec in calendar)
    hours_script = ANSIBLE.parent / "bin" / "dossin-hours"
    for day, time, expected in [("3", "1200", 1), ("7", "1759", 0), ("6", "0959", 1)]:
        result = subprocess.run(["sh", str(hours_script), "is-open", day, time], env={"DOSSIN_HOURS_CONF": str(conf), "PATH": "/usr/bin:/bin"})
        assert result.returncode == expected, (day, time)


def test_dossin_hours_and_the_memorial_read_one_hours_file_alike(tmp_path: Path) -> None:
    """The one source of opening hours: what the playbook writes, the shell script and the
    memorial read the same way, for every day, around every opening and closing, and on a closed date."""
    from datetime import date, datetime, timedelta

    from exhibits.memorial.playlist import OpeningHours

    hours = {1: "0900-1700", 2: "0900-1200,1300-1700", 3: "closed", 4: "0900-1700", 5: "0900-1700", 6: "1000-1700", 7: "1000-2400"}
    conf = tmp_path / "hours.conf"
    conf.write_text(render("hours.conf.j2", dossin_opening_hours=hours, dossin_closed_dates=["2026-12-25"]))
    timer = render("dossin-hours.timer.j2", dossin_opening_hours=hours)
    assert "OnCalendar=Tue *-*-* 12:00:00" in timer and "OnCalendar=Tue *-*-* 13:00:00" in timer
    memorial = OpeningHours.from_file(conf)
    hours_script = ANSIBLE.parent / "bin" / "dossin-hours"
    monday = date(2026, 11, 23)
    moments = [(monday + timedelta(days=offset), hhmm) for offset in range(7)
               for hhmm in ("0859", "0900", "0959", "1000", "1159", "1200", "1259", "1300", "1659", "1700", "2359")]
    moments += [(date(2026, 12, 25), "1100"), (date(2026, 12, 24), "1100")]
    for day, hhmm in moments:
        result = subprocess.run(["sh", str(hours_script), "is-open", str(day.isoweekday()), hhmm, day.isoformat()],
                                env={"DOSSIN_HOURS_CONF": str(conf), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
        assert result.returncode in (0, 1), result.stderr
        moment = datetime(day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[2:]))
        assert (result.returncode == 0) == memorial.is_open(moment), (day, hhmm)
    assert not memorial.is_open(datetime(2026, 12, 25, 11, 0)) and memorial.is_open(datetime(2026, 12, 24, 11, 0))
