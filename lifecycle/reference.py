"""The project's closed value lists, read from the dbt seeds that hold them (``seeds/*.csv``).

A list such as the lifecycle stages, the CLV tiers or the quarantine reasons is written once, as a
seed; the warehouse checks the marts against it with ``relationships`` tests, and Python reads the
same file here (``lifecycle.schema``, ``lifecycle.checks``) instead of keeping a copy.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from lifecycle import paths

SEEDS_DIR = Path("seeds")


def seed_path(name: str, project_root: Path | None = None) -> Path:
    """The CSV file of seed ``name`` (whether or not it exists)."""
    return (project_root or paths.PROJECT_ROOT) / SEEDS_DIR / f"{name}.csv"


def is_seed(name: str, project_root: Path | None = None) -> bool:
    return seed_path(name, project_root).is_file()


@cache
def _rows(path: str) -> tuple[dict[str, str], ...]:
    with open(path, newline="", encoding="utf-8") as handle:
        return tuple(dict(row) for row in csv.DictReader(handle))


def seed_rows(name: str, project_root: Path | None = None) -> tuple[dict[str, str], ...]:
    """Every row of seed ``name`` as a dict of column -> text, in file order."""
    path = seed_path(name, project_root)
    if not path.is_file():
        raise FileNotFoundError(f"no seed {name!r}: {path} does not exist")
    return _rows(str(path))


def seed_values(name: str, column: str, project_root: Path | None = None) -> tuple[str, ...]:
    """The values of ``column`` of seed ``name``, in file order, each once (empty cells skipped)."""
    rows = seed_rows(name, project_root)
    if rows and column not in rows[0]:
        raise KeyError(f"seed {name!r} has no column {column!r} (columns: {', '.join(rows[0])})")
    return tuple(dict.fromkeys(row[column] for row in rows if row[column] != ""))
