"""The warehouse's record of the dbt invocation that built it (``meta.build_record``).

The on-run-end hook in ``macros/build_record.sql`` appends one row per dbt run/build/test/seed/
snapshot to the warehouse it wrote; the latest row is the invocation that last touched it.
``lifecycle validate`` stamps that invocation id into its report and ``lifecycle publish`` checks
that the run results and the validation report it reads name the same invocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

# Written by macros/build_record.sql (keep the two in step).
RECORD_SCHEMA = "meta"
RECORD_TABLE = "build_record"


@dataclass(frozen=True)
class BuildRecord:
    invocation_id: str
    command: str
    invocation_command: str | None  # e.g. "dbt build --select customers"
    dbt_vars: str | None  # JSON of the --vars given (e.g. as_of_date)
    target_path: str | None  # where that invocation wrote its run_results.json
    started_at: datetime
    finished_at: datetime
    as_of_date: date | None
    selected_nodes: int
    results_count: int
    success_count: int
    warn_count: int
    error_count: int
    fail_count: int
    skipped_count: int
    other_count: int

    def describe(self) -> str:
        """``dbt build e8d2... finished 2026-12-01 21:00:05Z``: for one-line messages."""
        return f"dbt {self.command} {self.invocation_id} (finished {self.finished_at:%Y-%m-%d %H:%M:%S}Z)"

    def status_counts(self) -> dict[str, int]:
        return {
            "success": self.success_count,
            "warn": self.warn_count,
            "error": self.error_count,
            "fail": self.fail_count,
            "skipped": self.skipped_count,
            "other": self.other_count,
        }


_COLUMNS = ", ".join(BuildRecord.__dataclass_fields__)


def read_build_record(con: duckdb.DuckDBPyConnection) -> BuildRecord | None:
    """The latest build record of the warehouse behind ``con``; None when it has none."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? and table_name = ?",
        [RECORD_SCHEMA, RECORD_TABLE],
    ).fetchone()
    if not exists or not exists[0]:
        return None
    row: Any = con.execute(
        f"select {_COLUMNS} from {RECORD_SCHEMA}.{RECORD_TABLE} order by finished_at desc, started_at desc limit 1"
    ).fetchone()
    return BuildRecord(*row) if row else None


def build_invocation_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """The dbt invocation id that last built the warehouse behind ``con`` (None: no record)."""
    record = read_build_record(con)
    return record.invocation_id if record else None
