"""Benchmark the warehouse build: generate a data set at a scale, then time `dbt build` on it.

Reports wall time and peak memory (max RSS of the process tree, from getrusage) of generation and
of the build, plus the row counts of the marts, as a markdown table and as JSON in
reports/bench_build_<scale>.json.

    python scripts/bench_build.py --scale m [--seed 1] [--workdir /tmp/lifecycle-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


_MEASURE = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(rc)\n"
)


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command in a fresh wrapper process; return (wall seconds, peak RSS in MiB).

    The wrapper reports the largest resident set of the processes it waited for (getrusage of
    its children), so each measurement covers exactly one command and its subprocesses.
    """
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cmd], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    return wall, int(out.stdout.strip().splitlines()[-1]) / 1024.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", default="m", choices=["demo", "s", "m", "l"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default="/tmp/lifecycle-bench")
    ap.add_argument("--reuse-data", action="store_true", help="keep previously generated data")
    args = ap.parse_args(argv)

    work = Path(args.workdir) / args.scale
    raw, db = work / "raw", work / "warehouse.duckdb"
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(ROOT / "profiles"),
        LIFECYCLE_RAW_DIR=str(raw),
        LIFECYCLE_DB=str(db),
        DBT_TARGET_PATH=str(work / "target"),
        DBT_LOG_PATH=str(work / "logs"),
        DO_NOT_TRACK="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    result: dict[str, object] = {"scale": args.scale, "seed": args.seed, "cpus": os.cpu_count()}
    if not (args.reuse_data and (raw / "_manifest.json").exists()):
        gen_wall, gen_rss = _run(
            [str(BIN / "lifecycle"), "generate", "--scale", args.scale, "--seed", str(args.seed),
             "--out", str(raw), "--quiet"],
            env,
        )
        result["generate_seconds"], result["generate_peak_rss_mib"] = round(gen_wall, 1), round(gen_rss)
    manifest = json.loads((raw / "_manifest.json").read_text())
    result["raw_rows"] = {k: v["rows"] for k, v in manifest["tables"].items()}
    db.unlink(missing_ok=True)
    build_wall, build_rss = _run([str(BIN / "dbt"), "build", "--quiet"], env)
    result["build_seconds"], result["build_peak_rss_mib"] = round(build_wall, 1), round(build_rss)

    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    result["mart_rows"] = {
        t: con.sql(f"select count(*) from marts.{t}").fetchone()[0]  # type: ignore[index]
        for t in ("customers", "customer_lifecycle", "customer_segments", "customer_clv", "quarantined_rows")
    }
    con.close()
    result["warehouse_mib"] = round(db.stat().st_size / 2**20)

    print(f"| scale {args.scale} | wall s | peak RSS MiB |\n|---|---:|---:|")
    if "generate_seconds" in result:
        print(f"| generate | {result['generate_seconds']} | {result['generate_peak_rss_mib']} |")
    print(f"| dbt build | {result['build_seconds']} | {result['build_peak_rss_mib']} |")
    print(json.dumps(result, indent=2))
    out = ROOT / "reports" / f"bench_build_{args.scale}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
