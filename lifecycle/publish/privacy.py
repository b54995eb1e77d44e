"""Erasure in the published copies: no rollback copy keeps a customer erased since it was published.

:func:`_erased_customer_ids` is the one query of who is erased in the working warehouse; it is read
(:meth:`Erasures.read`) on the connection the marts are copied from, before that connection closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from lifecycle.publish.errors import PublishError
from lifecycle.publish.files import previous_path, remove_published
from lifecycle.validation_report import MARTS_SCHEMA


def _erased_customer_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Resolved and source customer ids of the erased people of the working warehouse.

    Read from ``intermediate.int_customers_erased``, the one erasure model (a view over the staged
    raw files, so the warehouse stores none of these ids).
    """
    present = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'intermediate' and table_name = 'int_customers_erased'"
    ).fetchone()
    if not present or not present[0]:
        return []  # a warehouse built before the erasure model has no erasures to honour
    try:
        rows = con.execute(
            "select customer_id from intermediate.int_customers_erased "
            "union select identifier_value from intermediate.int_customers_erased "
            "where identifier_type = 'customer_id' order by 1"
        ).fetchall()
    except duckdb.Error as exc:
        # Privacy first: without the list, a serving or rollback copy could keep an erased person.
        hint = "it reads the raw files of the build (LIFECYCLE_RAW_DIR)"
        if "Catalog" in str(exc) and "does not exist" in str(exc):
            hint = (
                "its views name the warehouse by the file name dbt built it under: publish the "
                "warehouse under that name, or rebuild it where it is"
            )
        raise PublishError(
            f"cannot list the erased customers (intermediate.int_customers_erased: {hint}): {exc}"
        ) from exc
    return [r[0] for r in rows]


def _customers_held(path: Path, customer_ids: list[str]) -> int:
    """How many of ``customer_ids`` the published file at ``path`` still lists in marts.customers."""
    if not customer_ids or not path.is_file():
        return 0
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return 0
    try:
        row = con.execute(
            f"select count(*) from {MARTS_SCHEMA}.customers where list_contains(?, customer_id)", [customer_ids]
        ).fetchone()
        return int(row[0]) if row else 0
    except duckdb.Error:
        return 0
    finally:
        con.close()


@dataclass(frozen=True)
class Erasures:
    """The customers erased in a working warehouse."""

    customer_ids: list[str]

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> Erasures:
        """The erasures of the warehouse ``con`` is connected to."""
        return cls(_erased_customer_ids(con))

    def prune_rollback_copies(self, serving: Path) -> tuple[bool, list[str]]:
        """Drop the published copies of ``serving`` that still hold an erased customer.

        The rollback copy is deleted when it holds one. Returns whether the current serving file
        may become the rollback copy (False when it holds one) and a warning per copy dropped.
        """
        keep_current = True
        warnings: list[str] = []
        for candidate in (serving, previous_path(serving)):
            held = _customers_held(candidate, self.customer_ids)
            if held:
                warnings.append(
                    f"{candidate.name} holds {held} customer(s) erased since it was published: "
                    "it is not kept for rollback"
                )
                if candidate == serving:
                    keep_current = False
                else:
                    remove_published(candidate)
        return keep_current, warnings
