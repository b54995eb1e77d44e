"""Compare the marts of two warehouses, table by table, row by row.

    python scripts/compare_marts.py BEFORE.duckdb AFTER.duckdb [--schema marts] [--tol 1e-9]
        [--ignore TABLE.COLUMN ...]

A refactor that must not change what users see is proved by building the same raw data at the
commit before and after it and running this: every table of the schema must exist in both, with
the same columns and types, the same number of rows and the same values (floating-point columns
within --tol, absolute or relative). Exit status 0 when identical, 1 with a report otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? order by table_name, ordinal_position",
        [catalog, schema],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append((column, data_type))
    return tables


def _frame(con: duckdb.DuckDBPyConnection, relation: str, columns: list[tuple[str, str]]) -> pd.DataFrame:
    # Floats are rounded in the sort key only, so rows that differ by noise still line up.
    keys = [
        f'round("{name}", 6)' if data_type.upper() in FLOAT_TYPES else f'cast("{name}" as varchar)'
        for name, data_type in columns
    ]
    order = ", ".join(f"{key} nulls first" for key in keys)
    return con.execute(f"select * from {relation} order by {order}").df()


def _compare_table(before: pd.DataFrame, after: pd.DataFrame, columns: list[tuple[str, str]],
                   tol: float, ignore: set[str]) -> list[str]:
    if len(before) != len(after):
        return [f"{len(before)} rows before, {len(after)} after"]
    problems = []
    for name, data_type in columns:
        if name in ignore:
            continue
        a, b = before[name], after[name]
        if data_type.upper() in FLOAT_TYPES:
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            same = np.isclose(x, y, rtol=tol, atol=tol, equal_nan=True)
        else:
            same = (a.astype(object).where(a.notna(), None).to_numpy()
                    == b.astype(object).where(b.notna(), None).to_numpy())
        if not bool(np.all(same)):
            bad = int((~same).sum())
            first = int(np.argmin(same))
            problems.append(f"column {name}: {bad} rows differ (e.g. {a.iloc[first]!r} vs {b.iloc[first]!r})")
    return problems


def compare(before_db: Path, after_db: Path, schema: str, tol: float, ignore: list[str]) -> list[str]:
    con = duckdb.connect()
    con.execute(f"attach '{before_db}' as before_db (read_only)")
    con.execute(f"attach '{after_db}' as after_db (read_only)")
    before, after = _tables(con, "before_db", schema), _tables(con, "after_db", schema)
    report = []
    for table in sorted(set(before) | set(after)):
        if table not in after:
            report.append(f"{table}: missing after")
            continue
        if table not in before:
            report.append(f"{table}: new after")
            continue
        if before[table] != after[table]:
            report.append(f"{table}: columns differ: {before[table]} vs {after[table]}")
            continue
        skip = {item.split(".", 1)[1] for item in ignore if item.split(".", 1)[0] == table}
        frames = (_frame(con, f'before_db."{schema}"."{table}"', before[table]),
                  _frame(con, f'after_db."{schema}"."{table}"', after[table]))
        for problem in _compare_table(*frames, before[table], tol, skip):
            report.append(f"{table}: {problem}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--schema", default="marts")
    parser.add_argument("--tol", type=float, default=1e-9)
    parser.add_argument("--ignore", nargs="*", default=[], help="TABLE.COLUMN to skip")
    args = parser.parse_args(argv)
    report = compare(args.before, args.after, args.schema, args.tol, args.ignore)
    if report:
        print("\n".join(report))
        return 1
    print(f"identical: every table of schema {args.schema} (floats within {args.tol})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
