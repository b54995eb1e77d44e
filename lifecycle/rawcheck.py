"""Check a raw directory against the landing contract (``lifecycle/schema.py``) before dbt runs.

Only Parquet footers are read (schema and row counts), so the check takes well under a
second even on very large files. Every problem is collected and reported in one
:class:`RawDataError`, one problem per line, each naming the table (and the column and file
where relevant), so a bad delivery fails before anything is built or published.

Errors: a missing raw directory; a table folder that is missing or holds no ``*.parquet``
file; a Parquet file that cannot be read; a contract column missing (with a 'renamed?'
hint when a similarly named column exists); a column whose Arrow type differs from the
contract (int64 for int32, string for int32, timestamp[ns] or timezone-aware for
timestamp[us], an untyped all-null column, ...; only string / large_string /
dictionary-encoded strings are treated as the same type, DuckDB reads them all as VARCHAR);
part files of one table with different schemas; an empty core table (``crm_customers``,
``shop_orders``, ``shop_order_lines``).

Warnings (returned, not raised): extra columns (ignored by staging), an empty non-core
table and folders in the raw directory that are not contract tables.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lifecycle import schema

CORE_TABLES: tuple[str, ...] = ("crm_customers", "shop_orders", "shop_order_lines")


class RawDataError(Exception):
    """The raw directory does not match the landing contract; the message lists every problem."""

    def __init__(self, message: str, problems: list[str] | None = None, warnings: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []
        self.warnings = warnings or []


def _is_string(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _is_string(t.value_type)
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _type_matches(expected: pa.DataType, found: pa.DataType) -> bool:
    """Exact match; the only variants accepted are the string encodings DuckDB reads as VARCHAR."""
    return found.equals(expected) or (_is_string(expected) and _is_string(found))


def _type_hint(found: pa.DataType) -> str:
    if pa.types.is_null(found):
        return " (an all-null column written without a type: write it with the contract type)"
    if pa.types.is_timestamp(found) and found.tz is not None:
        return " (timezone-aware: write naive UTC timestamps)"
    return ""


def _rename_hint(column: str, candidates: list[str]) -> str:
    same_case = [c for c in candidates if c.lower() == column.lower()]
    close = same_case or difflib.get_close_matches(column, candidates, n=1, cutoff=0.6)
    return f" (renamed? found '{close[0]}')" if close else ""


def _schema_diff(a: pa.Schema, b: pa.Schema) -> str:
    ta = {f.name: f.type for f in a}
    tb = {f.name: f.type for f in b}
    parts = []
    only_a = [n for n in ta if n not in tb]
    only_b = [n for n in tb if n not in ta]
    if only_a:
        parts.append(f"only in the first: {', '.join(only_a)}")
    if only_b:
        parts.append(f"only in the other: {', '.join(only_b)}")
    for n in ta:
        if n in tb and not ta[n].equals(tb[n]):
            parts.append(f"'{n}' is {ta[n]} vs {tb[n]}")
    return "; ".join(parts)


def _same_columns(a: pa.Schema, b: pa.Schema) -> bool:
    ta = {f.name: f.type for f in a}
    tb = {f.name: f.type for f in b}
    return ta.keys() == tb.keys() and all(ta[n].equals(tb[n]) for n in ta)


def _read_footer(path: Path) -> tuple[pa.Schema, int]:
    with path.open("rb") as fh:
        pf = pq.ParquetFile(fh)
        return pf.schema_arrow, pf.metadata.num_rows


def _check_table(raw_dir: Path, rt: schema.RawTable, problems: list[str], warnings: list[str]) -> dict[str, int] | None:
    name = rt.name
    folder = raw_dir / name
    if not folder.is_dir():
        problems.append(f"{name}: table folder is missing ({folder})")
        return None
    files = sorted(p for p in folder.glob("*.parquet") if p.is_file())
    if not files:
        problems.append(f"{name}: no .parquet files in {folder}")
        return None

    schemas: list[tuple[Path, pa.Schema]] = []
    rows = 0
    for path in files:
        try:
            arrow_schema, n = _read_footer(path)
        except Exception as exc:
            problems.append(f"{name}: cannot read Parquet file {path.name} ({path}): {exc}")
            continue
        schemas.append((path, arrow_schema))
        rows += n

    if schemas:
        first_path, first = schemas[0]
        for path, other in schemas[1:]:
            if not _same_columns(first, other):
                problems.append(
                    f"{name}: part files have different schemas: {first_path.name} vs {path.name} "
                    f"({_schema_diff(first, other)})"
                )
        where = f" (in {first_path.name})" if len(files) > 1 else ""
        found = {f.name: f.type for f in first}
        expected_names = set(rt.column_names)
        extra = [c for c in found if c not in expected_names]
        for col, expected in rt.columns:
            if col not in found:
                problems.append(f"{name}.{col}: column is missing{where}{_rename_hint(col, extra)}")
                continue
            got = found[col]
            if not _type_matches(expected, got):
                problems.append(f"{name}.{col}: expected type {expected}, found {got}{where}{_type_hint(got)}")
        for col in extra:
            warnings.append(f"{name}.{col}: unexpected column, ignored by staging")

    if len(schemas) == len(files) and rows == 0:
        if name in CORE_TABLES:
            problems.append(f"{name}: table is empty (0 rows); a core table needs data")
        else:
            warnings.append(f"{name}: table is empty (0 rows)")
    return {"rows": rows, "files": len(files)}


def check_raw_dir(raw_dir: Path) -> dict[str, Any]:
    """Validate ``raw_dir`` against the contract; return row/file counts and warnings.

    Raises :class:`RawDataError` listing every problem, one per line.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        what = "is not a directory" if raw_dir.exists() else "does not exist"
        raise RawDataError(f"raw directory {raw_dir} {what}", problems=[f"raw directory {raw_dir} {what}"])

    problems: list[str] = []
    warnings: list[str] = []
    tables: dict[str, dict[str, int]] = {}
    for rt in schema.RAW_TABLES:
        counts = _check_table(raw_dir, rt, problems, warnings)
        if counts is not None:
            tables[rt.name] = counts

    for entry in sorted(raw_dir.iterdir()):
        if entry.is_dir() and entry.name not in schema.TABLES and not entry.name.startswith((".", "_")):
            warnings.append(f"{entry.name}: folder is not a table of the landing contract, ignored")

    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise RawDataError(
            f"raw data in {raw_dir} does not match the landing contract (lifecycle/schema.py), "
            f"{len(problems)} problem(s):\n{lines}",
            problems=problems,
            warnings=warnings,
        )
    return {"tables": tables, "warnings": warnings}
