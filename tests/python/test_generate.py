"""Tests for lifecycle.generate: the synthetic raw data set and its manifest."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lifecycle import schema
from lifecycle.generate import (
    CURRENCY_CODES,
    END_DATE,
    ROW_DEFECTS,
    SPECS,
    STORE,
    DirtyRates,
    expected_quarantine,
    generate,
)
from lifecycle.generate.context import Context
from lifecycle.generate.customers import draw_customers
from lifecycle.generate.defects import messy_amounts
from lifecycle.generate.orders import draw_orders, draw_purchases
from lifecycle.generate.streams import BASE, stream

N = 4_000  # customers in the test data sets: one chunk, about a second to generate
FIXTURES = Path(__file__).parents[1] / "fixtures" / "generate"
SEED = 7
STAGING_REASONS = {
    "unparseable_timestamp",
    "future_timestamp",
    "invalid_amount",
    "invalid_quantity",
    "invalid_rating",
    "invalid_score",
    "unknown_currency",
    "missing_key",
}
TEST_PATTERNS = ("%@test.%", "qa+%", "%+test@%")  # dbt var test_account_email_patterns


def _gen(root: Path, name: str, seed: int = SEED, dirty: DirtyRates | None = None) -> tuple[Path, dict[str, Any]]:
    out = root / name
    manifest = generate("demo", seed, out, progress=False, dirty=dirty, n_customers=N)
    return out, manifest


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gen")


@pytest.fixture(scope="module")
def dirty_set(root: Path) -> tuple[Path, dict[str, Any]]:
    return _gen(root, "dirty")


@pytest.fixture(scope="module")
def clean_set(root: Path) -> tuple[Path, dict[str, Any]]:
    return _gen(root, "clean", dirty=DirtyRates.none())


def _read(out: Path, table: str) -> pa.Table:
    return pq.read_table(out / table)


def _con(out: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    for rt in schema.RAW_TABLES:
        con.execute(f"create view {rt.name} as select * from read_parquet('{out}/{rt.name}/*.parquet')")
    return con


def _ts(col: str) -> str:
    return f"timezone('UTC', try_cast(nullif(trim({col}), '') as timestamptz))"


def _money(col: str) -> str:
    return f"try_cast(nullif(regexp_replace(trim({col}), '[^0-9.\\-]', '', 'g'), '') as decimal(18, 2))"


def _bad_money(col: str) -> str:
    return f"(nullif(trim({col}), '') is not null and {_money(col)} is null)"


def _staging_reasons(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    """The staging checks, restated in plain SQL: the reason each (deduplicated) row would get."""
    spec = SPECS.get(table)
    keys = [f"nullif(trim({k}), '')" for k in schema.TABLES[table].key]
    if table == "marketing_spend":
        keys = ["spend_date", "coalesce(nullif(lower(trim(channel)), ''), 'unknown')"]
    conds: list[str] = []
    if table == "crm_customers":
        conds = [
            "nullif(trim(customer_id), '') is null or nullif(trim(updated_at), '') is null then 'missing_key'",
            f"(updated_at is not null and {_ts('updated_at')} is null) "
            f"or (signup_at is not null and {_ts('signup_at')} is null) then 'unparseable_timestamp'",
            f"{_ts('updated_at')} > _loaded_at then 'future_timestamp'",
        ]
    elif table == "marketing_spend":
        conds = [
            "spend_date is null then 'missing_key'",
            "try_cast(nullif(trim(spend_date), '') as date) is null then 'unparseable_timestamp'",
            "cast(try_cast(nullif(trim(spend_date), '') as date) as timestamp) > _loaded_at then 'future_timestamp'",
            "upper(trim(currency)) not in ('USD', 'EUR', 'GBP', 'CAD', 'AUD') or currency is null "
            "then 'unknown_currency'",
            f"{_bad_money('amount')} or nullif(trim(amount), '') is null then 'invalid_amount'",
        ]
    else:
        assert spec is not None
        conds.append(" or ".join(f"nullif(trim({k}), '') is null" for k in spec.key_cols) + " then 'missing_key'")
        if spec.rating_col:
            conds.insert(
                0,
                "nullif(trim(review_id), '') is not null and (rating is null or rating not between 1 and 5) "
                "then 'invalid_rating'",
            )
        if spec.score_col:
            conds.insert(
                0,
                "nullif(trim(response_id), '') is not null and (score is null or score not between 0 and 10) "
                "then 'invalid_score'",
            )
        if table == "privacy_requests":
            conds[-1] = (
                "nullif(trim(request_id), '') is null or nullif(trim(customer_id), '') is null then 'missing_key'"
            )
        if spec.qty_col:
            conds.append("quantity is null or quantity <= 0 then 'invalid_quantity'")
            conds.append(f"{_bad_money('unit_price')} or nullif(trim(unit_price), '') is null then 'invalid_amount'")
        if spec.ts_col:
            c = spec.ts_col
            conds.append(f"{c} is null or {_ts(c)} is null then 'unparseable_timestamp'")
            conds.append(f"{_ts(c)} > _loaded_at then 'future_timestamp'")
        if spec.currency_col:
            conds.append(
                "upper(trim(currency)) not in ('USD', 'EUR', 'GBP', 'CAD', 'AUD') or currency is null "
                "then 'unknown_currency'"
            )
            conds.append(" or ".join(_bad_money(m) for m in spec.money_cols) + " then 'invalid_amount'")
    case = "case " + " ".join(f"when {c}" for c in conds) + " end"
    part = ", ".join(keys)
    key_null = " or ".join(f"{k} is null" for k in keys)
    sql = f"""
        with dedup as (
            select * from {table}
            qualify {key_null} or row_number() over (partition by {part} order by _loaded_at desc) = 1
        )
        select reason, count(*) from (select {case} as reason from dedup) where reason is not null group by 1
    """
    return dict(con.execute(sql).fetchall())


# -- contract ----------------------------------------------------------------------------------


def test_schema_matches_contract(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    out, _ = dirty_set
    for rt in schema.RAW_TABLES:
        files = sorted((out / rt.name).glob("*.parquet"))
        assert files, rt.name
        for f in files:
            assert pq.read_schema(f).equals(rt.arrow_schema, check_metadata=False), f


def test_manifest_matches_files(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = dirty_set
    on_disk = json.loads((out / "_manifest.json").read_text())
    assert on_disk == manifest
    assert set(manifest["tables"]) == set(schema.TABLES)
    for name, t in manifest["tables"].items():
        files = sorted((out / name).glob("*.parquet"))
        assert t["files"] == len(files)
        assert t["rows"] == sum(pq.read_metadata(f).num_rows for f in files)
        assert t["rows"] > 0 or name == "import_rejects", name  # the generator rejects no imported row
    assert manifest["start_date"] == "2023-10-01" and manifest["end_date"] == END_DATE.isoformat()
    for key in (
        "scale",
        "seed",
        "generator_version",
        "injected",
        "duplicates",
        "messy_amounts",
        "test_account_customer_ids",
        "test_account_order_ids",
        "identity_groups",
        "dirty_rates",
    ):
        assert key in manifest
    for counts in manifest["injected"].values():
        assert set(counts) <= set(schema.QUARANTINE_REASONS)
    assert manifest["dirty_rates"] == dataclasses.asdict(DirtyRates())


def test_manifest_json_is_sorted(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = dirty_set
    assert (out / "_manifest.json").read_text() == json.dumps(manifest, indent=2, sort_keys=True) + "\n"


# -- determinism ----------------------------------------------------------------------------------


def _digest(out: Path) -> dict[str, str]:
    return {
        f"{p.parent.name}/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*/*.parquet"))
    }


def test_same_seed_same_data(root: Path, dirty_set: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = dirty_set
    again, manifest2 = _gen(root, "again")
    assert manifest2 == manifest
    assert _digest(again) == _digest(out)
    assert (again / "_manifest.json").read_bytes() == (out / "_manifest.json").read_bytes()


def _content_digest(path: Path) -> str:
    """sha256 of a Parquet file's schema and rows (not of the writer's bytes and metadata)."""
    table = pq.read_table(path).replace_schema_metadata(None).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def test_data_matches_the_recorded_digests(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    """The data of demo seed 7 (N customers) is what generator_version 2.0.0 writes.

    Re-recorded when the simulation moved to a fixed horizon (HORIZON_DATE) cut by end date;
    1.0.0's digests came from the single-module generator. The same on other SIMD levels of
    numpy. A change to the data must be deliberate: bump GENERATOR_VERSION, re-record.
    """
    out, manifest = dirty_set
    expected = json.loads((FIXTURES / "demo_seed7_4000_digests.json").read_text())
    assert expected["generate"] == {"scale": manifest["scale"], "seed": SEED, "n_customers": N}
    got = {f"{p.parent.name}/{p.name}": _content_digest(p) for p in sorted(out.glob("*/*.parquet"))}
    got["_manifest.json"] = hashlib.sha256((out / "_manifest.json").read_bytes()).hexdigest()
    assert got == expected["sha256"]


def test_other_seed_other_data(root: Path, dirty_set: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = dirty_set
    other, manifest2 = _gen(root, "other", seed=SEED + 1)
    assert manifest2["tables"] != manifest["tables"]
    assert not _read(other, "shop_orders").equals(_read(out, "shop_orders"))


def test_stale_parts_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / "web_events" / "part-00099.parquet"
    stale.parent.mkdir(parents=True)
    pq.write_table(schema.TABLES["web_events"].arrow_schema.empty_table(), stale)
    generate("demo", 1, tmp_path, progress=False, n_customers=300)
    assert not stale.exists()


def test_rejects_unknown_scale(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        generate("xl", 1, tmp_path, progress=False)


def test_demo_is_quick(tmp_path: Path) -> None:
    start = time.perf_counter()
    manifest = generate("demo", 3, tmp_path, progress=False)
    assert time.perf_counter() - start < 15
    ids = pq.read_table(tmp_path / "crm_customers", columns=["customer_id"]).column(0).to_pylist()
    assert len({i for i in ids if i and i.strip()}) == 5_000
    assert manifest["tables"]["shop_order_lines"]["rows"] > 10_000


# -- injected defects -----------------------------------------------------------------------------


def test_every_defect_gets_the_recorded_staging_reason(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = dirty_set
    con = _con(out)
    for table in ROW_DEFECTS:
        found = _staging_reasons(con, table)
        recorded = {r: n for r, n in manifest["injected"].get(table, {}).items() if r in STAGING_REASONS}
        assert found == recorded, table


def test_crm_defects_do_not_depend_on_blank_handling(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    """A blank updated_at would be unparseable or a missing key depending on the staging version."""
    out, _ = dirty_set
    con = _con(out)
    blank = con.execute(
        "select count(*) from crm_customers where updated_at is not null and trim(updated_at) = '' or signup_at is null"
    ).fetchone()
    assert blank == (0,)


def test_intermediate_reasons(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    """Unknown customers, orphan lines and lines of dropped orders, as the intermediate layer finds them."""
    out, manifest = dirty_set
    con = _con(out)
    unknown = con.execute(
        f"""
        select count(distinct order_id) from shop_orders
        where nullif(trim(order_id), '') is not null and {_ts("ordered_at")} <= _loaded_at
          and upper(trim(currency)) in ('USD', 'EUR', 'GBP', 'CAD', 'AUD')
          and not ({" or ".join(_bad_money(c) for c in SPECS["shop_orders"].money_cols)})
          and customer_id not in (select customer_id from crm_customers where customer_id is not null)
        """
    ).fetchone()
    assert unknown is not None
    assert unknown[0] == manifest["injected"]["shop_orders"]["unknown_customer"]
    for lines, orders, line_id, parent_id in (
        ("shop_order_lines", "shop_orders", "order_line_id", "order_id"),
        ("pos_transaction_lines", "pos_transactions", "transaction_line_id", "transaction_id"),
    ):
        orphans = con.execute(
            f"""
            select count(distinct {line_id}) from {lines}
            where nullif(trim({line_id}), '') is not null and nullif(trim({parent_id}), '') is not null
              and quantity > 0 and {_money("unit_price")} is not null
              and {parent_id} not in (select {parent_id} from {orders} where {parent_id} is not null)
            """
        ).fetchone()
        assert orphans is not None
        expected = expected_quarantine(manifest)
        assert orphans[0] == expected[(lines, "orphan_line")]
        assert expected[(lines, "parent_quarantined")] > 0


def test_injected_counts_follow_the_rates(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    _, manifest = dirty_set
    rates = DirtyRates()
    for table in ("web_events", "email_events"):
        rows = manifest["tables"][table]["rows"]
        for reason in ROW_DEFECTS[table]:
            expected = rows * getattr(rates, reason)
            got = manifest["injected"][table][reason]
            assert abs(got - expected) < 5 * np.sqrt(expected) + 5, (table, reason, got, expected)
        for kind in ("duplicate_exact", "duplicate_reloaded"):
            expected = rows * getattr(rates, kind)
            assert abs(manifest["duplicates"][table][kind] - expected) < 5 * np.sqrt(expected) + 5
    lines = manifest["tables"]["shop_order_lines"]["rows"] + manifest["tables"]["pos_transaction_lines"]["rows"]
    messy = manifest["messy_amounts"]["shop_order_lines"] + manifest["messy_amounts"]["pos_transaction_lines"]
    assert abs(messy - lines * rates.messy_amount) < 5 * np.sqrt(lines * rates.messy_amount)
    assert manifest["identity_groups"] > 0
    assert manifest["merged_crm_records"] > 0


def test_rates_are_configurable(root: Path) -> None:
    rates = dataclasses.replace(DirtyRates.none(), invalid_rating=0.1, missing_key=0.05)
    _, manifest = _gen(root, "ratings", dirty=rates)
    reviews = manifest["tables"]["product_reviews"]["rows"]
    assert manifest["injected"]["product_reviews"]["invalid_rating"] == pytest.approx(0.1 * reviews, rel=0.3)
    assert set(manifest["injected"]["web_events"]) == {"missing_key"}
    assert "duplicates" not in manifest or not manifest["duplicates"]


def test_clean_mode_injects_nothing(clean_set: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = clean_set
    assert manifest["injected"] == {}
    assert manifest["duplicates"] == {}
    assert manifest["messy_amounts"] == {}
    assert manifest["test_account_customer_ids"] == [] and manifest["test_account_order_ids"] == []
    assert manifest["identity_groups"] == 0
    assert expected_quarantine(manifest) == {}
    con = _con(out)
    for table in ROW_DEFECTS:
        assert _staging_reasons(con, table) == {}, table
        key = ", ".join(schema.TABLES[table].key)
        dup = con.execute(f"select count(*) - count(distinct ({key})) from {table}").fetchone()
        assert dup == (0,), table
    # every amount is a plain number
    for table in ("shop_orders", "pos_transactions", "shop_order_lines", "pos_transaction_lines"):
        for col in SPECS[table].money_cols:
            n = con.execute(f"select count(*) from {table} where not regexp_full_match({col}, '[0-9]+\\.[0-9]{{2}}')")
            assert n.fetchone() == (0,) or col == "discount_amount", (table, col)


def test_messy_amounts_parse_to_the_intended_values(root: Path, dirty_set: tuple[Path, dict[str, Any]]) -> None:
    """Same data without messy amounts: every amount parses to the same value as its tidy original."""
    out, manifest = dirty_set
    tidy, _ = _gen(root, "tidy", dirty=dataclasses.replace(DirtyRates(), messy_amount=0.0))
    con = duckdb.connect()
    for table, n_messy in manifest["messy_amounts"].items():
        a, b = _read(out, table), _read(tidy, table)
        assert a.num_rows == b.num_rows
        changed = 0
        for col in SPECS[table].money_cols:
            con.register("a", pa.table({"v": a[col]}))
            con.register("b", pa.table({"v": b[col]}))
            diff = con.execute(
                f"""
                with x as (select v, row_number() over () as i from a),
                     y as (select v, row_number() over () as i from b)
                select count(*) filter (where x.v is distinct from y.v),
                       count(*) filter (where coalesce({_money("x.v")}, 0) <> coalesce({_money("y.v")}, 0)),
                       count(*) filter (
                           where x.v is distinct from y.v
                             and not regexp_full_match(y.v, '[0-9]+\\.[0-9]{{2}}')
                       )
                from x join y using (i)
                """
            ).fetchone()
            assert diff is not None
            changed += diff[0]
            assert diff[1] == 0, (table, col)
            assert diff[2] == 0, (table, col)
        assert changed == n_messy, table
        styles = [v for col in SPECS[table].money_cols for v in a.column(col).to_pylist()]
        assert any(s and re.search(r"[$€£]|[A-Z]{3}", s) for s in styles), table


def test_messy_styles_parse_in_duckdb() -> None:
    values = ["1234.50", "0.99", "45.10", "1000000.00", "7.99"] * 20
    currencies = list(CURRENCY_CODES) * 20
    messy = messy_amounts(np.random.default_rng(0), values, currencies)
    assert any("," in m for m in messy) and any("£" in m for m in messy) and any("USD " in m for m in messy)
    con = duckdb.connect()
    parsed = [con.execute(f"select {_money('?')}", [m]).fetchone()[0] for m in messy]  # type: ignore[index]
    assert [float(p) for p in parsed] == [float(v) for v in values]


def test_test_accounts(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = dirty_set
    ids = manifest["test_account_customer_ids"]
    assert ids and manifest["test_account_order_ids"]
    con = _con(out)
    con.execute("create table test_ids as select unnest(?::varchar[]) as customer_id", [ids])
    pattern = " or ".join(f"lower(trim(email)) like '{p}'" for p in TEST_PATTERNS)
    flagged = {r[0] for r in con.execute(f"select distinct customer_id from crm_customers where {pattern}").fetchall()}
    assert flagged == set(ids)
    orders = set(manifest["test_account_order_ids"])
    shop = {r[0] for r in con.execute("select order_id from shop_orders join test_ids using (customer_id)").fetchall()}
    pos = {
        r[0]
        for r in con.execute(
            "select transaction_id from pos_transactions join (select distinct loyalty_card_number from "
            "crm_customers join test_ids using (customer_id) where loyalty_card_number is not null) "
            "using (loyalty_card_number)"
        ).fetchall()
    }
    assert shop | pos == orders
    raw = {
        r[0]
        for r in con.execute(
            "select order_id from shop_orders union all select transaction_id from pos_transactions"
        ).fetchall()
    }
    assert orders <= raw
    assert manifest["injected"]["shop_orders"]["test_account"] == len(shop)


def test_expected_quarantine(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    _, manifest = dirty_set
    expected = expected_quarantine(manifest)
    assert all(isinstance(k, tuple) and len(k) == 2 for k in expected)
    assert {r for _, r in expected} <= set(schema.QUARANTINE_REASONS)
    assert expected[("shop_orders", "test_account")] == manifest["injected"]["shop_orders"]["test_account"]
    lines = manifest["lines_of_quarantined_orders"]["shop_order_lines"]
    assert expected[("shop_order_lines", "parent_quarantined")] == lines["parent_quarantined"]
    assert expected[("shop_order_lines", "orphan_line")] == (
        manifest["injected"]["shop_order_lines"]["orphan_line"] + lines.get("orphan_line", 0)
    )
    grouped = manifest["expected_quarantine"]
    assert sum(sum(c.values()) for c in grouped.values()) == sum(expected.values())


# -- time -----------------------------------------------------------------------------------------


def test_timestamps_stay_in_the_window(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    out, _ = dirty_set
    con = _con(out)
    for table, spec in SPECS.items():
        if not spec.ts_col or table == "marketing_spend":
            continue
        c = spec.ts_col
        row = con.execute(
            f"select max({_ts(c)}), count(*) filter (where _loaded_at > {_ts(c)} + interval 31 hours), "
            "count(*) "
            f"from {table} where {_ts(c)} <= _loaded_at"
        ).fetchone()
        assert row is not None
        assert row[0] < dt.datetime(2026, 10, 2), table
        # rows land within hours; re-loaded copies (and tickets, loaded when resolved) come later
        assert row[1] <= 0.01 * row[2] + 2 or table == "support_tickets", table
    first = con.execute(f"select min({_ts('ordered_at')}) from shop_orders").fetchone()
    assert first is not None and first[0] >= dt.datetime(2023, 10, 1)


def test_timestamp_formats_mix_and_offsets_keep_the_instant(clean_set: tuple[Path, dict[str, Any]]) -> None:
    out, _ = clean_set
    values = _read(out, "pos_transactions").column("transacted_at").to_pylist()
    assert any(v.endswith("Z") for v in values)
    assert any(re.search(r"[+-]\d\d:\d\d$", v) for v in values)
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", v) for v in values)
    con = _con(out)
    late = con.execute(f"select count(*) from pos_transactions where {_ts('transacted_at')} > _loaded_at").fetchone()
    assert late == (0,)
    # store hours are local: the local clock time of store purchases is within opening hours
    hours = con.execute(
        "select distinct cast(substr(transacted_at, 12, 2) as int) from pos_transactions "
        "where regexp_matches(transacted_at, '[+-]\\d\\d:\\d\\d$')"
    ).fetchall()
    assert {h for (h,) in hours} <= set(range(9, 22))  # till closes at 21:00 (last signups + minutes)


# -- realism --------------------------------------------------------------------------------------


def _buyer_stats(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    row = con.execute(
        f"""
        with cards as (
            select distinct customer_id, loyalty_card_number from crm_customers
            where loyalty_card_number is not null
        ),
        orders as (
            select customer_id, 'online' as channel, cast({_ts("ordered_at")} as date) as d from shop_orders
            union all
            select cards.customer_id, 'store', cast({_ts("transacted_at")} as date)
            from pos_transactions join cards using (loyalty_card_number)
        ),
        per as (
            select customer_id, count(distinct d) as days, count(distinct channel) as channels,
                   bool_or(channel = 'online') as online
            from orders group by 1
        ),
        customers as (
            select distinct customer_id from crm_customers where nullif(trim(customer_id), '') is not null
        )
        select count(*), count(per.customer_id), avg((days >= 2)::int), avg((channels = 2)::int),
               avg((channels = 1 and online)::int), avg((channels = 1 and not online)::int)
        from customers left join per using (customer_id)
        """
    ).fetchone()
    assert row is not None
    customers, buyers, repeat, omni, online_only, store_only = row
    return {
        "prospect_share": 1 - buyers / customers,
        "repeat_share": repeat,
        "omni": omni,
        "online_only": online_only,
        "store_only": store_only,
    }


def test_customer_base_looks_like_a_retailer(clean_set: tuple[Path, dict[str, Any]]) -> None:
    out, _ = clean_set
    con = _con(out)
    s = _buyer_stats(con)
    assert 0.2 <= s["prospect_share"] <= 0.35
    assert 0.45 <= s["repeat_share"] <= 0.8
    assert s["omni"] > 0.05 and s["online_only"] > 0.3 and s["store_only"] > 0.15
    crm = con.execute(
        """
        select count(distinct customer_id), count(*), avg((loyalty_card_number is null)::int),
               count(distinct country_code), avg(marketing_consent::int)
        from crm_customers
        """
    ).fetchone()
    assert crm is not None
    ids, rows, no_card, countries, consent = crm
    assert 0.08 <= rows / ids - 1 <= 0.16  # later record versions
    assert 0.3 <= no_card <= 0.8
    assert countries >= 6
    assert 0.5 <= consent <= 0.75
    # currency follows the customer's country
    mismatched = con.execute(
        """
        select count(*) from shop_orders o
        join (select distinct customer_id, upper(country_code) as cc from crm_customers) c using (customer_id)
        where upper(trim(o.currency)) <> case c.cc
            when 'US' then 'USD' when 'GB' then 'GBP' when 'CA' then 'CAD'
            when 'AU' then 'AUD' else 'EUR' end
        """
    ).fetchone()
    assert mismatched == (0,)


def test_seasonality_and_order_mix(clean_set: tuple[Path, dict[str, Any]]) -> None:
    out, _ = clean_set
    con = _con(out)
    months = dict(
        con.execute(
            f"""
            with lines as (
                select order_id as id, sum(quantity * {_money("unit_price")}) as gross
                from shop_order_lines group by 1
                union all
                select transaction_id, sum(quantity * {_money("unit_price")})
                from pos_transaction_lines group by 1
            ),
            orders as (
                select order_id as id, {_ts("ordered_at")} as ts from shop_orders
                union all select transaction_id, {_ts("transacted_at")} from pos_transactions
            )
            select month(ts), sum(gross) / count(distinct cast(ts as date))
            from orders join lines using (id) group by 1
            """
        ).fetchall()
    )
    average = sum(months.values()) / 12
    assert months[11] > average and months[12] > 1.3 * average
    assert months[12] == max(months.values())
    assert months[7] > months[4]
    statuses = dict(con.execute("select lower(status), count(*) from shop_orders group by 1").fetchall())
    total = sum(statuses.values())
    assert 0.01 < (statuses.get("cancelled", 0) + statuses.get("canceled", 0)) / total < 0.06
    assert 0.02 < (statuses.get("returned", 0) + statuses.get("refunded", 0)) / total < 0.12
    lines = con.execute(
        """
        select avg((returned_quantity > 0)::int), avg((unit_cost is null)::int), min(quantity), max(quantity),
               count(*) / count(distinct order_id), max(regexp_extract(order_line_id, '-(\\d+)$', 1)::int)
        from shop_order_lines
        """
    ).fetchone()
    assert lines is not None
    returned, no_cost, qmin, qmax, per_order, max_line = lines
    assert 0.03 < returned < 0.2
    assert 0.01 < no_cost < 0.1
    assert qmin >= 1 and qmax <= 4
    assert 1.5 < per_order < 3.0 and max_line == 5
    sku = con.execute("select bool_and(regexp_full_match(sku, 'SKU-' || category || '-\\d{4}')) from shop_order_lines")
    assert sku.fetchone() == (True,)
    deals = con.execute(
        f"""
        select count(*) filter (where {_money("discount_amount")} > 0) / count(*),
               count(*) filter (where {_money("shipping_amount")} > 0) / count(*)
        from shop_orders
        """
    ).fetchone()
    assert deals is not None
    assert 0.05 < deals[0] < 0.3
    assert 0.1 < deals[1] < 0.9
    anonymous = con.execute("select avg((loyalty_card_number is null)::int) from pos_transactions").fetchone()
    assert anonymous is not None and 0.15 < anonymous[0] < 0.6


def test_store_only_customers_never_order_online() -> None:
    ctx = Context.build(11, DirtyRates())
    rng = stream(ctx.seed, BASE, 0)  # chunk 0's steps, as lifecycle.generate.chunk runs them
    customers, _ = draw_customers(ctx, 0, rng, 1, 2_000)
    orders, _ = draw_orders(ctx, 0, rng, customers, draw_purchases(ctx, rng, customers))
    store_only = np.flatnonzero(customers.is_buyer & (customers.habit == STORE))
    online_buyers = set(orders.cust[orders.kind == 0].tolist())
    assert store_only.size > 100
    assert not online_buyers & set(store_only.tolist())
    prospects = np.flatnonzero(~customers.is_buyer)
    assert not set(orders.cust[orders.cust >= 0].tolist()) & set(prospects.tolist())


def test_clickstream_identity(clean_set: tuple[Path, dict[str, Any]]) -> None:
    out, _ = clean_set
    con = _con(out)
    row = con.execute(
        """
        select count(distinct anonymous_id) filter (where customer_id is not null),
               count(distinct anonymous_id) filter (where event_type = 'login'),
               count(*) filter (where event_type = 'login' and customer_id is null),
               count(*) filter (where event_type = 'product_view' and sku is null),
               count(*) filter (
                   where event_type in ('session_start', 'page_view', 'login') and sku is not null
               ),
               count(*) filter (where customer_id is null)
        from web_events
        """
    ).fetchone()
    assert row is not None
    with_customer, with_login, login_without, view_without_sku, sku_elsewhere, anonymous = row
    assert with_customer == with_login > 0
    assert login_without == 0 and view_without_sku == 0 and sku_elsewhere == 0
    assert anonymous > 0
    shared = con.execute(
        "select count(*) from (select anonymous_id from web_events where customer_id is not null "
        "group by 1 having count(distinct customer_id) > 1)"
    ).fetchone()
    assert shared == (0,)
    email = dict(con.execute("select event_type, count(*) from email_events group by 1").fetchall())
    assert 0.08 < email["open"] / email["send"] < 0.4
    assert email["click"] < email["open"] and 0 < email["unsubscribe"] < 0.01 * email["send"]


def test_feedback_tables(clean_set: tuple[Path, dict[str, Any]], dirty_set: tuple[Path, dict[str, Any]]) -> None:
    out, _ = clean_set
    con = _con(out)
    crm_ids = "(select customer_id from crm_customers)"
    for table, col in (
        ("product_reviews", "customer_id"),
        ("referrals", "referrer_customer_id"),
        ("privacy_requests", "customer_id"),
        ("email_events", "customer_id"),
    ):
        row = con.execute(f"select count(*) from {table} where {col} not in {crm_ids}").fetchone()
        assert row == (0,), table
    ratings = con.execute("select min(rating), max(rating), avg(rating) from product_reviews").fetchone()
    assert ratings is not None and ratings[0] == 1 and ratings[1] == 5 and 3.5 < ratings[2] < 4.6
    scores = con.execute("select min(score), max(score) from nps_responses").fetchone()
    assert scores == (0, 10) or (scores is not None and scores[1] == 10)
    converted = con.execute(
        "select count(*) from referrals where lower(trim(referred_email)) in "
        "(select lower(trim(email)) from crm_customers)"
    ).fetchone()
    assert converted is not None and converted[0] > 0
    types = {r[0] for r in con.execute("select distinct request_type from privacy_requests").fetchall()}
    assert types <= set(schema.PRIVACY_REQUEST_TYPES)
    # help desk emails that are spelled differently still belong to a CRM customer
    dirty_out, _ = dirty_set
    dcon = _con(dirty_out)
    variants = dcon.execute(
        "select count(*) from support_tickets where email <> lower(trim(email)) "
        "and lower(trim(email)) in (select lower(trim(email)) from crm_customers)"
    ).fetchone()
    assert variants is not None and variants[0] > 0


def test_vocabularies(dirty_set: tuple[Path, dict[str, Any]]) -> None:
    out, _ = dirty_set
    con = _con(out)
    statuses = {
        r[0]
        for r in con.execute(
            "select distinct lower(trim(status)) from shop_orders union select distinct lower(trim(status)) "
            "from pos_transactions"
        ).fetchall()
    }
    mapped = {
        "completed",
        "complete",
        "shipped",
        "delivered",
        "paid",
        "cancelled",
        "canceled",
        "voided",
        "void",
        "returned",
        "refunded",
    }
    assert statuses <= mapped
    assert {r[0] for r in con.execute("select distinct event_type from web_events").fetchall()} == set(
        schema.WEB_EVENT_TYPES
    )
    assert {r[0] for r in con.execute("select distinct event_type from email_events").fetchall()} == set(
        schema.EMAIL_EVENT_TYPES
    )
    assert {r[0] for r in con.execute("select distinct category from shop_order_lines").fetchall()} == set(
        schema.CATEGORIES
    )
    channels = {r[0] for r in con.execute("select distinct acquisition_channel from crm_customers").fetchall()}
    assert channels <= set(schema.ACQUISITION_CHANNELS)
    spend_channels = {r[0] for r in con.execute("select distinct channel from marketing_spend").fetchall()}
    assert spend_channels <= set(schema.ACQUISITION_CHANNELS)


def test_workers_do_not_change_the_data(tmp_path: Path) -> None:
    """Chunks generated in parallel processes give the same files; ids stay unique across chunks."""
    kwargs: dict[str, Any] = {"progress": False, "n_customers": 2_400, "chunk_customers": 800}
    serial = generate("s", 5, tmp_path / "serial", workers=1, **kwargs)
    parallel = generate("s", 5, tmp_path / "parallel", workers=2, **kwargs)
    assert serial == parallel
    assert _digest(tmp_path / "serial") == _digest(tmp_path / "parallel")
    assert serial["tables"]["web_events"]["files"] == 3
    clean = generate("s", 5, tmp_path / "clean", dirty=DirtyRates.none(), **kwargs)
    con = _con(tmp_path / "clean")
    for rt in schema.RAW_TABLES:
        key = ", ".join(rt.key)
        assert con.execute(f"select count(*) - count(distinct ({key})) from {rt.name}").fetchone() == (0,)
    emails = con.execute("select count(distinct customer_id) - count(distinct email) from crm_customers")
    assert emails.fetchone() == (0,)
    anon = con.execute(
        "select count(*) from (select anonymous_id from web_events where customer_id is not null "
        "group by 1 having count(distinct customer_id) > 1)"
    ).fetchone()
    assert anon == (0,)
    assert clean["tables"]["crm_customers"]["files"] == 3
