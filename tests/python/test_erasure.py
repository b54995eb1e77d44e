"""Erasure leaves no trace: after a build (and a publish), no stored table holds an erased person.

One generated data set gets a hand-made case on top of the generator's own erasure requests: a
person with two CRM records (same email) whose erasure request names only the second record and
has an unparseable timestamp, so the request row is quarantined; and a later, future-dated CRM
version of that record with another email and card, quarantined too. Privacy wins: the whole
person is erased. The test then scans every varchar column of every table (not the staging
schema, a copy of the raw files: those are the data owner's to erase, then `dbt build
--full-refresh`) of every schema of the working warehouse and of the published serving copy for
every erased identifier value.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lifecycle import paths
from lifecycle.generate import generate
from lifecycle.publish import publish
from lifecycle.validate import validate_warehouse

pytestmark = pytest.mark.slow

N_CUSTOMERS = 3000  # enough for the generator to write a few erasure requests of its own
SEED = 11
LATE_EMAIL = "erased.later.version@example.com"
LATE_CARD = "999000111222"


@dataclass(frozen=True)
class Person:
    customer_id: str  # the resolved id: the smaller CRM id
    requested_id: str  # the record the erasure request names
    emails: tuple[str, ...]
    cards: tuple[str, ...]
    anonymous_ids: tuple[str, ...]  # devices only the person logged in on (scanned for, not all stitched)
    order_ids: tuple[str, ...]


@dataclass(frozen=True)
class Erased:
    db: Path
    serving: Path
    person: Person
    requested_ids: tuple[str, ...]  # every erasure request's CRM id in the raw data


def _raw(raw: Path, table: str) -> str:
    return f"read_parquet('{raw / table}/*.parquet', union_by_name = true)"


def _pick_person(raw: Path) -> Person:
    """A buyer with exactly two CRM records sharing one email (in every version), no test account
    and no erasure request of their own."""
    con = duckdb.connect()
    try:
        row = con.execute(
            f"""
            with crm as (
                select trim(customer_id) as id, lower(trim(email)) as email, first_name,
                       nullif(trim(loyalty_card_number), '') as card
                from {_raw(raw, 'crm_customers')}
                where nullif(trim(customer_id), '') is not null
            ),
            one_email as (
                select id, min(email) as email from crm group by id
                having count(distinct email) = 1 and count(*) = count(email)
            ),
            people as (
                select email, list(id order by id) as ids from one_email group by email having count(*) = 2
            ),
            erased as (
                select trim(customer_id) as id from {_raw(raw, 'privacy_requests')}
                where lower(trim(request_type)) = 'erasure'
            ),
            buyers as (select distinct trim(customer_id) as id from {_raw(raw, 'shop_orders')})
            select people.email, people.ids
            from people
            where people.email not like '%test%' and people.email not like 'qa+%'
              and not exists (select 1 from crm where list_contains(people.ids, crm.id)
                              and lower(trim(crm.first_name)) = 'test')
              and not exists (select 1 from erased where list_contains(people.ids, erased.id))
              and exists (select 1 from buyers where list_contains(people.ids, buyers.id))
            order by people.email
            limit 1
            """
        ).fetchone()
        assert row is not None, "the generated data has no two-record buyer"
        email, ids = row[0], list(row[1])
        cards = con.execute(
            f"select distinct trim(loyalty_card_number) from {_raw(raw, 'crm_customers')} "
            "where list_contains(?, trim(customer_id)) and nullif(trim(loyalty_card_number), '') is not null",
            [ids],
        ).fetchall()
        # Devices only the person ever logged in on are theirs (a shared device goes to its first user).
        devices = con.execute(
            f"select anonymous_id from {_raw(raw, 'web_events')} where anonymous_id is not null "
            "and nullif(trim(customer_id), '') is not null group by 1 "
            "having bool_and(list_contains(?, trim(customer_id)))",
            [ids],
        ).fetchall()
        orders = con.execute(
            f"select distinct trim(order_id) from {_raw(raw, 'shop_orders')} where list_contains(?, trim(customer_id))",
            [ids],
        ).fetchall()
    finally:
        con.close()
    return Person(
        customer_id=ids[0],
        requested_id=ids[1],
        emails=(email, LATE_EMAIL),
        cards=(*sorted(c for (c,) in cards), LATE_CARD),
        anonymous_ids=tuple(sorted(d for (d,) in devices)),
        order_ids=tuple(sorted(o for (o,) in orders)),
    )


def _add_hand_made_case(raw: Path, person: Person) -> None:
    """The quarantined erasure request for the second record, and a quarantined later version."""
    part = sorted((raw / "privacy_requests").glob("*.parquet"))[0]
    loaded = pa.array([datetime(2026, 9, 1, 8, 0)], type=pa.timestamp("us"))
    request = pa.table(
        {
            "request_id": ["PR9900000001"],
            "customer_id": [person.requested_id],
            "request_type": ["erasure"],
            "requested_at": ["last tuesday"],  # unparseable: the row is quarantined
            "_loaded_at": loaded,
        },
        schema=pq.read_schema(part),
    )
    pq.write_table(request, part.with_name("part-hand-made-erasure.parquet"))

    crm = sorted((raw / "crm_customers").glob("*.parquet"))[0]
    versions = pq.read_table(crm).to_pylist()
    latest = max((v for v in versions if (v["customer_id"] or "").strip() == person.requested_id),
                 key=lambda v: v["updated_at"] or "")
    later = dict(latest, email=LATE_EMAIL.upper(), loyalty_card_number=LATE_CARD,
                 updated_at="2099-01-01T00:00:00Z", _loaded_at=loaded[0].as_py())  # future: quarantined
    pq.write_table(pa.Table.from_pylist([later], schema=pq.read_schema(crm)),
                   crm.with_name("part-hand-made-version.parquet"))


def _requested_ids(raw: Path) -> tuple[str, ...]:
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"select distinct trim(customer_id) from {_raw(raw, 'privacy_requests')} "
            "where lower(trim(request_type)) = 'erasure' and nullif(trim(customer_id), '') is not null"
        ).fetchall()
    finally:
        con.close()
    return tuple(sorted(r[0] for r in rows))


def _lifecycle_dbt_build(raw: Path, db: Path) -> None:
    """``lifecycle dbt build``: the warehouse's own target and logs (paths.artefacts), as publish expects."""
    env = dict(os.environ, LIFECYCLE_RAW_DIR=str(raw), LIFECYCLE_DB=str(db),
               DBT_SEND_ANONYMOUS_USAGE_STATS="False", DO_NOT_TRACK="1")
    for var in ("DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PROFILES_DIR"):
        env.pop(var, None)
    result = subprocess.run([str(Path(sys.executable).with_name("lifecycle")), "dbt", "build"],
                            cwd=paths.PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def erased(tmp_path_factory: pytest.TempPathFactory) -> Erased:
    root = tmp_path_factory.mktemp("erasure")
    raw = root / "raw"
    generate(scale="demo", seed=SEED, out=raw, progress=False, n_customers=N_CUSTOMERS)
    person = _pick_person(raw)
    _add_hand_made_case(raw, person)
    db = root / "warehouse.duckdb"
    _lifecycle_dbt_build(raw, db)
    report = validate_warehouse(db, paths.artefacts(db).reports)
    assert report.success, "\n".join(report.summary_lines())
    serving = root / "serve" / "serving.duckdb"
    publish(db, serving, skip_validate=True)
    return Erased(db, serving, person, _requested_ids(raw))


def _erased_values(db: Path) -> set[str]:
    """Every value of int_customers_erased: identifiers and resolved customer ids."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select identifier_value from intermediate.int_customers_erased "
            "union select customer_id from intermediate.int_customers_erased"
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def _tables_holding(path: Path, values: set[str]) -> list[str]:
    """schema.table.column of every varchar column of every table (not view, not staging: the raw
    rows as loaded) holding any of ``values``, alone or inside a longer string (a key such as
    'C0000123|2024-01-01')."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "select c.table_schema, c.table_name, c.column_name from information_schema.columns c "
            "join information_schema.tables t using (table_catalog, table_schema, table_name) "
            "where t.table_type = 'BASE TABLE' and c.data_type = 'VARCHAR' and c.table_schema <> 'staging'"
            " order by 1, 2, 3"
        ).fetchall()
        assert columns, f"no varchar column in {path}"
        found = []
        for schema, table, column in columns:
            hit = con.execute(
                f'select count(*) from "{schema}"."{table}" '
                f'where len(list_filter(?, v -> contains("{column}", v))) > 0',
                [sorted(values)],
            ).fetchone()
            if hit and hit[0]:
                found.append(f"{schema}.{table}.{column}")
    finally:
        con.close()
    return found


