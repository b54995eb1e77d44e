"""Bulk load of a mart into PostgreSQL: DuckDB streams Arrow record batches, Arrow's CSV writer
(C++, outside the GIL) renders each batch, and ``COPY ... FROM STDIN`` takes them (psycopg writes
to the server from a worker thread meanwhile). Only one batch is in memory at a time, whatever the
size of the mart.

The table is created and loaded in one transaction with ``COPY ... FREEZE``: its rows are written
frozen, so no later vacuum rewrites them, and a load that dies leaves no table behind.
"""

from __future__ import annotations

import io

import duckdb
import psycopg
import pyarrow.csv as pacsv

from lifecycle.publish.catalog import Column, Table, ident
from lifecycle.publish.pg_schema import create_table_sql, qualified

BATCH_ROWS = 100_000
_CSV = pacsv.WriteOptions(include_header=False, batch_size=8192)


def _select_expr(col: Column) -> str:
    """How DuckDB hands a column to the CSV writer: as it is, or (lists) as PostgreSQL array text."""
    name = ident(col.name)
    if col.data_type.endswith("[]"):
        element = "'\"' || replace(replace(cast(x as varchar), '\\', '\\\\'), '\"', '\\\"') || '\"'"
        items = f"coalesce(array_to_string(list_transform({name}, x -> coalesce({element}, 'NULL')), ','), '')"
        return f"case when {name} is null then null else '{{' || {items} || '}}' end"
    return name


def select_sql(table: Table) -> str:
    cols = ", ".join(_select_expr(c) for c in table.columns)
    return f"select {cols} from {qualified(table.schema, table.name)}"


def copy_table(src: duckdb.DuckDBPyConnection, pg: psycopg.Connection, table: Table, schema: str) -> int:
    """Create ``schema.<table>`` and fill it from the warehouse; return the rows written."""
    target = qualified(schema, table.name)
    cols = ", ".join(ident(c.name) for c in table.columns)
    reader = src.execute(select_sql(table)).fetch_record_batch(BATCH_ROWS)
    rows = 0
    with pg.transaction(), pg.cursor() as cur:
        cur.execute(create_table_sql(table, schema))
        with cur.copy(f"copy {target} ({cols}) from stdin (format csv, freeze)") as copy:
            for batch in reader:
                buf = io.BytesIO()
                pacsv.write_csv(batch, buf, _CSV)
                copy.write(buf.getbuffer())
                rows += batch.num_rows
    return rows
