"""The floor of a build: scripts/bench_floor.sql, one DuckDB script doing the irreducible work of
the warehouse on the same raw files. Prints its wall time and peak RSS (and JSON with --json).

    python scripts/bench_floor.py --raw-dir bench-data/l/raw [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_measure import measure

SQL = Path(__file__).resolve().parent / "bench_floor.sql"

# The same DuckDB memory limit as the build gets from lifecycle.resources (or the user's override).
_RUN = (
    "import os, pathlib, sys, duckdb\n"
    "from lifecycle import resources\n"
    "limit = os.environ.get('LIFECYCLE_MEMORY_LIMIT') or resources.memory_limit(resources.physical_memory_bytes())\n"
    "con = duckdb.connect(config={'memory_limit': limit} if limit else {})\n"
    "sql = pathlib.Path(sys.argv[1]).read_text().replace('{raw}', sys.argv[2])\n"
    "print(con.sql(sql).fetchall())\n"
)


def floor(raw_dir: Path) -> dict[str, float]:
    """Run the floor script on ``raw_dir`` in a process of its own; wall seconds and peak MiB."""
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as spill:  # where DuckDB spills, then gone
        m = measure([sys.executable, "-c", _RUN, str(SQL), str(raw_dir.resolve())], dict(os.environ), Path(spill))
    if m.returncode:
        raise SystemExit(f"the floor script failed on {raw_dir} (exit {m.returncode})")
    return {"wall_seconds": m.wall_seconds, "peak_rss_mib": m.peak_rss_mib, "cpu_seconds": m.cpu_seconds}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--raw-dir", type=Path, required=True)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    result = floor(args.raw_dir)
    summary = f"floor: {result['wall_seconds']} s ({result['cpu_seconds']} CPU s), {result['peak_rss_mib']} MiB"
    print(json.dumps(result) if args.json else summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
