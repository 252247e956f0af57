"""`kiosk central export --help` names the BagIt standard an archivist can look up."""

from __future__ import annotations

import subprocess
import sys


def test_export_help_names_bagit_as_rfc_8493():
    result = subprocess.run([sys.executable, "-m", "kiosk", "central", "export", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "BagIt bag (RFC 8493)" in " ".join(result.stdout.split())
    assert "8500" not in result.stdout
