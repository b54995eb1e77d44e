"""What a published mart is, read from the working warehouse's own catalog.

dbt writes each mart with its contract (column names and types, ``not null`` and primary-key
constraints) and, through ``persist_docs``, the table and column descriptions of the model YAML
as DuckDB comments. This module reads that back (``duckdb_tables()``, ``duckdb_columns()``,
``duckdb_constraints()``) so that every publish target (the DuckDB serving file, PostgreSQL)
recreates the same tables from one description: nothing here is written twice in YAML.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # DuckDB's spelling, e.g. DECIMAL(18,2), TIMESTAMP WITH TIME ZONE, VARCHAR[]
    comment: str | None
    not_null: bool


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    comment: str | None
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def ident(name: str) -> str:
    """A quoted SQL identifier (DuckDB and PostgreSQL quote alike)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _blank_to_none(text: str | None) -> str | None:
    return text if text and text.strip() else None


def read_tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[Table]:
    """Every base table of ``schema`` in the database ``con`` is connected to, ordered by name."""
    tables = con.execute(
        "select table_name, comment from duckdb_tables() "
        "where database_name = current_database() and schema_name = ? and not temporary order by table_name",
        [schema],
    ).fetchall()
    columns = con.execute(
        "select table_name, column_name, data_type, comment, not is_nullable from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? order by table_name, column_index",
        [schema],
    ).fetchall()
    constraints = con.execute(
        "select table_name, constraint_type, constraint_column_names from duckdb_constraints() "
        "where database_name = current_database() and schema_name = ? "
        "and constraint_type in ('PRIMARY KEY', 'UNIQUE', 'NOT NULL') order by table_name, constraint_index",
        [schema],
    ).fetchall()
    by_table: dict[str, list[tuple[str, str, str | None, bool]]] = {}
    for table, name, data_type, comment, not_null in columns:
        by_table.setdefault(table, []).append((name, data_type, comment, bool(not_null)))
    primary: dict[str, tuple[str, ...]] = {}
    unique: dict[str, list[tuple[str, ...]]] = {}
    not_null_cols: dict[str, set[str]] = {}
    for table, kind, names in constraints:
        cols = tuple(names)
        if kind == "PRIMARY KEY":
            primary[table] = cols
        elif kind == "UNIQUE":
            unique.setdefault(table, []).append(cols)
        else:
            not_null_cols.setdefault(table, set()).update(cols)
    out = []
    for table, comment in tables:
        pk = primary.get(table, ())
        cols = tuple(
            Column(
                name=name,
                data_type=data_type,
                comment=_blank_to_none(col_comment),
                not_null=not_null or name in not_null_cols.get(table, set()) or name in pk,
            )
            for name, data_type, col_comment, not_null in by_table.get(table, [])
        )
        out.append(
            Table(
                schema=schema,
                name=table,
                comment=_blank_to_none(comment),
                columns=cols,
                primary_key=pk,
                unique=tuple(unique.get(table, [])),
            )
        )
    return out


def duckdb_create_sql(table: Table, target: str, *, primary_key: bool = True) -> str:
    """``create table <target> (...)`` with the table's columns, not-null and key constraints
    (without the primary key when ``primary_key`` is False: :func:`primary_key_sql` adds it after
    the load, which is faster in DuckDB than loading into an indexed table)."""
    parts = [f"{ident(c.name)} {c.data_type}" + (" not null" if c.not_null else "") for c in table.columns]
    if table.primary_key and primary_key:
        parts.append("primary key (" + ", ".join(ident(c) for c in table.primary_key) + ")")
    parts.extend("unique (" + ", ".join(ident(c) for c in cols) + ")" for cols in table.unique)
    return f"create table {target} (\n    " + ",\n    ".join(parts) + "\n)"


def primary_key_sql(table: Table, target: str) -> str | None:
    """``alter table <target> add primary key (...)`` (DuckDB and PostgreSQL alike), None without one."""
    if not table.primary_key:
        return None
    return f"alter table {target} add primary key (" + ", ".join(ident(c) for c in table.primary_key) + ")"


def comment_sql(table: Table, target: str) -> list[str]:
    """``comment on`` statements for the table and its columns (DuckDB and PostgreSQL syntax alike)."""
    out = []
    if table.comment:
        out.append(f"comment on table {target} is {literal(table.comment)}")
    out.extend(
        f"comment on column {target}.{ident(c.name)} is {literal(c.comment)}" for c in table.columns if c.comment
    )
    return out
