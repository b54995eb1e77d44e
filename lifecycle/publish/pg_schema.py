"""The PostgreSQL side of a published mart: types, DDL, indexes, grants, the manifest table.

Everything is derived from :class:`lifecycle.publish.catalog.Table` (the one description of a
mart, read from the warehouse catalog) and from :data:`lifecycle.publish.serving.MANIFEST_COLUMNS`
(the one manifest definition). :func:`pg_type` is the one map of DuckDB types to PostgreSQL's and
:func:`index_columns` the one rule of which columns get an index.
"""

from __future__ import annotations

import re

from lifecycle.publish.catalog import Table, comment_sql, ident, literal
from lifecycle.publish.errors import PublishError
from lifecycle.publish.serving import MANIFEST_COLUMNS, MANIFEST_TABLE

_SIMPLE_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(38, 0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20, 0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "INTERVAL": "interval",
    "UUID": "uuid",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL type of a DuckDB column type (``DECIMAL(18,2)`` -> ``numeric(18, 2)``,
    ``VARCHAR[]`` -> ``text[]``); a type with no faithful PostgreSQL twin is refused."""
    spelled = duckdb_type.strip().upper()
    if spelled.endswith("[]"):
        inner = pg_type(spelled[:-2])
        if inner.endswith("[]"):
            raise PublishError(f"cannot publish the nested list type {duckdb_type} to PostgreSQL")
        return inner + "[]"
    if spelled in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[spelled]
    decimal = _DECIMAL.fullmatch(spelled)
    if decimal:
        return f"numeric({decimal[1]}, {decimal[2]})"
    raise PublishError(f"cannot publish DuckDB type {duckdb_type} to PostgreSQL (no matching type)")


def qualified(schema: str, name: str) -> str:
    return f"{ident(schema)}.{ident(name)}"


def create_table_sql(table: Table, schema: str) -> str:
    """``create table`` with the columns and their not-null constraints (keys come after the load)."""
    cols = ",\n    ".join(
        f"{ident(c.name)} {pg_type(c.data_type)}" + (" not null" if c.not_null else "") for c in table.columns
    )
    return f"create table {qualified(schema, table.name)} (\n    {cols}\n)"


# The index rule. Customer keys: a column named customer_id or ending in _customer_id. The usual
# filter columns of BI questions: the date of a snapshot or period (a build's as_of_date is one value
# per mart, no use to an index) and the categorical columns a dashboard slices by.
CUSTOMER_KEY = re.compile(r"(.+_)?customer_id")
FILTER_COLUMNS = frozenset(
    {
        "snapshot_date",
        "period_start_date",
        "cohort_month",
        "lifecycle_stage",
        "rfm_segment",
        "value_tier",
        "clv_tier",
        "action",
        "channel",
        "acquisition_channel",
        "dimension",
        "source_table",
    }
)


def index_columns(table: Table) -> list[str]:
    """The columns of ``table`` that get an index of their own: customer keys and the usual filter
    columns, except the leading column of the primary key (its index already serves them)."""
    leading_key = table.primary_key[0] if table.primary_key else None
    return [
        c.name
        for c in table.columns
        if c.name != leading_key and (CUSTOMER_KEY.fullmatch(c.name) or c.name in FILTER_COLUMNS)
    ]


def constraint_sql(table: Table, schema: str) -> list[str]:
    """Primary key, unique constraints, indexes and comments, to run once the rows are loaded."""
    target = qualified(schema, table.name)
    out = []
    if table.primary_key:
        cols = ", ".join(ident(c) for c in table.primary_key)
        out.append(f"alter table {target} add primary key ({cols})")
    out.extend(f"alter table {target} add unique (" + ", ".join(ident(c) for c in cols) + ")" for cols in table.unique)
    out.extend(f"create index on {target} ({ident(col)})" for col in index_columns(table))
    out.extend(comment_sql(table, target))
    out.append(f"analyze {target}")
    return out


def manifest_create_sql(schema: str) -> str:
    """The manifest table (:data:`MANIFEST_COLUMNS`: its types are spelled as PostgreSQL spells them)."""
    columns = ", ".join(f"{ident(name)} {kind}" for name, kind in MANIFEST_COLUMNS)
    return f"create table {qualified(schema, MANIFEST_TABLE)} ({columns})"


def manifest_insert_sql(schema: str) -> str:
    names = ", ".join(ident(name) for name, _ in MANIFEST_COLUMNS)
    placeholders = ", ".join(["%s"] * len(MANIFEST_COLUMNS))
    return f"insert into {qualified(schema, MANIFEST_TABLE)} ({names}) values ({placeholders})"


def ensure_role_sql(role: str) -> str:
    """Create the read-only role (no login, no privileges of its own) unless it exists."""
    return (
        "do $$ begin if not exists (select from pg_roles where rolname = "
        f"{literal(role)}) then create role {ident(role)} nologin; end if; end $$"
    )


def grant_sql(role: str, schemas: list[str]) -> list[str]:
    """Usage on the schemas and select on their tables: all the read-only role may do."""
    out = []
    for schema in schemas:
        out.append(f"grant usage on schema {ident(schema)} to {ident(role)}")
        out.append(f"grant select on all tables in schema {ident(schema)} to {ident(role)}")
    return out
