"""``lifecycle validate``: Great Expectations suites for every mart.

The suites pass on a real (small) build, catch each planted defect by mart, expectation and
column, report a missing mart, cover an unknown mart generically, take their thresholds from
:class:`lifecycle.validate.Bounds`, and stay in step with the contract in the marts' model yml.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from test_publish import Build, shared_build

from lifecycle import paths
from lifecycle.cli import main
from lifecycle.validate import (
    LIFECYCLE_STAGES,
    Bounds,
    ValidationReport,
    mart_specs,
    model_yml_specs,
    validate_warehouse,
)

KNOWN_MARTS = {
    "customers", "customer_lifecycle", "customer_segments", "customer_clv",
    "clv_model_parameters", "clv_backtest", "quarantined_rows",
}


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return shared_build(tmp_path_factory)


def _tampered(build: Build, tmp_path: Path, *statements: str) -> Path:
    db = tmp_path / "tampered.duckdb"
    shutil.copy(build.db, db)
    con = duckdb.connect(str(db))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()
    return db


def _failures(report: ValidationReport) -> set[tuple[str, str, str | None]]:
    return {(f.mart, f.expectation, f.column) for f in report.failures}


@pytest.mark.slow
def test_real_build_passes_with_data_docs(build: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports"
    assert main(["validate", "--db", str(build.db), "--reports", str(reports)]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out

    summary = json.loads((reports / "validation.json").read_text())
    assert summary["success"] is True and summary["expectations_failed"] == 0
    marts = {m["mart"]: m for m in summary["marts"]}
    assert set(marts) >= KNOWN_MARTS
    for name in KNOWN_MARTS:
        assert marts[name]["suite"] == "lifecycle/validate.py"
        assert marts[name]["evaluated"] >= 5 and marts[name]["failed"] == 0
        assert f" {name} " in out
    assert summary["elapsed_seconds"] < 60

    docs = reports / "data_docs"
    assert (docs / "index.html").is_file()
    pages = {p.parent.parent.parent.name for p in (docs / "validations").rglob("*.html")}
    assert pages >= KNOWN_MARTS
    assert "customer_clv" in (docs / "index.html").read_text()


@pytest.mark.slow
def test_planted_defects_are_each_reported(build: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    buyer = "(select min(customer_id) from marts.customer_clv where has_purchased)"
    db = _tampered(
        build,
        tmp_path,
        f"update marts.customer_clv set p_alive = 2 where customer_id = {buyer}",
        "update marts.customer_clv set predicted_clv = -5 where customer_id = (select max(customer_id) from "
        "marts.customer_clv)",
        "update marts.customer_segments set recency_score = 6 where customer_id = (select min(customer_id) "
        "from marts.customer_segments where recency_score is not null)",
        # A duplicate customer (the table is recreated without its primary key first).
        "create table marts.segments_copy as select * from marts.customer_segments",
        "drop table marts.customer_segments",
        "create table marts.customer_segments as select * from marts.segments_copy union all "
        "select * from marts.segments_copy where customer_id = (select max(customer_id) from marts.segments_copy)",
        "drop table marts.segments_copy",
        "update marts.customer_lifecycle set lifecycle_stage = 'zombie' "
        "where customer_id = (select min(customer_id) from marts.customer_lifecycle)",
        "update marts.customer_lifecycle set stage_started_date = null where customer_id = "
        "(select max(customer_id) from marts.customer_lifecycle where lifecycle_stage = 'churned')",
        "update marts.customers set net_revenue = null where customer_id = (select min(customer_id) "
        "from marts.customers)",
        "update marts.clv_model_parameters set q = 0.9, is_converged = false",
        "update marts.quarantined_rows set quarantine_reason = 'bogus' "
        "where quarantined_row_id = (select min(quarantined_row_id) from marts.quarantined_rows)",
        "update marts.clv_backtest set breakdown = 'month' where backtest_row_id = "
        "(select max(backtest_row_id) from marts.clv_backtest)",
    )
    reports = tmp_path / "reports"
    assert main(["validate", "--db", str(db), "--reports", str(reports)]) == 1
    out = capsys.readouterr().out
    summary = json.loads((reports / "validation.json").read_text())
    found = {(f["expectation"], f["column"], m["mart"]) for m in summary["marts"] for f in m["failures"]}
    assert found == {
        ("expect_column_values_to_be_between", "p_alive", "customer_clv"),
        ("expect_column_values_to_be_between", "predicted_clv", "customer_clv"),
        ("expect_column_values_to_be_in_set", "recency_score", "customer_segments"),
        ("expect_column_values_to_be_unique", "customer_id", "customer_segments"),
        ("expect_table_row_count_to_equal", None, "customer_segments"),
        ("expect_column_values_to_be_in_set", "lifecycle_stage", "customer_lifecycle"),
        ("expect_column_values_to_not_be_null", "stage_started_date", "customer_lifecycle"),
        ("expect_column_values_to_not_be_null", "net_revenue", "customers"),
        ("expect_column_values_to_be_between", "q", "clv_model_parameters"),
        ("expect_column_values_to_be_in_set", "is_converged", "clv_model_parameters"),
        ("expect_column_values_to_be_in_set", "quarantine_reason", "quarantined_rows"),
        ("expect_column_values_to_be_in_set", "breakdown", "clv_backtest"),
    }
    # The readable summary: a line per mart, and per failure the observed value.
    assert "FAIL customer_clv: expect_column_values_to_be_between column=p_alive: 1 unexpected" in out
    assert "e.g. 2" in out
    assert "FAIL quarantined_rows: expect_column_values_to_be_in_set column=quarantine_reason" in out
    assert "e.g. bogus" in out
    assert "FAILED" in out


def _generic_per_customer_marts(db: Path) -> list[str]:
    """Marts in the build without a suite in code whose yml makes them one row per customer."""
    con = duckdb.connect(str(db), read_only=True)
    present = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    ).fetchall()}
    con.close()
    specs = mart_specs()
    return sorted(m for m, spec in model_yml_specs().items() if spec.per_customer and m in present - set(specs))


@pytest.mark.slow
def test_missing_mart_missing_column_and_unknown_mart(build: Build, tmp_path: Path) -> None:
    generic = _generic_per_customer_marts(build.db)[:1]
    db = _tampered(
        build,
        tmp_path,
        "drop table marts.clv_backtest",
        "alter table marts.customers drop column has_purchased",
        "create table marts.brand_new_mart as select 1 as id",
        # A mart checked from its model yml only: one customer fewer than marts.customers.
        *[f"delete from marts.{m} where customer_id = (select min(customer_id) from marts.{m})" for m in generic],
    )
    report = validate_warehouse(db, None)
    assert not report.success
    assert _failures(report) == {
        ("clv_backtest", "mart_exists", None),
        ("customers", "expect_column_to_exist", "has_purchased"),
        *[(m, "expect_table_row_count_to_equal", None) for m in generic],
    }
    new = next(m for m in report.marts if m.mart == "brand_new_mart")
    assert new.success and new.suite_source.startswith("none")
    assert any("brand_new_mart" in n for n in report.notes)
    for m in generic:
        assert next(r for r in report.marts if r.mart == m).suite_source == "model yml (generic)"


@pytest.mark.slow
def test_bounds_come_from_one_place(build: Build, tmp_path: Path) -> None:
    db = _tampered(build, tmp_path, "update marts.customer_segments set rfm_segment = 'Loyal' "
                                    "where rfm_segment = 'Champions'")
    strict = Bounds(max_stage_share=0.01, churned_at_risk_share=(0.95, 1.0), min_buyers_for_all_segments=1)
    report = validate_warehouse(db, None, bounds=strict)
    failures = _failures(report)
    assert ("customer_segments", "expect_column_distinct_values_to_contain_set", "rfm_segment") in failures
    assert ("customer_lifecycle", "expect_column_mean_to_be_between", "_share_churned_or_at_risk") in failures
    shares = {c for m, e, c in failures if m == "customer_lifecycle" and c and c.startswith("_share_")}
    con = duckdb.connect(str(build.db), read_only=True)
    busy = {f"_share_{s}" for (s,) in con.execute(
        "select lifecycle_stage from marts.customer_lifecycle group by 1 "
        "having count(*) > 0.01 * (select count(*) from marts.customer_lifecycle)"
    ).fetchall()}
    con.close()
    assert busy and shares == busy | {"_share_churned_or_at_risk"}
    assert shares <= {f"_share_{s}" for s in LIFECYCLE_STAGES} | {"_share_churned_or_at_risk"}


def test_missing_warehouse_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--db", str(tmp_path / "nope.duckdb"), "--reports", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def _yml_contract() -> dict[str, dict[str, object]]:
    """Per mart: unconditional not_null columns, conditional ones, accepted values, ranged columns."""
    contract: dict[str, dict[str, object]] = {}
    for yml in (paths.PROJECT_ROOT / "models" / "marts").rglob("*.yml"):
        for model in (yaml.safe_load(yml.read_text()) or {}).get("models") or []:
            not_null: set[str] = set()
            conditional: set[str] = set()
            values: dict[str, set[object]] = {}
            ranges: set[str] = set()
            for col in model.get("columns") or []:
                name = col["name"]
                if any(c.get("type") in ("not_null", "primary_key") for c in col.get("constraints") or []):
                    not_null.add(name)
                for test in col.get("data_tests") or []:
                    tname, targs = (test, {}) if isinstance(test, str) else next(iter(test.items()))
                    targs = targs or {}
                    where = (targs.get("config") or {}).get("where")
                    if tname == "not_null":
                        (conditional if where else not_null).add(name)
                    elif tname == "accepted_values" and not where:
                        vals = (targs.get("arguments") or targs)["values"]
                        values[name] = {v.replace("''", "'") if isinstance(v, str) else v for v in vals}
                    elif tname == "accepted_range" and not where:
                        ranges.add(name)
            contract[model["name"]] = {
                "not_null": not_null, "conditional": conditional, "values": values, "ranges": ranges,
            }
    return contract


def test_suites_cover_the_model_yml_contract() -> None:
    """Every never-null column, accepted-values list and range of a mart's yml is in its suite here."""
    contract = _yml_contract()
    specs = mart_specs()
    assert set(specs) == KNOWN_MARTS
    for mart, spec in specs.items():
        assert mart in contract, f"{mart} has no model yml"
        yml = contract[mart]
        assert yml["not_null"] <= set(spec.not_null), (mart, yml["not_null"] - set(spec.not_null))  # type: ignore[operator]
        assert yml["conditional"] <= set(spec.not_null_when), mart  # type: ignore[operator]
        assert yml["ranges"] <= set(spec.ranges), (mart, yml["ranges"] - set(spec.ranges))  # type: ignore[operator]
        for col, vals in yml["values"].items():  # type: ignore[attr-defined]
            assert col in spec.value_sets, (mart, col)
            assert set(spec.value_sets[col]) == vals, (mart, col)
