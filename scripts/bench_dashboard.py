"""Page load times of the dashboard in headless Chromium, on one serving copy.

Starts ``lifecycle dashboard`` on a free port, opens every page ``--runs`` times (the first view of
a page is the cold one: Streamlit imports the page's modules and the browser loads the chart
libraries) and records the seconds from navigation until the page is drawn (script finished, every
chart drawn; :mod:`lifecycle.dashboard.browse`). Writes ``--out`` (default
``reports/bench_dashboard.json``, one entry per ``--label``) and prints a table.

    .venv/bin/python scripts/bench_dashboard.py --serving warehouse/serving.duckdb --label demo
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from lifecycle import paths
from lifecycle.browser import Chromium
from lifecycle.dashboard.browse import visit
from lifecycle.dashboard.pages import PAGES
from lifecycle.dashboard.server import running
from lifecycle.publish import default_serving_path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--serving", default=str(default_serving_path()))
    p.add_argument("--label", default="demo", help="name of this measurement in the output file")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", default=str(paths.PROJECT_ROOT / "reports" / "bench_dashboard.json"))
    args = p.parse_args(argv)
    serving = Path(args.serving).resolve()
    if not serving.is_file():
        print(f"bench_dashboard: no serving copy at {serving}", file=sys.stderr)
        return 1
    times: dict[str, list[float]] = {key: [] for key in PAGES}
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(str(serving), Path(tmp) / "dashboard.log") as url,
        Chromium() as page,
    ):
        for _ in range(args.runs):
            for key in PAGES:
                seen = visit(page, url, key)
                if seen.exceptions or seen.errors or seen.drawn < seen.charts:
                    print(f"bench_dashboard: page {key} is broken: {seen}", file=sys.stderr)
                    return 1
                times[key].append(round(seen.seconds, 3))
    result = {
        "serving": str(serving),
        "serving_mib": round(serving.stat().st_size / 2**20, 1),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "pages": {key: {"first_s": t[0], "median_s": statistics.median(t), "runs_s": t} for key, t in times.items()},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = json.loads(out.read_text()) if out.is_file() else {}
    doc[args.label] = result
    out.write_text(json.dumps(doc, indent=2) + "\n")
    load = result["load_average"][0]
    print(f"{'page':<10} {'first s':>8} {'median s':>9}   ({args.label}, {serving.name}, load {load})")
    for key, r in result["pages"].items():
        print(f"{key:<10} {r['first_s']:>8.2f} {r['median_s']:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