def test_a_quarantined_request_erases_the_whole_person(erased: Erased) -> None:
    person = erased.person
    con = duckdb.connect(str(erased.db), read_only=True)
    try:
        reason = con.execute(
            "select quarantine_reason from staging.stg_crm__privacy_requests where privacy_request_id = 'PR9900000001'"
        ).fetchone()
        listed = set(con.execute(
            "select identifier_type, identifier_value from intermediate.int_customers_erased where customer_id = ?",
            [person.customer_id],
        ).fetchall())
        orders = con.execute(
            "select count(*), count(customer_id), count(source_customer_id), bool_and(is_customer_erased) "
            "from intermediate.int_orders_unioned where list_contains(?, order_id)",
            [list(person.order_ids)],
        ).fetchone()
        in_marts = con.execute(
            "select count(*) from marts.customers where customer_id in (?, ?)",
            [person.customer_id, person.requested_id],
        ).fetchone()
        masked = con.execute(
            "select count(*) from marts.quarantined_rows where source_table = 'crm_customers' "
            "and quarantine_reason = 'future_timestamp' and record_key is null and _loaded_at = ?",
            [datetime(2026, 9, 1, 8, 0)],
        ).fetchone()
    finally:
        con.close()
    assert reason == ("unparseable_timestamp",)
    expected = (
        {("customer_id", person.customer_id), ("customer_id", person.requested_id)}
        | {("email", e) for e in person.emails}
        | {("loyalty_card", c) for c in person.cards}
    )
    assert expected <= listed, f"not listed as erased: {sorted(expected - listed)}"
    assert in_marts == (0,)
    # The person's staging-valid orders stay (revenue totals) with no link to the person.
    assert orders is not None and orders[0] > 0
    assert orders[1:] == (0, 0, True)
    # The quarantined later version is still in the quarantine log, its key masked.
    assert masked == (1,)


