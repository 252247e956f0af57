"""`kiosk` in a child process, with the sync commands whether or not the CLI registers them yet.

    python sync_child.py sync run STATION.toml [--once]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from kiosk.cli import _register, cli  # noqa: E402
from kiosk.cli.sync import sync  # noqa: E402

if __name__ == "__main__":
    _register()
    if "sync" not in cli.commands:
        cli.add_command(sync)
    cli.main(args=sys.argv[1:], prog_name="kiosk", standalone_mode=True)
