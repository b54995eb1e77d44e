"""Writing the data set: one Parquet part file per table and chunk (in worker processes or not),
the empty tables, the manifest."""

from __future__ import annotations

import json
import multiprocessing
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from lifecycle import schema
from lifecycle.generate.chunk import generate_chunk
from lifecycle.generate.context import Context
from lifecycle.generate.defects import Stats
from lifecycle.generate.scales import DirtyRates

Job = tuple[int, int, int]  # chunk index, customers before it, customers in it


@dataclass(frozen=True)
class Written:
    """What writing a chunk left on disk (rows and part files per table) and what it injected."""

    rows: dict[str, int]
    files: dict[str, int]
    stats: Stats


def write_table(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", row_group_size=1_000_000)


def clear_raw_dir(out: Path) -> None:
    """A folder per raw table under out, without the part files of an earlier run."""
    for rt in schema.RAW_TABLES:
        folder = out / rt.name
        folder.mkdir(parents=True, exist_ok=True)
        for stale in sorted(folder.glob("*.parquet")):
            stale.unlink()


def write_chunk(ctx: Context, out: Path, job: Job) -> Written:
    """Generate one chunk and write its part files (tables without rows get none)."""
    index, first, size = job
    rows: dict[str, int] = {}
    files: dict[str, int] = {}

    def sink(name: str, table: pa.Table) -> None:
        if table.num_rows:
            write_table(table, out / name / f"part-{index:05d}.parquet")
            rows[name] = rows.get(name, 0) + table.num_rows
            files[name] = files.get(name, 0) + 1

    stats = generate_chunk(ctx, index, first + 1, size, sink)
    return Written(rows, files, stats)


def write_chunks(
    ctx: Context, out: Path, jobs: Sequence[Job], workers: int, *, progress: bool, label: str
) -> list[Written]:
    """Every chunk written, in chunk order, by this process (workers <= 1) or a pool of workers."""
    results: list[Written] = []
    with tqdm(total=len(jobs), disable=not progress, file=sys.stderr, unit="chunk", desc=label) as bar:
        if workers <= 1:
            for job in jobs:
                results.append(write_chunk(ctx, out, job))
                bar.update()
        else:
            spawn = multiprocessing.get_context("spawn")  # no fork of a process holding Arrow threads
            with ProcessPoolExecutor(workers, spawn, _init_worker, (ctx.seed, ctx.dirty)) as pool:
                for result in pool.map(_pool_job, [(str(out), job) for job in jobs]):
                    results.append(result)
                    bar.update()
    return results


def write_empty_tables(out: Path, files: dict[str, int]) -> dict[str, int]:
    """An empty part file for each table no chunk wrote; the part files per table after that."""
    for rt in schema.RAW_TABLES:
        if files[rt.name] == 0:
            write_table(rt.arrow_schema.empty_table(), out / rt.name / "part-00000.parquet")
    return {name: max(n, 1) for name, n in files.items()}


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out / "_manifest.json").write_text(text, encoding="utf-8")


# A worker process builds the shared context once (in its initializer), then writes chunks.
_WORKER_CONTEXT: Context | None = None


def _init_worker(seed: int, dirty: DirtyRates) -> None:
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = Context.build(seed, dirty)


def _pool_job(job: tuple[str, Job]) -> Written:
    assert _WORKER_CONTEXT is not None
    out, chunk_job = job
    return write_chunk(_WORKER_CONTEXT, Path(out), chunk_job)
