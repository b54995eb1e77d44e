"""What a serving file holds: every table of schema ``marts`` of the working warehouse and
``meta.publish_manifest`` (one row per mart: build id, as-of date, publish time, dbt invocation,
row count, check summary). Written, verified and read here.

Each mart is recreated from the warehouse's own catalog (:mod:`lifecycle.publish.catalog`): its
column names and types, not-null and primary-key/unique constraints, and the table and column
descriptions (comments) dbt persisted from the model YAML; then its rows are loaded. The whole
copy is one transaction."""

from __future__ import annotations

import contextlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from lifecycle.publish import catalog
from lifecycle.publish.errors import PublishError
from lifecycle.publish.files import PAUSE_DURING_COPY, pause
from lifecycle.validation_report import MARTS_SCHEMA

MANIFEST_SCHEMA = "meta"
MANIFEST_TABLE = "publish_manifest"


# The publish manifest, one row per mart, in every publish target (DuckDB types; PostgreSQL's are
# the same words). Written by :func:`manifest_rows` only.
MANIFEST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("build_id", "varchar not null"),
    ("as_of_date", "date"),
    ("published_at", "timestamp with time zone not null"),
    ("mart", "varchar not null"),
    ("row_count", "bigint not null"),
    ("source_warehouse", "varchar"),
    ("dbt_invocation_id", "varchar"),
    ("dbt_generated_at", "varchar"),
    ("dbt_status_counts", "varchar"),
    ("validation_success", "boolean"),
    ("expectations_evaluated", "integer"),
    ("expectations_failed", "integer"),
    ("checks_summary", "varchar"),
)


def manifest_rows(manifest: dict[str, Any], checks: dict[str, Any], counts: dict[str, int]) -> list[tuple[Any, ...]]:
    """The manifest's rows (in :data:`MANIFEST_COLUMNS` order), one per mart of ``counts``."""
    return [
        (
            manifest["build_id"],
            manifest["as_of_date"],
            manifest["published_at"],
            mart,
            n,
            manifest["source_warehouse"],
            manifest["dbt_invocation_id"],
            manifest["dbt_generated_at"],
            json.dumps(manifest["dbt_status_counts"], sort_keys=True),
            checks.get("success"),
            checks.get("evaluated"),
            checks.get("failed"),
            json.dumps(checks.get("marts", {}).get(mart, {}), sort_keys=True),
        )
        for mart, n in counts.items()
    ]


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of schema ``marts`` of the database ``con`` is connected to."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? order by table_name",
        [MARTS_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def as_of_date(con: duckdb.DuckDBPyConnection, tables: list[str]) -> date | None:
    """The as-of date of the marts: ``max(as_of_date)`` of ``customers``, else of the first mart with one."""
    for t in ("customers", *tables):
        has_col = con.execute(
            "select count(*) from information_schema.columns where table_catalog = current_database() "
            "and table_schema = ? and table_name = ? and column_name = 'as_of_date'",
            [MARTS_SCHEMA, t],
        ).fetchone()
        if t in tables and has_col and has_col[0]:
            row = con.execute(f"select max(as_of_date) from {MARTS_SCHEMA}.{_ident(t)}").fetchone()
            if row and row[0] is not None:
                return row[0] if isinstance(row[0], date) else None
    return None


def write_copy(
    src: duckdb.DuckDBPyConnection,
    tmp: Path,
    tables: list[str],
    manifest: dict[str, Any],
    checks: dict[str, Any],
) -> dict[str, int]:
    """Copy the marts (constraints and descriptions included) and the manifest into the new file
    ``tmp`` in one transaction; return the row counts."""
    alias = "publish_target"
    described = {t.name: t for t in catalog.read_tables(src, MARTS_SCHEMA)}
    src.execute(f"attach {_sql_str(str(tmp))} as {alias} (read_write)")
    try:
        src.execute("begin transaction")
        src.execute(f"create schema {alias}.{MARTS_SCHEMA}")
        src.execute(f"create schema {alias}.{MANIFEST_SCHEMA}")
        counts: dict[str, int] = {}
        for i, t in enumerate(tables):
            table = described[t]
            target = f"{alias}.{MARTS_SCHEMA}.{_ident(t)}"
            columns = ", ".join(catalog.ident(c) for c in table.column_names)
            # The primary key after the load: 30 % faster on the demo marts than into an indexed table.
            src.execute(catalog.duckdb_create_sql(table, target, primary_key=False))
            src.execute(f"insert into {target} ({columns}) select {columns} from {MARTS_SCHEMA}.{_ident(t)}")
            key = catalog.primary_key_sql(table, target)
            for statement in [*([key] if key else []), *catalog.comment_sql(table, target)]:
                src.execute(statement)
            n_src = src.execute(f"select count(*) from {MARTS_SCHEMA}.{_ident(t)}").fetchone()
            n_dst = src.execute(f"select count(*) from {target}").fetchone()
            if n_src is None or n_dst is None or n_src[0] != n_dst[0]:
                raise PublishError(f"copy of marts.{t} has {n_dst} rows, the warehouse {n_src}")
            counts[t] = int(n_dst[0])
            if i == 0:
                pause(PAUSE_DURING_COPY, "during the copy")
        columns = ", ".join(f"{name} {kind}" for name, kind in MANIFEST_COLUMNS)
        src.execute(f"create table {alias}.{MANIFEST_SCHEMA}.{MANIFEST_TABLE} ({columns})")
        placeholders = ", ".join("?" * len(MANIFEST_COLUMNS))
        src.executemany(
            f"insert into {alias}.{MANIFEST_SCHEMA}.{MANIFEST_TABLE} values ({placeholders})",
            manifest_rows(manifest, checks, counts),
        )
        src.execute("commit")
        src.execute(f"checkpoint {alias}")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            src.execute("rollback")
        raise
    finally:
        src.execute(f"detach {alias}")
    return counts


def verify_copy(tmp: Path, expected: dict[str, int], build_id: str) -> None:
    """Reopen the written file ``tmp``: every mart has its row count, the manifest names ``build_id`` only."""
    con = duckdb.connect(str(tmp), read_only=True)
    try:
        for t, n in expected.items():
            row = con.execute(f"select count(*) from {MARTS_SCHEMA}.{_ident(t)}").fetchone()
            if row is None or row[0] != n:
                raise PublishError(f"verification: {tmp.name} marts.{t} has {row} rows, expected {n}")
        ids = con.execute(f"select distinct build_id from {MANIFEST_SCHEMA}.{MANIFEST_TABLE}").fetchall()
        if ids != [(build_id,)]:
            raise PublishError(f"verification: manifest of {tmp.name} holds build ids {ids}, expected {build_id}")
    finally:
        con.close()


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """The publish manifest of a serving file, one dict per mart."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(f"select * from {MANIFEST_SCHEMA}.{MANIFEST_TABLE} order by mart")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def build_id_of(path: Path) -> str:
    """The build id a serving file's manifest names (``unknown build`` when it names none)."""
    try:
        rows = read_manifest(path)
    except duckdb.Error:
        return "unknown build"
    return str(rows[0]["build_id"]) if rows else "unknown build"
