"""Publish time and peak memory, to the DuckDB serving file and to PostgreSQL, for one warehouse.

    python scripts/bench_publish.py --db WAREHOUSE [--to postgresql://...] [--repeat 2]
                                    [--scale-up K] [--out reports/bench_publish.json]

The warehouse must be built and validated (``make build``). Each publish runs as
``lifecycle publish --skip-validate`` (the validation re-run is the same for both targets and is
timed by ``make bench``), measured by scripts/bench_measure.py (wall, CPU, peak resident set of the
process tree). Without ``--to`` a throwaway PostgreSQL cluster is started (tests/python/pg_server.py)
and stopped at the end. ``--scale-up K`` publishes instead a copy of the warehouse whose marts hold
every row K times (keys suffixed ``-1`` .. ``-K``, so keys stay unique and customer keys as many as
K times the customers): the demo warehouse (5k customers) with K=200 has the volume of scale l
(1M customers) for the load, the keys and the indexes. During each PostgreSQL publish a reader loops over
``count(*)`` of ``marts.customers`` and the manifest's build id: the slowest read (the swap's wait
on the readers' locks included) and the number of reads are reported, with any read error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from lifecycle import paths
from lifecycle.publish.catalog import ident, read_tables

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "python"))
from bench_measure import measure  # noqa: E402
from pg_server import start_server, stop_server  # noqa: E402


class Reader:
    """A BI-like reader in its own thread: one statement at a time on one autocommit connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stop = threading.Event()
        self.reads = 0
        self.slowest = 0.0
        self.builds: set[str] = set()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        query = "select (select count(*) from marts.customers), (select min(build_id) from meta.publish_manifest)"
        try:
            with psycopg.connect(self.url, autocommit=True) as con:
                while not self.stop.is_set():
                    t0 = time.perf_counter()
                    try:
                        row = con.execute(query).fetchone()
                    except psycopg.errors.UndefinedTable:  # before the first publish
                        time.sleep(0.05)
                        continue
                    self.slowest = max(self.slowest, time.perf_counter() - t0)
                    self.reads += 1
                    if row:
                        self.builds.add(str(row[1]))
        except psycopg.Error as exc:
            self.errors.append(str(exc).splitlines()[0])

    def __enter__(self) -> Reader:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def scaled_copy(db: Path, k: int, into: Path) -> Path:
    """A copy of ``db`` (same file name, with its build record, run results and validation report)
    whose marts with a text key column hold every row ``k`` times, the text keys suffixed."""
    into.mkdir(parents=True, exist_ok=True)
    copy = into / db.name
    shutil.copy(db, copy)
    src, dst = paths.artefacts(db), paths.artefacts(copy)
    dst.target.mkdir(parents=True, exist_ok=True)
    shutil.copy(src.run_results, dst.run_results)
    shutil.copytree(src.reports, dst.reports)
    con = duckdb.connect(str(copy))
    try:
        for table in read_tables(con, "marts"):
            keyed = {c.name for c in table.columns if c.data_type == "VARCHAR"} & set(table.primary_key)
            if not keyed:
                continue
            suffixed = keyed | {c.name for c in table.columns if c.name.endswith("customer_id")}
            cols = ", ".join(
                f"{ident(c.name)} || '-' || i as {ident(c.name)}" if c.name in suffixed else ident(c.name)
                for c in table.columns
            )
            name = f"marts.{ident(table.name)}"
            con.execute(f"create temp table scaled as select {cols} from {name}, range(1, {k + 1}) r(i)")
            con.execute(f"delete from {name}")
            con.execute(f"insert into {name} select * from scaled")
            con.execute("drop table scaled")
        con.execute("checkpoint")
    finally:
        con.close()
    # The build record and the dbt results stay those of the build: the file is newer than the
    # build, which publish only warns about.
    return copy


def _publish_cmd(db: Path, *target: str) -> list[str]:
    return [str(Path(sys.executable).with_name("lifecycle")), "publish", "--db", str(db), "--skip-validate", *target]