def test_every_erasure_request_is_honoured(erased: Erased) -> None:
    """Each raw erasure request's CRM id is in int_customers_erased, whatever the request's quality."""
    listed = _erased_values(erased.db)
    assert len(erased.requested_ids) >= 2
    assert set(erased.requested_ids) <= listed


def test_no_table_of_the_warehouse_holds_an_erased_person(erased: Erased) -> None:
    person = erased.person
    values = (_erased_values(erased.db) | set(erased.requested_ids) | {person.customer_id, person.requested_id}
              | set(person.emails) | set(person.cards) | set(person.anonymous_ids))
    assert _tables_holding(erased.db, values) == []


def test_no_table_of_the_serving_copy_holds_an_erased_person(erased: Erased) -> None:
    values = _erased_values(erased.db) | set(erased.requested_ids)
    assert _tables_holding(erased.serving, values) == []


def test_the_scan_finds_a_value_that_is_stored(erased: Erased) -> None:
    """The scan itself: a customer of the marts is found, in the warehouse and the serving copy."""
    con = duckdb.connect(str(erased.db), read_only=True)
    try:
        row = con.execute("select min(customer_id) from marts.customers").fetchone()
    finally:
        con.close()
    assert row is not None and row[0]
    assert "marts.customers.customer_id" in _tables_holding(erased.db, {row[0]})
    assert "marts.customers.customer_id" in _tables_holding(erased.serving, {row[0]})
