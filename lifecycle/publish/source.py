"""The working warehouse a publish reads, for every publish target (the DuckDB serving file,
PostgreSQL): its paths checked, one read-only connection for the audit and the copy, and the
manifest of the new build."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from lifecycle import paths
from lifecycle.publish.audit import Audit
from lifecycle.publish.errors import PublishError
from lifecycle.publish.serving import as_of_date


def check_warehouse(db_path: Path) -> Path:
    """The resolved path of an existing working warehouse."""
    db_path = Path(db_path).resolve()
    if not db_path.is_file():
        raise PublishError(f"working warehouse {db_path} does not exist: build it first")
    return db_path


def audit_inputs(db_path: Path, dbt_results: Path | None, reports_dir: Path | None) -> tuple[Path, Path]:
    """The run results and the reports directory the audit reads: those given, else the
    warehouse's own artefacts (:func:`lifecycle.paths.artefacts`)."""
    artefacts = paths.artefacts(db_path)
    results = Path(dbt_results) if dbt_results else artefacts.run_results
    return results, Path(reports_dir) if reports_dir else artefacts.reports


def open_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """One read-only connection for the audit and the copy: a dbt build cannot write the warehouse
    in between, so what is validated is exactly what is published."""
    try:
        return duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        raise PublishError(f"cannot open {db_path} read-only (is a dbt build running?): {exc}") from exc


def new_build_id(published_at: datetime) -> str:
    return f"{published_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def new_manifest(src: duckdb.DuckDBPyConnection, db_path: Path, audit: Audit) -> dict[str, Any]:
    """The fields of a new build's manifest (see :func:`lifecycle.publish.serving.manifest_rows`)."""
    published_at = datetime.now(UTC)
    return {
        "build_id": new_build_id(published_at),
        "as_of_date": as_of_date(src, audit.tables),
        "published_at": published_at,
        "source_warehouse": str(db_path),
        "dbt_invocation_id": audit.dbt.invocation_id,
        "dbt_generated_at": audit.dbt.generated_at,
        "dbt_status_counts": audit.dbt.status_counts,
    }
