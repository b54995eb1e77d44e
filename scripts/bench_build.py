"""Benchmark the full build at several scales against the floor script, in one run.

For each scale: the raw data (generated once under --data-root/<scale>/raw and reused), the floor
script on it (scripts/bench_floor.py), then the full `lifecycle dbt build` (every model, contract,
data and unit test; DuckDB resources from the machine, lifecycle/resources.py), `lifecycle validate`
and `lifecycle publish`, then the daily run (one more day appended to a copy of the raw folder
as new files, then an incremental `lifecycle dbt build` on the same warehouse), each measured
apart: wall seconds, CPU seconds and peak RSS of the process tree (scripts/bench_measure.py).
Prints a table and the growth check (seconds per input row, s to l), writes reports/bench.json
and the per-scale detail (slowest nodes of the full and of the daily build, mart rows) to
reports/bench_build_<scale>.json.

    python scripts/bench_build.py [--scales demo,s,m,l] [--data-root bench-data]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_floor import floor
from bench_measure import Measurement, measure

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REPORTS = ROOT / "reports"
SCALES = ("demo", "s", "m", "l")
MARTS = ("customers", "customer_lifecycle", "customer_segments", "customer_clv", "quarantined_rows")
TOP_NODES = 10


def _env(raw: Path, db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(ROOT / "profiles"),
        LIFECYCLE_RAW_DIR=str(raw),
        LIFECYCLE_DB=str(db),
        DO_NOT_TRACK="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    return env


def _step(name: str, cmd: list[str], env: dict[str, str], logs: Path) -> Measurement:
    m = measure(cmd, env, ROOT, logs / f"{name}.log")
    if m.returncode:
        raise SystemExit(f"{name} failed (exit {m.returncode}), see {logs / (name + '.log')}")
    return m


def _figures(m: Measurement) -> dict[str, float]:
    return {"wall_seconds": m.wall_seconds, "peak_rss_mib": m.peak_rss_mib, "cpu_seconds": m.cpu_seconds}


def _slowest_nodes(run_results: Path) -> list[dict[str, Any]]:
    results = json.loads(run_results.read_text())["results"]
    ranked = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:TOP_NODES]
    return [{"node": r["unique_id"], "seconds": round(r["execution_time"], 1)} for r in ranked]


def daily_raw(raw: Path, work: Path) -> Path:
    """A copy of ``raw`` to append one day to: the Parquet files hard-linked (an append only adds
    files, it never rewrites one), the manifest copied (an append rewrites it)."""
    daily = work / "raw_daily"
    if daily.exists():
        shutil.rmtree(daily)
    shutil.copytree(raw, daily, copy_function=os.link)
    (daily / "_manifest.json").unlink()
    shutil.copy2(raw / "_manifest.json", daily / "_manifest.json")
    return daily


def bench_daily(raw: Path, work: Path, env: dict[str, str]) -> dict[str, Any]:
    """The daily run: one more day of raw data lands as new files (``lifecycle generate --append``
    on a copy of the raw folder), then ``lifecycle dbt build`` runs incrementally on the warehouse
    the full build left."""
    daily = daily_raw(raw, work)
    manifest = json.loads((raw / "_manifest.json").read_text())
    next_day = dt.date.fromisoformat(manifest["end_date"]) + dt.timedelta(days=1)
    lifecycle = str(BIN / "lifecycle")
    append = _step("append", [lifecycle, "generate", "--append", "--out", str(daily), "--quiet",
                              "--scale", manifest["scale"], "--seed", str(manifest["seed"]),
                              "--end-date", next_day.isoformat()], env, work)
    rows = json.loads((daily / "_manifest.json").read_text())["tables"]
    run = _step("daily", [lifecycle, "dbt", "build", "--quiet"], {**env, "LIFECYCLE_RAW_DIR": str(daily)}, work)
    return {
        "append": _figures(append),
        "daily": _figures(run),
        "daily_rows_in": sum(rows[k]["rows"] - manifest["tables"][k]["rows"] for k in rows),
    }


def bench_scale(scale: str, seed: int, data_root: Path, workdir: Path) -> dict[str, Any]:
    """Floor, build, validate and publish at one scale; the data is generated only when missing."""
    raw = data_root / scale / "raw"
    work = workdir / scale
    work.mkdir(parents=True, exist_ok=True)
    db, serving = work / "lifecycle.duckdb", work / "serving.duckdb"
    env = _env(raw, db)
    result: dict[str, Any] = {"scale": scale, "raw_dir": str(raw), "cpus": os.cpu_count()}
    if not (raw / "_manifest.json").exists():
        lifecycle = str(BIN / "lifecycle")
        gen = _step("generate", [lifecycle, "generate", "--scale", scale, "--seed", str(seed),
                                 "--out", str(raw), "--quiet"], env, work)
        result["generate"] = _figures(gen)
    manifest = json.loads((raw / "_manifest.json").read_text())
    result["raw_rows"] = {k: v["rows"] for k, v in manifest["tables"].items()}
    result["rows_in"] = sum(result["raw_rows"].values())
    result["floor"] = floor(raw)
    for path in (db, serving, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)
    lifecycle = str(BIN / "lifecycle")
    steps = {
        "build": [lifecycle, "dbt", "build", "--quiet"],
        "validate": [lifecycle, "validate", "--db", str(db)],
        "publish": [lifecycle, "publish", "--db", str(db), "--serving", str(serving)],
    }
    for name, cmd in steps.items():
        result[name] = _figures(_step(name, cmd, env, work))
    for figure in ("wall_seconds", "cpu_seconds"):
        ratio = result["build"][figure] / max(result["floor"][figure], 0.1)
        result["build"][f"ratio_to_floor_{figure.split('_')[0]}"] = round(ratio, 1)
    run_results = work / "lifecycle" / "target" / "run_results.json"
    result["slowest_nodes"] = _slowest_nodes(run_results)
    result.update(bench_daily(raw, work, env))
    result["daily_slowest_nodes"] = _slowest_nodes(run_results)

    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        result["mart_rows"] = {t: con.sql(f"select count(*) from marts.{t}").fetchone()[0] for t in MARTS}  # type: ignore[index]
    finally:
        con.close()
    result["warehouse_mib"] = round(db.stat().st_size / 2**20)
    return result


def growth(results: dict[str, dict[str, Any]], figure: str = "cpu_seconds") -> float | None:
    """Build seconds per input row at l over that at s (<= 1: at most linear), or None. The check
    uses CPU seconds, which a loaded machine disturbs far less than wall seconds."""
    if "s" not in results or "l" not in results:
        return None
    per_row = {k: results[k]["build"][figure] / results[k]["rows_in"] for k in ("s", "l")}
    return round(per_row["l"] / per_row["s"], 2)


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| scale | rows in | build wall s | build CPU s | build peak MiB | floor wall s | floor CPU s "
        "| floor MiB | ratio to floor (wall) | ratio (CPU) | validate s | publish s "
        "| daily rows in | daily wall s | daily CPU s | daily peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results.values():
        b, f, d = r["build"], r["floor"], r["daily"]
        lines.append(
            f"| {r['scale']} | {r['rows_in']:,} | {b['wall_seconds']} | {b['cpu_seconds']} | {b['peak_rss_mib']} "
            f"| {f['wall_seconds']} | {f['cpu_seconds']} | {f['peak_rss_mib']} | {b['ratio_to_floor_wall']} "
            f"| {b['ratio_to_floor_cpu']} | {r['validate']['wall_seconds']} | {r['publish']['wall_seconds']} "
            f"| {r['daily_rows_in']:,} | {d['wall_seconds']} | {d['cpu_seconds']} | {d['peak_rss_mib']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scales", default=",".join(SCALES), help="comma- or space-separated, e.g. s,m")
    ap.add_argument("--seed", type=int, default=1, help="seed of data generated here (existing data is reused)")
    ap.add_argument("--data-root", type=Path, default=ROOT / "bench-data")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/lifecycle-bench"))
    args = ap.parse_args(argv)
    scales = [s for s in args.scales.replace(",", " ").split() if s]
    unknown = sorted(set(scales) - set(SCALES))
    if unknown:
        ap.error(f"unknown scale(s) {unknown}; choose from {list(SCALES)}")

    results: dict[str, dict[str, Any]] = {}
    REPORTS.mkdir(exist_ok=True)
    for scale in scales:
        results[scale] = bench_scale(scale, args.seed, args.data_root, args.workdir)
        (REPORTS / f"bench_build_{scale}.json").write_text(json.dumps(results[scale], indent=2) + "\n")
        print(f"scale {scale}: build {results[scale]['build']['wall_seconds']} s", flush=True)
    print(table(results))
    ratio = growth(results)
    summary = {
        "scales": {
            k: {f: r[f] for f in ("rows_in", "floor", "build", "validate", "publish")} for k, r in results.items()
        },
        "growth_cpu_seconds_per_row_l_over_s": ratio,
        "growth_wall_seconds_per_row_l_over_s": growth(results, "wall_seconds"),
    }
    (REPORTS / "bench.json").write_text(json.dumps(summary, indent=2) + "\n")
    if ratio is None:
        print("growth: needs scales s and l")
        return 0
    verdict = "at most linear" if ratio <= 1.0 else "MORE THAN LINEAR"
    print(f"growth: build CPU seconds per input row at l / at s = {ratio} ({verdict}); "
          f"wall: {growth(results, 'wall_seconds')}")
    return 0 if ratio <= 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
