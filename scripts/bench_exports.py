"""Import and build wall time and peak memory of each real-export shape (tests/fixtures/exports).

    python scripts/bench_exports.py [--shape NAME ...] [--out reports/bench_exports.json]

For each shape: `lifecycle import-transactions` and then `make build` (dbt build, validation,
publish) into a temporary folder, each timed, with the peak resident memory of the largest
process (GNU time). Correctness of the same shapes is asserted by tests/python/test_real_exports.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "exports"))
import shapes  # noqa: E402


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of the largest process of ``cmd``."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return wall, (int(peak.group(1)) / 1024 if peak else float("nan"))


def bench(name: str, tmp: Path) -> dict[str, float | str]:
    shape = shapes.SHAPES[name]
    raw = tmp / "raw"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "LIFECYCLE_"))}
    env.update(
        LIFECYCLE_RAW_DIR=str(raw),
        LIFECYCLE_DB=str(tmp / "warehouse" / "lifecycle.duckdb"),
        LIFECYCLE_SERVING_DB=str(tmp / "warehouse" / "serving.duckdb"),
    )
    lifecycle = str(Path(sys.executable).parent / "lifecycle")
    files = [str(p) for p in shapes.inputs(name, tmp / "input")]
    import_cmd = [lifecycle, "import-transactions", *files, *shape["import_args"], "--out", str(raw)]
    import_s, import_mb = timed(import_cmd, env)
    dbt_vars = json.dumps(shape.get("dbt_vars", {}))
    build_s, build_mb = timed(["make", "-C", str(ROOT), "build", f"DBT_ARGS=--vars '{dbt_vars}'"], env)
    return {
        "shape": name,
        "import_seconds": round(import_s, 2),
        "import_peak_mib": round(import_mb, 1),
        "build_seconds": round(build_s, 1),
        "build_peak_mib": round(build_mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", action="append", choices=sorted(shapes.SHAPES), help="default: all")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench_exports.json")
    args = parser.parse_args()
    results = []
    for name in args.shape or list(shapes.SHAPES):
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
            results.append(bench(name, Path(tmp)))
        r = results[-1]
        print(
            f"{name:22s} import {r['import_seconds']:6.2f} s {r['import_peak_mib']:7.1f} MiB   "
            f"build {r['build_seconds']:6.1f} s {r['build_peak_mib']:7.1f} MiB",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
