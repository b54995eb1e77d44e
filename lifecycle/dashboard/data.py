"""Where the dashboard reads from: the published serving copy, read-only, one fresh connection per
page view.

The serving copy (``lifecycle publish``) is a DuckDB file swapped atomically at each publish. DuckDB
caches open databases per path within a process (tests/python/test_publish.py,
``test_in_process_connection_cache_caveat``): a ``duckdb.connect(path)`` made while another session
of the app still holds a connection would share the OLD file. So each view opens a new in-memory
database and ATTACHes the serving file read-only in it: a database of its own, which always opens
the file that is at the path now, i.e. the latest publish.

Every page reads through a :data:`Serving`: :class:`DuckDBServing` (``frame`` for a query, ``csv`` for a download,
``manifest`` for the publish manifest) with plain SQL over ``marts.<table>`` (no DuckDB-only
syntax but the ``?`` placeholders). :class:`PostgresServing` has the same methods over the
PostgreSQL serving schema (``lifecycle publish --to``): a new autocommit, read-only session per
page view, so every query sees the build live at that moment; ``?`` becomes ``%s``, and numerics
and dates come back as the DuckDB source gives them (floats, datetime64). Pages read schema
``marts`` and ``meta.publish_manifest`` only.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import psycopg

from lifecycle import paths
from lifecycle.publish import MANIFEST_SCHEMA, MANIFEST_TABLE, default_serving_path
from lifecycle.publish.postgres import first_line, is_postgres_url, redacted
from lifecycle.validation_report import MARTS_SCHEMA

SERVING_URL_ENV = "LIFECYCLE_SERVING_URL"
_ALIAS = "serving"


class DataError(Exception):
    """The serving copy cannot be read (missing, not a serving copy, an unsupported URL)."""


def serving_location() -> str:
    """What the dashboard reads: env LIFECYCLE_SERVING_URL, else the serving file of
    :func:`lifecycle.publish.default_serving_path` (LIFECYCLE_SERVING_DB or beside the warehouse)."""
    return os.environ.get(SERVING_URL_ENV) or str(default_serving_path())


def serving_file(location: str) -> Path:
    """The DuckDB file a location names (a path or ``duckdb:///path``); a one-line error otherwise
    (a PostgreSQL URL is checked by :func:`open_serving`, not here)."""
    if location.startswith("duckdb:///"):
        location = location.removeprefix("duckdb://")
    elif "://" in location:
        raise DataError(f"unsupported serving location {location!r}: give a DuckDB file path")
    path = Path(location).expanduser().resolve()
    if not path.is_file():
        raise DataError(f"no serving copy at {path}: run 'make build' (or 'lifecycle publish') first")
    return path


@dataclass(frozen=True)
class Manifest:
    """The publish manifest of the copy being viewed: one dict per mart, and what they share."""

    rows: list[dict[str, Any]]

    def first(self, key: str) -> Any:
        return self.rows[0][key] if self.rows else None

    @property
    def build_id(self) -> str | None:
        return self.first("build_id")

    @property
    def as_of_date(self) -> Any:
        return self.first("as_of_date")

    @property
    def published_at(self) -> Any:
        return self.first("published_at")

    @property
    def source_warehouse(self) -> str | None:
        return self.first("source_warehouse")

    @property
    def validation_success(self) -> bool | None:
        return self.first("validation_success")

    def checks(self) -> dict[str, dict[str, Any]]:
        """Per mart, the validation summary the publish recorded (empty when re-validation was skipped)."""
        return {str(r["mart"]): json.loads(r["checks_summary"] or "{}") for r in self.rows}

    def validation_report(self) -> dict[str, Any] | None:
        """``validation.json`` of the warehouse this copy was published from, when it is on this machine."""
        if not self.source_warehouse:
            return None
        report = paths.artefacts(self.source_warehouse).validation_report
        try:
            return dict(json.loads(report.read_text()))
        except (OSError, ValueError):
            return None


class DuckDBServing:
    """One read-only view of the serving copy: open for one page view, then closed."""

    def __init__(self, con: duckdb.DuckDBPyConnection, location: str) -> None:
        self._con = con
        self.location = location

    def frame(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """The result of ``sql`` (tables named ``marts.x`` / ``meta.x``) as a DataFrame."""
        return self._con.execute(sql, list(params or [])).df()

    def csv(self, sql: str) -> bytes:
        """The result of ``sql`` as CSV with a header, written by DuckDB (as ``lifecycle export-audience`` does)."""
        with tempfile.TemporaryDirectory(prefix="lifecycle-dashboard-") as tmp:
            out = Path(tmp) / "out.csv"
            self._con.execute(f"copy ({sql}) to '{out}' (format csv, header true)")
            return out.read_bytes()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self._con.execute(sql, list(params or [])).fetchone()
        return row[0] if row else None

    def has_table(self, schema: str, table: str) -> bool:
        n = self.scalar(
            "select count(*) from information_schema.tables where table_catalog = ? "
            "and table_schema = ? and table_name = ?",
            [_ALIAS, schema, table],
        )
        return bool(n)

    def manifest(self) -> Manifest:
        cur = self._con.execute(f"select * from {MANIFEST_SCHEMA}.{MANIFEST_TABLE} order by mart")
        names = [d[0] for d in cur.description]
        return Manifest([dict(zip(names, row, strict=True)) for row in cur.fetchall()])


@contextmanager
def open_serving(location: str | None = None) -> Iterator[Serving]:
    """A fresh read-only view of the serving copy at ``location`` (default :func:`serving_location`)."""
    where = location or serving_location()
    if is_postgres_url(where):
        with _open_postgres(where) as pg_serving:
            yield pg_serving
        return
    path = serving_file(where)
    con = duckdb.connect(":memory:")
    try:
        escaped = str(path).replace("'", "''")
        try:
            con.execute(f"attach '{escaped}' as {_ALIAS} (read_only)")
        except duckdb.Error as exc:
            raise DataError(f"cannot open {path} read-only: {str(exc).splitlines()[0]}") from exc
        con.execute(f"use {_ALIAS}")
        serving = DuckDBServing(con, str(path))
        if not serving.has_table(MANIFEST_SCHEMA, MANIFEST_TABLE) or not serving.has_table(MARTS_SCHEMA, "customers"):
            raise DataError(f"{path} is not a serving copy written by 'lifecycle publish' (no publish manifest)")
        yield serving
    finally:
        con.close()


def _pg_sql(sql: str) -> str:
    """The pages' SQL for psycopg: a literal ``%`` doubled, ``?`` placeholders as ``%s``."""
    return sql.replace("%", "%%").replace("?", "%s")


def _as_duckdb_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Columns as the DuckDB source returns them: numeric (Decimal) as float, DATE as datetime64."""
    for col in df.columns:
        sample = df[col].dropna()
        if sample.empty:
            continue
        first = sample.iloc[0]
        if isinstance(first, Decimal):
            df[col] = df[col].astype(float)
        elif isinstance(first, date) and not isinstance(first, datetime):
            df[col] = pd.to_datetime(df[col])
    return df


class PostgresServing:
    """One read-only session on the PostgreSQL serving schema, open for one page view."""

    def __init__(self, con: psycopg.Connection, location: str) -> None:
        self._con = con
        self.location = location

    def frame(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        cur = self._con.execute(_pg_sql(sql), list(params or []))  # type: ignore[arg-type]
        names = [d.name for d in cur.description or []]
        return _as_duckdb_frame(pd.DataFrame(cur.fetchall(), columns=names))

    def csv(self, sql: str) -> bytes:
        """The result of ``sql`` as CSV with a header (PostgreSQL's COPY; booleans as t/f)."""
        with self._con.cursor() as cur, cur.copy(f"copy ({sql}) to stdout with (format csv, header true)") as copy:
            return b"".join(bytes(chunk) for chunk in copy)

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self._con.execute(_pg_sql(sql), list(params or [])).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None

    def has_table(self, schema: str, table: str) -> bool:
        row = self._con.execute(
            "select count(*) from information_schema.tables where table_schema = %s and table_name = %s",
            [schema, table],
        ).fetchone()
        return bool(row and row[0])

    def manifest(self) -> Manifest:
        cur = self._con.execute(f"select * from {MANIFEST_SCHEMA}.{MANIFEST_TABLE} order by mart")
        names = [d.name for d in cur.description or []]
        return Manifest([dict(zip(names, row, strict=True)) for row in cur.fetchall()])


@contextmanager
def _open_postgres(url: str) -> Iterator[PostgresServing]:
    shown = redacted(url)
    try:
        con = psycopg.connect(url, autocommit=True, application_name="lifecycle dashboard")
    except psycopg.Error as exc:
        raise DataError(f"cannot connect to PostgreSQL at {shown}: {first_line(exc)}") from exc
    try:
        con.execute("set session characteristics as transaction read only")
        serving = PostgresServing(con, shown)
        if not serving.has_table(MANIFEST_SCHEMA, MANIFEST_TABLE) or not serving.has_table(MARTS_SCHEMA, "customers"):
            raise DataError(
                f"{shown} holds no serving schema written by 'lifecycle publish --to' (no publish manifest)"
            )
        yield serving
    finally:
        con.close()


#: What a page reads through: the DuckDB serving file or the PostgreSQL serving schema.
Serving = DuckDBServing | PostgresServing
