"""One port for the central store in every document, role and example: the one the code uses.

A technician copies addresses from README.md, deploy/README.md and the inventory; the
playbook opens the port from the central role's defaults. If any of them names another
port than `kiosk central init` writes, booths are set up to call a store that is not there.
"""

from __future__ import annotations

import re
from pathlib import Path

from kiosk.central.config import DEFAULT_PORT

ROOT = Path(__file__).resolve().parents[2]
# An address with a port (http://HOST:PORT), a role's `dossin_central_port: N`, a toml `port = N`.
PORT_MENTIONS = re.compile(r"https?://[A-Za-z0-9_.{}\- ]+:(\d{2,5})\b|dossin_central_port:\s*(\d+)|^port\s*=\s*(\d+)", re.M)


def documents_and_roles() -> list[Path]:
    found = [path for path in ROOT.glob("*.md")]
    found += [path for path in (ROOT / "deploy").rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    found += [path for path in (ROOT / "kiosk").rglob("*.md")]
    return sorted(found)


def ports_named(path: Path) -> list[tuple[int, int]]:
    """(line, port) of every central-store port PATH names."""
    try:
        return ports_in(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return []


def ports_in(text: str) -> list[tuple[int, int]]:
    return [
        (text.count("\n", 0, match.start()) + 1, int(next(group for group in match.groups() if group)))
        for match in PORT_MENTIONS.finditer(text)
    ]


def test_every_document_and_role_names_the_port_the_code_uses():
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {port}"
        for path in documents_and_roles()
        for line, port in ports_named(path)
        if port != DEFAULT_PORT
    ]
    assert not wrong, f"the central store listens on {DEFAULT_PORT} (kiosk.central.config.DEFAULT_PORT); these say otherwise: {wrong}"


def test_the_places_a_technician_reads_do_name_it():
    # Guards the test above against passing because its pattern stopped matching.
    for relative in ("README.md", "deploy/README.md", "deploy/ansible/roles/central/defaults/main.yml",
                     "deploy/ansible/inventory/gallery.example.yml"):
        assert ports_named(ROOT / relative), f"{relative} names no port of the central store any more"


def test_the_pattern_sees_each_way_of_naming_a_port():
    assert ports_in("curl http://127.0.0.1:8400/api/v1/health") == [(1, 8400)]
    assert ports_in('url: "http://central.gallery.lan:8401"\n') == [(1, 8401)]
    assert ports_in("a\n          dossin_central_port: 8402\n") == [(2, 8402)]
    assert ports_in("[server]\nport = 8403  # booths reach\n") == [(2, 8403)]
    assert ports_in("`http://STORE:8404/staff/login`") == [(1, 8404)]
