"""End to end: generated raw data -> dbt build (models, data tests, unit tests) -> marts.

Builds a small generated data set twice per session (dirty and clean) into temporary
warehouses, then checks what only a whole build can show: every injected defect lands in the
quarantine mart with its reason, the raw row counts reconcile, PII never reaches the marts, and
building with as_of_date = D on the full data equals building on the data cut at D.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import build_pool, is_used, run_dbt

from lifecycle import paths
from lifecycle.generate import DirtyRates, expected_quarantine, generate
from lifecycle.schema import RAW_TABLES

pytestmark = pytest.mark.slow

N_CUSTOMERS = 3000
MARTS = ("customers", "customer_lifecycle", "customer_segments", "customer_clv")
CUT_DATE = date(2025, 12, 31)

# The column that dates each raw row (its event); rows after the cut did not exist yet.
EVENT_COLUMN = {
    "crm_customers": "updated_at",
    "shop_orders": "ordered_at",
    "pos_transactions": "transacted_at",
    "web_events": "occurred_at",
    "email_events": "occurred_at",
    "support_tickets": "opened_at",
    "product_reviews": "reviewed_at",
    "nps_responses": "responded_at",
    "referrals": "referred_at",
    "store_visits": "visited_at",
    "marketing_spend": "spend_date",
    # privacy_requests are not cut: an erasure is honoured in every build, whatever its as_of_date.
}
LINE_PARENT = {
    "shop_order_lines": ("shop_orders", "order_id", "order_id"),
    "pos_transaction_lines": ("pos_transactions", "transaction_id", "transaction_id"),
}


@dataclass(frozen=True)
class Built:
    raw_dir: Path
    db: Path
    manifest: dict
    stdout: str


def _build(raw: Path, manifest: dict) -> Built:
    db = raw.parent / "warehouse.duckdb"
    result = run_dbt(raw, db, "build")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return Built(raw, db, manifest, result.stdout)


@pytest.fixture(scope="session")
def generated_builds(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Built]]]:
    """The dirty and the clean data set, each generated and built (side by side, conftest.build_pool)
    when a selected test uses it."""
    rates = {"dirty": DirtyRates(), "clean": DirtyRates.none()}
    with build_pool() as pool:
        futures = {}
        for name in (n for n in rates if is_used(request, f"{n}_build")):
            raw = tmp_path_factory.mktemp(name) / "raw"
            manifest = generate(
                scale="demo", seed=7, out=raw, progress=False, dirty=rates[name], n_customers=N_CUSTOMERS
            )
            futures[name] = pool.submit(_build, raw, manifest)
        yield futures


@pytest.fixture(scope="session")
def dirty_build(generated_builds: dict[str, Future[Built]]) -> Built:
    return generated_builds["dirty"].result()


@pytest.fixture(scope="session")
def clean_build(generated_builds: dict[str, Future[Built]]) -> Built:
    return generated_builds["clean"].result()


@pytest.fixture()
def con(dirty_build: Built) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(str(dirty_build.db), read_only=True)
    yield c
    c.close()


def test_build_ran_models_data_tests_and_unit_tests(dirty_build: Built) -> None:
    out = dirty_build.stdout
    assert "Completed successfully" in out
    assert "unit_test" in out  # the RFM and lifecycle unit tests ran
    assert " ERROR=0 " in out and " SKIP=0 " in out


def test_every_injected_defect_is_quarantined_with_its_reason(con: duckdb.DuckDBPyConnection,
                                                                 dirty_build: Built) -> None:
    expected = expected_quarantine(dirty_build.manifest)
    assert sum(expected.values()) > 50, "the generator injected too few defects to test anything"
    actual = {
        (t, r): n
        for t, r, n in con.sql(
            "select source_table, quarantine_reason, count(*) from marts.quarantined_rows group by 1, 2"
        ).fetchall()
    }
    assert actual == expected


def test_raw_rows_reconcile_with_staged_rows_and_duplicates(con: duckdb.DuckDBPyConnection,
                                                           dirty_build: Built) -> None:
    staging = {
        "crm_customers": "stg_crm__customers", "privacy_requests": "stg_crm__privacy_requests",
        "shop_orders": "stg_shop__orders", "shop_order_lines": "stg_shop__order_lines",
        "pos_transactions": "stg_pos__transactions", "pos_transaction_lines": "stg_pos__transaction_lines",
        "store_visits": "stg_pos__store_visits", "web_events": "stg_web__events",
        "email_events": "stg_esp__email_events", "support_tickets": "stg_helpdesk__support_tickets",
        "product_reviews": "stg_feedback__product_reviews", "nps_responses": "stg_feedback__nps_responses",
        "referrals": "stg_feedback__referrals", "marketing_spend": "stg_marketing__channel_spends",
        "import_rejects": "stg_import__rejected_rows",
    }
    dups = dirty_build.manifest["duplicates"]
    for table in RAW_TABLES:
        raw_rows = dirty_build.manifest["tables"][table.name]["rows"]
        removed = sum(dups.get(table.name, {}).values())
        staged = con.sql(f"select count(*) from staging.{staging[table.name]}").fetchone()[0]
        assert staged == raw_rows - removed, table.name


def test_test_accounts_never_reach_the_marts(con: duckdb.DuckDBPyConnection, dirty_build: Built) -> None:
    test_ids = dirty_build.manifest["test_account_customer_ids"]
    assert test_ids
    found = con.execute(
        "select count(*) from marts.customers where list_contains(?, customer_id)", [test_ids]
    ).fetchone()[0]
    assert found == 0
    order_ids = set(dirty_build.manifest["test_account_order_ids"])
    excluded = {
        k for (k,) in con.sql(
            "select record_key from marts.quarantined_rows where quarantine_reason = 'test_account'"
        ).fetchall()
    }
    assert order_ids == excluded


def test_no_pii_in_marts(con: duckdb.DuckDBPyConnection) -> None:
    cols = con.sql(
        "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
    ).fetchall()
    pii = [c for c in cols if any(w in c[1] for w in ("email", "first_name", "last_name", "loyalty_card_number"))]
    assert pii == []
    # and no value anywhere in the marts looks like an email address
    for table in {t for t, _ in cols}:
        varchar_cols = [
            c for (c,) in con.sql(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                f"and table_name = '{table}' and data_type = 'VARCHAR'"
            ).fetchall()
        ]
        for col in varchar_cols:
            n = con.sql(f"select count(*) from marts.{table} where {col} like '%@%'").fetchone()[0]
            assert n == 0, (table, col)


def test_one_row_per_customer_and_every_stage_reachable(con: duckdb.DuckDBPyConnection) -> None:
    n = con.sql("select count(*) from marts.customers").fetchone()[0]
    for mart in MARTS:
        assert con.sql(f"select count(distinct customer_id), count(*) from marts.{mart}").fetchone() == (n, n)
    stages = dict(con.sql("select lifecycle_stage, count(*) from marts.customer_lifecycle group by 1").fetchall())
    # A realistic book of customers has every stage at the default thresholds.
    assert set(stages) == {"prospect", "new", "active", "loyal", "advocate", "at_risk", "churned", "reactivated"}
    segments = {s for (s,) in con.sql("select distinct rfm_segment from marts.customer_segments").fetchall()}
    assert len(segments) >= 9


def test_store_purchases_resolve_to_crm_customers(con: duckdb.DuckDBPyConnection) -> None:
    mixes = dict(con.sql("select channel_mix, count(*) from marts.customers group by 1").fetchall())
    assert mixes.get("store_only", 0) > 0 and mixes.get("omnichannel", 0) > 0 and mixes.get("online_only", 0) > 0


def test_clv_inputs_match_a_python_recomputation(con: duckdb.DuckDBPyConnection) -> None:
    """frequency / recency / tenure recomputed in pandas from the netted orders."""
    orders = con.sql(
        "select customer_id, order_date from intermediate.int_orders_netted "
        "where is_purchase and customer_id is not null"
    ).df()
    as_of = con.sql("select as_of_date from intermediate.int_build_dates").fetchone()[0]
    days = orders.drop_duplicates().groupby("customer_id")["order_date"].agg(["min", "max", "nunique"])
    clv = con.sql(
        "select customer_id, frequency, recency_days, tenure_days from marts.customer_clv where has_purchased"
    ).df().set_index("customer_id").sort_index()
    days = days.loc[clv.index]
    assert (clv["frequency"] == days["nunique"] - 1).all()
    assert (clv["recency_days"] == (days["max"] - days["min"]).dt.days).all()
    assert (clv["tenure_days"] == (as_of - days["min"].dt.date).map(lambda d: d.days)).all()


def test_stages_match_a_python_recomputation_of_the_rules(con: duckdb.DuckDBPyConnection) -> None:
    """An independent oracle of the lifecycle rules (doc block marts_lifecycle_rules): the typical
    gap, the thresholds, every flag and the stage of customer_lifecycle recomputed in pandas from
    the netted orders (with the mart's reactivation gap and advocacy signal, customer_clv's p_alive
    and the vars of dbt_project.yml as the other inputs)."""
    v = yaml.safe_load((paths.PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]
    as_of = con.sql("select as_of_date from intermediate.int_build_dates").fetchone()[0]
    orders = con.sql(
        "select distinct customer_id, order_date from intermediate.int_orders_netted "
        "where is_purchase and customer_id is not null order by customer_id, order_date"
    ).df()
    orders["days_ago"] = (pd.Timestamp(as_of) - orders["order_date"]).dt.days
    orders["gap"] = orders.groupby("customer_id")["order_date"].diff().dt.days
    days = orders.groupby("customer_id").agg(
        days_since_last_purchase=("days_ago", "min"), days_since_first_purchase=("days_ago", "max"),
        purchase_days_last_365d=("days_ago", lambda d: int((d < 365).sum())),
        gap_count=("gap", "count"), median_gap=("gap", "median"),
    )
    mart = con.sql(
        "select lifecycle.*, clv.p_alive from marts.customer_lifecycle as lifecycle "
        "inner join marts.customer_clv as clv using (customer_id)"
    ).df().set_index("customer_id")
    buyers = mart[mart["lifecycle_stage"] != "prospect"]
    assert set(buyers.index) == set(days.index)
    days = days.loc[buyers.index]
    for column in ("days_since_last_purchase", "days_since_first_purchase", "purchase_days_last_365d"):
        assert (buyers[column] == days[column]).all(), column
    repeat = days["gap_count"] > 0
    population = days.loc[repeat, "median_gap"].median() if repeat.any() else v["population_gap_fallback_days"]
    weight = v["gap_prior_weight"]
    typical = (days["median_gap"].fillna(0) * days["gap_count"] + population * weight) / (days["gap_count"] + weight)
    churn = np.minimum(np.maximum(v["churn_gap_multiple"] * typical, v["churn_floor_days"]), v["churn_cap_days"])
    at_risk = np.minimum(np.maximum(v["at_risk_gap_multiple"] * typical, v["at_risk_floor_days"]), churn)
    # The mart shows gaps and thresholds to one decimal.
    for column, expected in (("typical_gap_days", typical), ("churn_threshold_days", churn),
                             ("at_risk_threshold_days", at_risk)):
        np.testing.assert_allclose(buyers[column], expected, atol=0.05 + 1e-9, err_msg=column)
    flags = pd.DataFrame({
        # Silent beyond the churn threshold, unless the model still finds them more likely alive.
        "is_churned": (days["days_since_last_purchase"] > churn)
        & ~(buyers["p_alive"].fillna(0.0) >= v["churned_max_p_alive"]),
        "is_at_risk": (days["days_since_last_purchase"] > at_risk)
        | (buyers["p_alive"].fillna(1.0) < v["at_risk_p_alive"]),
        "is_reactivated": buyers["reactivation_gap_days"].fillna(0) > churn,
        "is_new": days["days_since_first_purchase"] < v["new_customer_days"],
        "is_loyal": days["purchase_days_last_365d"] >= v["loyal_min_purchase_days_365"],
    })
    for column in flags.columns:
        assert (buyers[column].astype(bool) == flags[column]).all(), column
    stage = np.select(
        [flags["is_churned"], flags["is_at_risk"], flags["is_reactivated"], flags["is_new"],
         buyers["has_advocacy_signal"].astype(bool), flags["is_loyal"]],
        ["churned", "at_risk", "reactivated", "new", "advocate", "loyal"],
        default="active",
    )
    wrong = buyers[buyers["lifecycle_stage"] != stage]
    assert wrong.empty, wrong[["lifecycle_stage"]].assign(expected=stage[buyers["lifecycle_stage"] != stage])
    # Every precedence branch is exercised, so a swapped order would show.
    assert set(stage) == {"churned", "at_risk", "reactivated", "new", "advocate", "loyal", "active"}


def _cut_raw(src: Path, dst: Path, cut: date) -> None:
    """Copy the raw data as it would have looked at the end of ``cut``: events after it removed."""
    limit = f"{cut.isoformat()} 23:59:59"
    kept_parents: dict[str, pa.Array] = {}
    for table in RAW_TABLES:
        data = pq.read_table(src / table.name)
        col = EVENT_COLUMN.get(table.name)
        if col is not None:
            stamps = duckdb.sql(
                f"select timezone('UTC', try_cast({col} as timestamptz)) <= timestamp '{limit}' as keep "
                "from data"
            ).fetch_arrow_table().column("keep")
            data = data.filter(pc.fill_null(stamps, False))
        (dst / table.name).mkdir(parents=True)
        pq.write_table(data, dst / table.name / "part-00000.parquet")
        kept_parents[table.name] = data
    for line_table, (parent, fk, pk) in LINE_PARENT.items():
        lines = pq.read_table(dst / line_table)
        keep = pc.is_in(lines.column(fk), value_set=kept_parents[parent].column(pk))
        pq.write_table(lines.filter(keep), dst / line_table / "part-00000.parquet")


def test_as_of_date_on_full_data_equals_data_cut_at_that_date(clean_build: Built, tmp_path: Path) -> None:
    args = ("build", "--select", "+path:models/marts", "--exclude", "test_type:data",
            "--vars", f"{{as_of_date: {CUT_DATE.isoformat()}}}")
    full_db = tmp_path / "full" / "w.duckdb"
    full_db.parent.mkdir()
    cut_raw = tmp_path / "cut_raw"
    _cut_raw(clean_build.raw_dir, cut_raw, CUT_DATE)
    cut_db = tmp_path / "cut" / "w.duckdb"
    cut_db.parent.mkdir()
    with build_pool() as pool:
        full = pool.submit(run_dbt, clean_build.raw_dir, full_db, *args)
        cut = pool.submit(run_dbt, cut_raw, cut_db, *args)
        for res in (full.result(), cut.result()):
            assert res.returncode == 0, res.stdout[-4000:]
    con = duckdb.connect()
    con.execute(f"attach '{full_db}' as full_wh (read_only)")
    con.execute(f"attach '{cut_db}' as cut_wh (read_only)")
    for mart in MARTS:
        n = con.sql(f"select count(*) from full_wh.marts.{mart}").fetchone()[0]
        assert n > 100
        for a, b in (("full_wh", "cut_wh"), ("cut_wh", "full_wh")):
            diff = con.sql(
                f"select count(*) from (select * from {a}.marts.{mart} except all select * from {b}.marts.{mart})"
            ).fetchone()[0]
            assert diff == 0, f"{mart}: {diff} rows of {a} not in {b}"
    con.close()
    shutil.rmtree(cut_raw)