def _figures(m: Any, log: Path) -> dict[str, Any]:
    done = [line for line in log.read_text().splitlines() if line.startswith("Done in")]
    return {
        "wall_seconds": round(m.wall_seconds, 2),
        "cpu_seconds": round(m.cpu_seconds, 2),
        "peak_rss_mib": round(m.peak_rss_mib, 1),
        "summary": done[-1] if done else None,
    }


def bench(db: Path, url: str, repeat: int, tmp: Path, targets: list[str], old_build: Path) -> dict[str, Any]:
    env = dict(os.environ)
    out: dict[str, Any] = {"warehouse": str(db), "duckdb": [], "postgresql": []}
    serving = tmp / "serving.duckdb"
    for i in range(repeat if "duckdb" in targets else 0):
        log = tmp / f"duckdb-{i}.log"
        m = measure(_publish_cmd(db, "--serving", str(serving)), env, ROOT, log)
        if m.returncode != 0:
            raise SystemExit(f"publish to DuckDB failed: {log.read_text()[-3000:]}")
        out["duckdb"].append(_figures(m, log))
    if "postgresql" in targets:
        # A build to swap out, read by the reader while the measured publishes run.
        first = measure(_publish_cmd(old_build, "--to", url), env, ROOT, tmp / "postgresql-old.log")
        if first.returncode != 0:
            raise SystemExit(f"publish to PostgreSQL failed: {(tmp / 'postgresql-old.log').read_text()[-3000:]}")
    for i in range(repeat if "postgresql" in targets else 0):
        log = tmp / f"postgresql-{i}.log"
        with Reader(url) as reader:
            m = measure(_publish_cmd(db, "--to", url), env, ROOT, log)
        if m.returncode != 0:
            raise SystemExit(f"publish to PostgreSQL failed: {log.read_text()[-3000:]}")
        figures = _figures(m, log)
        figures["reader"] = {
            "reads": reader.reads,
            "slowest_read_seconds": round(reader.slowest, 3),
            "builds_seen": len(reader.builds - {"None"}),
            "errors": reader.errors,
        }
        out["postgresql"].append(figures)
    if "postgresql" in targets:
        with psycopg.connect(url, autocommit=True) as con:
            row = con.execute("select pg_database_size(current_database())").fetchone()
            out["postgresql_database_mib"] = round(int(row[0]) / 2**20, 1) if row else None
    return out


def _rows(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        return {n: int(con.execute(f'select count(*) from marts."{n}"').fetchone()[0]) for n in names}  # type: ignore[index]
    finally:
        con.close()


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--make-scaled-copy":
        scaled_copy(Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]).parent)
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", required=True, help="a built and validated working warehouse")
    p.add_argument("--to", help="PostgreSQL database URL (default: a throwaway local cluster)")
    p.add_argument("--repeat", type=int, default=2, help="publishes per target (the second one also swaps out a build)")
    p.add_argument("--scale-up", type=int, default=1, help="publish a copy whose marts hold every row K times")
    p.add_argument("--targets", default="duckdb,postgresql", help="comma-separated: duckdb, postgresql")
    p.add_argument("--work-dir", help="where the scaled copy is made and kept (default: a temporary directory)")
    p.add_argument("--out", default=str(ROOT / "reports" / "bench_publish.json"))
    args = p.parse_args()
    db = Path(args.db).resolve()
    targets = args.targets.split(",")
    server = None if args.to or "postgresql" not in targets else start_server(fsync=True)
    url = args.to or (server.url() if server else "")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
            work = Path(args.work_dir) if args.work_dir else Path(tmp)
            source = db
            if args.scale_up > 1:
                scaled = work / f"scaled-x{args.scale_up}" / db.name
                if not scaled.is_file():
                    t0 = time.perf_counter()
                    # In a process of its own: its memory must not count in the publishes' peaks.
                    subprocess.run(
                        [sys.executable, __file__, "--make-scaled-copy", str(db), str(args.scale_up), str(scaled)],
                        check=True,
                    )
                    print(f"scaled copy (x{args.scale_up}) made in {time.perf_counter() - t0:.0f}s", flush=True)
                source = scaled
            result = bench(source, url, args.repeat, Path(tmp), targets, old_build=db)
            result["scale_up"] = args.scale_up
            result["rows"] = _rows(source)
    finally:
        if server:
            stop_server(server)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
