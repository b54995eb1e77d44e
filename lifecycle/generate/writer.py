"""Writing the data set: one Parquet part file per table and chunk (in worker processes or not),
the empty tables, the manifest."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from lifecycle import schema
from lifecycle.generate.chunk import Sink, generate_chunk
from lifecycle.generate.context import Context
from lifecycle.generate.defects import Stats
from lifecycle.generate.scales import END_DATE, DirtyRates
from lifecycle.generate.times import Window, day_end_us

Job = tuple[int, int, int, bool]  # chunk index, customers before it, customers in it, a future cohort


@dataclass(frozen=True)
class Run:
    """What a run writes: the window of rows, and the part files' name prefix ('part-' or 'part-20261001-')."""

    window: Window
    prefix: str = "part-"


@dataclass(frozen=True)
class Written:
    """What writing a chunk left on disk (new part files per table), the rows the folder holds, what it injected."""

    rows: dict[str, int]
    files: dict[str, int]
    stats: Stats


ROW_GROUP = 1_000_000
FILTER_SLICE = 250_000  # rows filtered (copied) at a time when only some rows of a table are written


def write_table(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", row_group_size=ROW_GROUP)


def write_rows(table: pa.Table, rows: np.ndarray, path: Path) -> None:
    """Write the rows of the table where rows is True, a slice at a time (no copy of the whole table)."""
    if rows.all():
        write_table(table, path)
        return
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for start in range(0, table.num_rows, FILTER_SLICE):
            part = table.slice(start, FILTER_SLICE).filter(pa.array(rows[start : start + FILTER_SLICE]))
            if part.num_rows:
                writer.write_table(part, row_group_size=ROW_GROUP)


def clear_raw_dir(out: Path) -> None:
    """A folder per raw table under out, without the part files of an earlier run."""
    for rt in schema.RAW_TABLES:
        folder = out / rt.name
        folder.mkdir(parents=True, exist_ok=True)
        for stale in sorted(folder.glob("*.parquet")):
            stale.unlink()


def part_sink(out: Path, run: Run, index: int, rows: dict[str, int], files: dict[str, int]) -> Sink:
    """A sink writing each table's new rows as part file <prefix><index>, counting rows held and files."""

    def sink(name: str, table: pa.Table, new: np.ndarray, held: int) -> None:
        rows[name] = rows.get(name, 0) + held
        if new.any():
            write_rows(table, new, out / name / f"{run.prefix}{index:05d}.parquet")
            files[name] = files.get(name, 0) + 1

    return sink


def write_chunk(ctx: Context, out: Path, job: Job, run: Run) -> Written:
    """Generate one chunk and write its part files (tables without new rows get none)."""
    index, first, size, future = job
    rows: dict[str, int] = {}
    files: dict[str, int] = {}
    window = dataclasses.replace(run.window, first_us=day_end_us(END_DATE) if future else 0)
    stats = generate_chunk(ctx, index, first + 1, size, part_sink(out, run, index, rows, files), window, future)
    return Written(rows, files, stats)


def write_chunks(
    ctx: Context, out: Path, jobs: Sequence[Job], run: Run, workers: int, *, progress: bool, label: str
) -> list[Written]:
    """Every chunk written, in chunk order, by this process (workers <= 1) or a pool of workers."""
    results: list[Written] = []
    with tqdm(total=len(jobs), disable=not progress, file=sys.stderr, unit="chunk", desc=label) as bar:
        if workers <= 1:
            for job in jobs:
                results.append(write_chunk(ctx, out, job, run))
                bar.update()
        else:
            spawn = multiprocessing.get_context("spawn")  # no fork of a process holding Arrow threads
            with ProcessPoolExecutor(workers, spawn, _init_worker, (ctx.seed, ctx.dirty)) as pool:
                for result in pool.map(_pool_job, [(str(out), job, run) for job in jobs]):
                    results.append(result)
                    bar.update()
    return results


def write_empty_tables(out: Path, files: dict[str, int]) -> dict[str, int]:
    """An empty part file for each table no chunk wrote; the part files per table after that."""
    for rt in schema.RAW_TABLES:
        if files[rt.name] == 0:
            write_table(rt.arrow_schema.empty_table(), out / rt.name / "part-00000.parquet")
    return {name: max(n, 1) for name, n in files.items()}


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of a generated folder (ValueError when there is none)."""
    path = out / "_manifest.json"
    if not path.is_file():
        raise ValueError(f"cannot append: {out} has no _manifest.json (generate the folder first)")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out / "_manifest.json").write_text(text, encoding="utf-8")


# A worker process builds the shared context once (in its initializer), then writes chunks.
_WORKER_CONTEXT: Context | None = None


def _init_worker(seed: int, dirty: DirtyRates) -> None:
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = Context.build(seed, dirty)


def _pool_job(job: tuple[str, Job, Run]) -> Written:
    assert _WORKER_CONTEXT is not None
    out, chunk_job, run = job
    return write_chunk(_WORKER_CONTEXT, Path(out), chunk_job, run)
