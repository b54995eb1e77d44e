"""The MetricFlow semantic layer: its configs validate, and ``lifecycle mf query`` returns the
numbers of the marts for a sample of metrics and groupings (on the session's small warehouse)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import Parsed
from test_publish import Build, shared_build

from lifecycle import paths

LIFECYCLE = str(Path(sys.executable).with_name("lifecycle"))


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return shared_build(tmp_path_factory)


def _mf(raw: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LIFECYCLE_RAW_DIR=str(raw), LIFECYCLE_DB=str(db), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    for var in ("DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PROFILES_DIR", "DBT_PROJECT_DIR"):
        env.pop(var, None)  # the CLI sets them
    return subprocess.run(
        [LIFECYCLE, "mf", *args], cwd=paths.PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )


def _query(build: Build, tmp_path: Path, metrics: list[str], group_by: list[str]) -> pd.DataFrame:
    out = tmp_path / f"{'_'.join(metrics)[:60]}.csv"
    result = _mf(
        build.raw,
        build.db,
        "query",
        "--metrics",
        ",".join(metrics),
        "--group-by",
        ",".join(group_by),
        "--csv",
        str(out),
    )
    assert result.returncode == 0 and out.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    return pd.read_csv(out)


def _mart(build: Build, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(build.db), read_only=True) as con:
        return con.execute(sql).df()


def _same(mf: pd.DataFrame, mart: pd.DataFrame, keys: list[str], columns: list[str], rel: float = 1e-6) -> None:
    """Every row of the mart has an mf row with the same keys and (within rel) the same values."""
    mf, mart = mf.copy(), mart.copy()
    for key in (k for k in keys if k.startswith("metric_time")):
        mf[key], mart[key] = pd.to_datetime(mf[key]).dt.date, pd.to_datetime(mart[key]).dt.date
    merged = mart.merge(mf, on=keys, how="outer", suffixes=("_mart", "_mf"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head(10)
    assert len(merged) > 0
    for col in columns:
        a = pd.to_numeric(merged[f"{col}_mart"], errors="coerce").astype(float)
        b = pd.to_numeric(merged[f"{col}_mf"], errors="coerce").astype(float)
        assert (a.isna() == b.isna()).all(), (col, merged[a.isna() != b.isna()].head())
        both = a.notna()
        diff = (a[both] - b[both]).abs() > rel * a[both].abs().clip(lower=1.0)
        assert not diff.any(), (col, merged[both][diff].head())


def test_mf_validate_configs(parsed_project: Parsed, tmp_path: Path) -> None:
    """The semantic models and metrics are valid for MetricFlow (`make test` runs this)."""
    db = tmp_path / "wh" / "lifecycle.duckdb"
    target = paths.artefacts(db).target
    target.mkdir(parents=True)
    shutil.copy(parsed_project.target / "semantic_manifest.json", target)  # the session's parse of the project
    result = _mf(parsed_project.raw_dir, db, "validate-configs", "--skip-dw")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "Successfully validated the semantics of built manifest (ERRORS: 0" in out, out[-4000:]


def test_mf_without_a_semantic_manifest_says_so(tmp_path: Path) -> None:
    result = _mf(tmp_path / "raw", tmp_path / "nothing.duckdb", "list", "metrics")
    assert result.returncode == 2
    assert "no semantic manifest" in result.stderr and "lifecycle dbt parse" in result.stderr
    assert "Traceback" not in result.stderr


def test_mf_query_without_a_warehouse_says_so(parsed_project: Parsed, tmp_path: Path) -> None:
    target = paths.artefacts(tmp_path / "none.duckdb").target
    target.mkdir(parents=True)
    shutil.copy(parsed_project.target / "semantic_manifest.json", target)
    result = _mf(tmp_path / "raw", tmp_path / "none.duckdb", "query", "--metrics", "revenue")
    assert result.returncode == 2
    assert "does not exist: build it first" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "none.duckdb").exists()


MONTHLY = [
    "active_customers",
    "new_customers",
    "churned_customers",
    "reactivated_customers",
    "retention_rate",
    "churn_rate",
    "repeat_purchase_rate",
    "average_order_value",
    "purchase_frequency",
    "revenue",
    "margin",
    "nps",
    "total_revenue",
]


@pytest.mark.slow
def test_monthly_kpis_overall_equal_kpi_monthly(build: Build, tmp_path: Path) -> None:
    mf = _query(build, tmp_path, MONTHLY, ["metric_time__month"])
    mart = _mart(
        build,
        f"select period_start_date as metric_time__month, {', '.join(MONTHLY)} "
        "from marts.kpi_monthly where dimension = 'overall'",
    )
    # average_order_value is rounded to the cent in the mart.
    _same(mf, mart, ["metric_time__month"], [m for m in MONTHLY if m != "average_order_value"])
    _same(mf, mart, ["metric_time__month"], ["average_order_value"], rel=1e-2)


@pytest.mark.slow
def test_kpis_by_region_equal_kpi_monthly(build: Build, tmp_path: Path) -> None:
    metrics = ["active_customers", "revenue", "retention_rate", "nps"]
    mf = _query(build, tmp_path, metrics, ["metric_time__month", "customer_group__region"])
    anonymous = mf[mf["customer_group__region"].isna()]
    assert (anonymous["active_customers"] == 0).all() and (anonymous["revenue"] == 0).all()
    mart = _mart(
        build,
        f"select period_start_date as metric_time__month, dimension_value as customer_group__region, "
        f"{', '.join(metrics)} from marts.kpi_monthly where dimension = 'region'",
    )
    _same(mf[mf["customer_group__region"].notna()], mart, ["metric_time__month", "customer_group__region"], metrics)


@pytest.mark.slow
def test_customers_by_stage_and_segment_equal_the_marts(build: Build, tmp_path: Path) -> None:
    mf = _query(build, tmp_path, ["customers"], ["customer__lifecycle_stage", "customer__rfm_segment"])
    mart = _mart(
        build,
        "select l.lifecycle_stage as customer__lifecycle_stage, s.rfm_segment as customer__rfm_segment, "
        "count(*) as customers from marts.customer_lifecycle l "
        "join marts.customer_segments s using (customer_id) group by all",
    )
    _same(mf, mart, ["customer__lifecycle_stage", "customer__rfm_segment"], ["customers"])
    history = _query(build, tmp_path, ["customers_in_stage"], ["customer_snapshot__lifecycle_stage"])
    now = _mart(
        build,
        "select lifecycle_stage as customer_snapshot__lifecycle_stage, count(*) as customers_in_stage "
        "from marts.customer_lifecycle group by all",
    )
    _same(history, now, ["customer_snapshot__lifecycle_stage"], ["customers_in_stage"])


@pytest.mark.slow
def test_predicted_clv_and_clv_to_cac_equal_the_marts(build: Build, tmp_path: Path) -> None:
    mf = _query(build, tmp_path, ["predicted_clv", "average_predicted_clv"], ["customer__clv_tier"])
    mart = _mart(
        build,
        "select clv_tier as customer__clv_tier, sum(predicted_clv) as predicted_clv, "
        "avg(predicted_clv) as average_predicted_clv from marts.customer_clv group by all",
    )
    _same(mf, mart, ["customer__clv_tier"], ["predicted_clv", "average_predicted_clv"])

    mf = _query(
        build, tmp_path, ["clv_to_cac", "cac"], ["metric_time__month", "acquisition_cohort__acquisition_channel"]
    )
    mart = _mart(
        build,
        "select cohort_month as metric_time__month, acquisition_channel as "
        "acquisition_cohort__acquisition_channel, clv_to_cac_ratio as clv_to_cac, cac "
        "from marts.acquisition_channel_value",
    )
    assert mart["clv_to_cac"].notna().sum() > 0
    # The mart divides by a CAC rounded to the cent.
    _same(mf, mart, ["metric_time__month", "acquisition_cohort__acquisition_channel"], ["clv_to_cac", "cac"], rel=1e-3)
