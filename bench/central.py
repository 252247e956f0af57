"""The central store's figures in one run: names claimed per second by 16 booths at once
(SQLite and PostgreSQL), then 1,000 queued takes of about 500 KB synced from a booth.

    python bench/central.py [--quick]

Runs `bench/central_claims.py` and `bench/central_sync.py` one after the other, each in
its own process so neither's memory or threads colour the other's figures; see those
two for what each measures and their own options. `--quick` runs both small (a smoke
check of the benches themselves, not figures to quote).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small runs: 2 s of claims, 50 takes")
    args = parser.parse_args()
    claims = ["--seconds", "2", "--persons", "2000"] if args.quick else []
    sync = ["--takes", "50"] if args.quick else []
    for script, extra in (("central_claims.py", claims), ("central_sync.py", sync)):
        print(f"== {script} {' '.join(extra)}".rstrip(), flush=True)
        done = subprocess.run([sys.executable, str(HERE / script), *extra])
        if done.returncode:
            sys.exit(done.returncode)


if __name__ == "__main__":
    main()
