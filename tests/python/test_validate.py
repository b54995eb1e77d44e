"""``lifecycle validate``: Great Expectations suites derived from the marts' model yml.

The suites hold exactly the checks of the model yml with their severities (no list in Python);
a real build passes; a failed ``warn`` check is reported (summary, validation.json, Data Docs,
publish manifest) and blocks nothing, a failed ``error`` check exits 1; a missing mart or column
and an unknown mart are reported; an empty mart the data cannot support (data_coverage) is
expected; and ``data_coverage`` says which marts a data set without NPS, reviews, consent or spend
cannot support.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from test_publish import Build, _checked_build, shared_build

from lifecycle import paths, validate
from lifecycle.assertions import unbatch
from lifecycle.checks import mart_checks
from lifecycle.cli import main
from lifecycle.generate import generate
from lifecycle.publish import publish, read_manifest
from lifecycle.validate import ValidationReport, validate_warehouse


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return shared_build(tmp_path_factory)


def _tampered(build: Build, tmp_path: Path, *statements: str) -> Path:
    # Same file name in another folder: the warehouse's views name it by the name dbt built it under.
    db = tmp_path / "tampered" / build.db.name
    db.parent.mkdir()
    shutil.copy(build.db, db)
    con = duckdb.connect(str(db))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()
    return db


def _recreated(table: str) -> list[str]:
    """Statements that recreate a mart without its contract constraints (to plant a null key)."""
    return [
        f"create table marts.copy_of_{table} as select * from marts.{table}",
        f"drop table marts.{table}",
        f"create table marts.{table} as select * from marts.copy_of_{table}",
        f"drop table marts.copy_of_{table}",
    ]


def _failures(report: ValidationReport) -> set[tuple[str, str, str | None]]:
    return {(f.mart, f.expectation, f.column) for f in report.failures}


def _warnings(report: ValidationReport) -> set[tuple[str, str, str | None]]:
    return {(w.mart, w.test, w.column) for w in report.warnings}


# ---------------------------------------------------------------------------------------------
# The suites are the model yml


def _yml_tests(root: Path) -> dict[str, Counter[tuple[str, str | None, str]]]:
    """Per mart, every data test of its yml as (test, column, severity), read independently."""
    out: dict[str, Counter[tuple[str, str | None, str]]] = {}
    for yml in (root / "models" / "marts").rglob("*.yml"):
        for model in (yaml.safe_load(yml.read_text()) or {}).get("models") or []:
            found: Counter[tuple[str, str | None, str]] = Counter()
            entries: list[tuple[str | None, Any]] = [(None, t) for t in model.get("data_tests") or []]
            for col in model.get("columns") or []:
                entries += [(col["name"], t) for t in col.get("data_tests") or []]
            for column, test in entries:
                name, body = (test, {}) if isinstance(test, str) else next(iter(test.items()))
                severity = ((body or {}).get("config") or {}).get("severity", "error")
                # A batched test counts once per column (or expression) it checks.
                for kind, col, _ in unbatch(name, column, (body or {}).get("arguments") or {}):
                    found[(kind, col, severity)] += 1
            out[model["name"]] = found
    return out


def test_suites_hold_every_yml_test_with_its_severity() -> None:
    declared = _yml_tests(paths.PROJECT_ROOT)
    checks = mart_checks()
    assert set(checks) == set(declared)
    for mart, tests in declared.items():
        derived = Counter(
            (c.test, c.column, c.severity) for c in checks[mart].checks if c.test not in ("constraint", "meta")
        )
        assert derived == tests, mart
        assert checks[mart].untranslated == [], mart
    # The distribution checks warn; impossible values are errors.
    by_key = {(c.mart, c.test, c.column): c.severity for mc in checks.values() for c in mc.checks}
    assert by_key[("customer_segments", "contains_every_value_of", "rfm_segment")] == "warn"
    assert by_key[("customer_lifecycle", "value_share_at_most", "lifecycle_stage")] == "warn"
    assert by_key[("customer_lifecycle", "proportion_within", None)] == "warn"
    assert by_key[("customer_clv", "accepted_range", "p_alive")] == "error"
    assert by_key[("customers", "not_null", "customer_id")] == "error"
    # No hand-written suites are left in Python.
    for name in ("mart_specs", "MartSpec", "Bounds", "LIFECYCLE_STAGES", "RFM_BUYER_SEGMENTS", "model_yml_specs"):
        assert not hasattr(validate, name), name


def test_translation_of_a_hand_written_yml(tmp_path: Path) -> None:
    """Severity, where, constraints and meta expectations of a small yml, as GX expectations."""
    (tmp_path / "dbt_project.yml").write_text("name: shop\ndata_tests:\n  shop:\n    +severity: error\n")
    marts = tmp_path / "models" / "marts"
    marts.mkdir(parents=True)
    (marts / "_m__models.yml").write_text(
        """
version: 2
models:
  - name: orders
    config:
      meta:
        expectations:
          - expect_table_row_count_to_be_between: {min_value: 1, severity: warn}
    data_tests:
      - has_row_count_of:
          arguments:
            compare_model: ref('stg_orders')
      - expression_is_true:
          arguments:
            expression: "net <= gross"
          config:
            where: "gross is not null"
            severity: warn
    columns:
      - name: order_id
        constraints:
          - type: primary_key
      - name: status
        data_tests:
          - accepted_values:
              arguments:
                values: ['open', "can''t"]
              config:
                where: "net > 0"
      - name: net
        config:
          meta:
            expectations:
              - expect_column_values_to_be_between: {min_value: 0, severity: warn}
        data_tests:
          - accepted_range:
              arguments:
                min_value: 0
                inclusive: false
          - mystery_test
"""
    )
    mc = mart_checks(tmp_path)["orders"]
    got = {(c.test, c.column, c.severity, c.expectation) for c in mc.checks}
    assert got == {
        ("meta", None, "warn", "expect_table_row_count_to_be_between"),
        ("has_row_count_of", None, "error", "expect_table_row_count_to_equal"),
        ("expression_is_true", None, "warn", "expect_column_values_to_be_in_set"),
        ("constraint", "order_id", "error", "expect_column_values_to_not_be_null"),
        ("accepted_values", "status", "error", "expect_column_values_to_be_in_set"),
        ("meta", "net", "warn", "expect_column_values_to_be_between"),
        ("accepted_range", "net", "error", "expect_column_values_to_be_between"),
    }
    assert mc.untranslated == ["mystery_test on orders.net"]
    checks = {(c.test, c.column): c for c in mc.checks}
    rows = checks[("has_row_count_of", None)]
    assert rows.queries == {"value": "select count(*) from ref('stg_orders')"}
    expr = checks[("expression_is_true", None)]
    assert list(expr.derived.values()) == [
        "(not coalesce((gross is not null), false)) or coalesce((net <= gross), false)"
    ]
    values = checks[("accepted_values", "status")]
    assert values.kwargs["value_set"] == ["open", "can't"]
    assert values.kwargs["row_condition"].endswith("_where == True")
    strict = checks[("accepted_range", "net")]
    assert strict.kwargs == {"min_value": 0, "max_value": None, "strict_min": True, "strict_max": False,
                             "column": "net"}
    assert all(c.description.startswith(f"[{c.severity}]") for c in mc.checks)


def test_batched_tests_translate_like_their_one_column_tests(tmp_path: Path) -> None:
    """A batched test (one query for several columns) gives the checks its one-column tests give."""
    (tmp_path / "dbt_project.yml").write_text("name: shop\n")
    one_column = """
version: 2
models:
  - name: orders
    data_tests:
      - expression_is_true: {arguments: {expression: "net <= gross"}, config: {severity: warn}}
    columns:
      - name: net
        constraints: [{type: not_null}]
        data_tests:
          - not_null
          - accepted_range: {arguments: {min_value: 0, inclusive: false}, config: {where: "gross > 0"}}
      - name: status
        data_tests:
          - not_null: {config: {where: "net > 0"}}
          - accepted_values: {arguments: {values: ['open', 'shut']}}
"""
    batched = """
version: 2
models:
  - name: orders
    data_tests:
      - expressions_are_true: {arguments: {expressions: ["net <= gross"]}, config: {severity: warn}}
      - columns_not_null: {arguments: {columns: [net]}}
      - columns_not_null: {arguments: {columns: [status]}, config: {where: "net > 0"}}
      - columns_in_range: {arguments: {columns: {net: {min_value: 0, inclusive: false}}}, config: {where: "gross > 0"}}
      - columns_accepted_values: {arguments: {columns: {status: {values: ['open', 'shut']}}}}
    columns:
      - name: net
        constraints: [{type: not_null}]
      - name: status
"""

    def checks(yml: str, into: Path) -> list[tuple[Any, ...]]:
        (into / "models" / "marts").mkdir(parents=True)
        shutil.copy(tmp_path / "dbt_project.yml", into / "dbt_project.yml")
        (into / "models" / "marts" / "_m__models.yml").write_text(yml)
        found = mart_checks(into)["orders"].checks
        # Derived columns are numbered in declaration order: compare them by their SQL.
        def named(value: Any, c: Any) -> Any:
            if not isinstance(value, str):
                return value
            return re.sub(r"_check_\d+(_where)?", lambda m: c.derived[m.group(0)], value)

        return sorted(
            (c.test, c.column, c.severity, c.expectation,
             json.dumps({k: named(v, c) for k, v in c.kwargs.items()}, sort_keys=True), sorted(c.derived.values()))
            for c in found
        )

    expected = checks(one_column, tmp_path / "one_column")
    assert len(expected) == 5  # the contract's not null is the not_null test's (no where)
    assert checks(batched, tmp_path / "batched") == expected


SHOP_YML = """
version: 2
models:
  - name: orders
    data_tests:
      - has_row_count_of:
          arguments:
            compare_model: ref('stg_orders')
      - expression_is_true:
          arguments:
            expression: "net <= gross"
          config:
            where: "status <> 'refund'"
      - proportion_within:
          arguments:
            condition: "status = 'refund'"
            max_share: 0.2
          config:
            severity: warn
    columns:
      - name: order_id
        constraints:
          - type: primary_key
      - name: status
        data_tests:
          - accepted_values:
              arguments:
                values: ['paid', 'refund']
          - contains_every_value_of:
              arguments:
                to: ref('statuses')
                field: status
              config:
                severity: warn
      - name: p_alive
        data_tests:
          - accepted_range:
              arguments:
                min_value: 0
                max_value: 1
          - not_null_when:
              arguments:
                other_model: ref('fit')
                other_condition: "is_fitted"
              config:
                where: "status = 'paid'"
"""


def _shop(tmp_path: Path, *statements: str) -> tuple[Path, Path]:
    """A hand-written project (one mart yml) and warehouse: 4 orders, one a refund."""
    root = tmp_path / "project"
    (root / "models" / "marts").mkdir(parents=True)
    (root / "dbt_project.yml").write_text("name: shop\n")
    (root / "models" / "marts" / "_marts__models.yml").write_text(SHOP_YML)
    db = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(db))
    for sql in (
        "create schema marts", "create schema intermediate", "create schema reference",
        "create table marts.orders as select * from (values ('o1', 'paid', 10.0, 10.0, 0.5), "
        "('o2', 'paid', 5.0, 8.0, 0.9), ('o3', 'refund', -3.0, 0.0, 0.1), ('o4', 'paid', 7.0, 7.0, null)) "
        "as t(order_id, status, net, gross, p_alive)",
        "create table intermediate.stg_orders as select order_id from marts.orders",
        "create table reference.statuses as select * from (values ('paid'), ('refund'), ('void')) as t(status)",
        "create table intermediate.fit as select false as is_fitted",
        *statements,
    ):
        con.execute(sql)
    con.close()
    return root, db


def test_severities_on_a_hand_written_warehouse(tmp_path: Path) -> None:
    root, db = _shop(tmp_path)
    report = validate_warehouse(db, None, project_root=root)
    # 'void' never occurs and a quarter of the orders are refunds: two warnings, no error;
    # the refund's net > gross is outside the where; the null p_alive is fine while not fitted.
    assert report.success, [f.line() for f in report.failures]
    assert _warnings(report) == {("orders", "contains_every_value_of", "status"), ("orders", "proportion_within", None)}
    missing = next(w for w in report.warnings if w.test == "contains_every_value_of")
    assert missing.observed == "1 expected value(s) missing: void" and missing.severity == "warn"
    orders = report.marts[0]
    assert (orders.evaluated, orders.passed, orders.failed) == (8, 6, 0)

    # Fitted now, and one order is impossible: errors.
    root, db = _shop(tmp_path / "errors", "update intermediate.fit set is_fitted = true",
                     "update marts.orders set p_alive = 2, gross = 1 where order_id = 'o1'",
                     "insert into intermediate.stg_orders values ('o5')")
    report = validate_warehouse(db, None, project_root=root)
    assert not report.success
    assert {(f.test, f.column) for f in report.failures} == {
        ("accepted_range", "p_alive"), ("not_null_when", "p_alive"), ("expression_is_true", None),
        ("has_row_count_of", None),
    }
    lines = {f.test: f.line() for f in report.failures}
    assert lines["not_null_when"] == "  FAIL orders: expect_column_values_to_be_in_set column=p_alive: " \
        "1 row(s) violate it, e.g. order_id = o4"
    assert "e.g. order_id = o1" in lines["expression_is_true"]
    assert "observed 4" in lines["has_row_count_of"]


def test_missing_warehouse_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--db", str(tmp_path / "nope.duckdb"), "--reports", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# On a real build


@pytest.mark.slow
def test_real_build_passes_with_data_docs(build: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports"
    assert main(["validate", "--db", str(build.db), "--reports", str(reports)]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out
    assert f"Report (self-contained, offline): {reports / 'validation.html'}" in out

    summary = json.loads((reports / "validation.json").read_text())
    assert summary["success"] is True and summary["expectations_failed"] == 0
    marts = {m["mart"]: m for m in summary["marts"]}
    declared = mart_checks()
    assert set(marts) == set(declared)
    for name, m in marts.items():
        assert m["suite"] == "model yml"
        assert m["evaluated"] == max(1, len(declared[name].checks)), name
        assert m["failed"] == 0
        assert f" {name} " in out
    docs = reports / "data_docs"
    assert (docs / "index.html").is_file()
    pages = {p.parent.parent.parent.name for p in (docs / "validations").rglob("*.html")}
    assert pages >= set(declared)


@pytest.mark.slow
def test_warn_failures_are_reported_and_never_block(
    build: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _tampered(
        build,
        tmp_path,
        # A real data set may have no Champions, or most customers in one stage: surprising, not wrong.
        "update marts.customer_segments set rfm_segment = 'Loyal' where rfm_segment = 'Champions'",
        "update marts.customer_lifecycle set lifecycle_stage = 'churned', "
        "stage_started_date = coalesce(stage_started_date, as_of_date)",
    )
    reports = tmp_path / "reports"
    assert main(["validate", "--db", str(db), "--reports", str(reports)]) == 0
    out = capsys.readouterr().out
    assert "PASSED with" in out and "warning(s)" in out
    assert "WARN customer_segments: expect_column_distinct_values_to_contain_set column=rfm_segment" in out
    assert "rfm_segment: 1 expected value(s) missing: Champions" in out

    summary = json.loads((reports / "validation.json").read_text())
    assert summary["success"] is True and summary["expectations_failed"] == 0
    warned = {(w["mart"], w["test"], w["column"]) for w in summary["warnings"]}
    assert warned == {
        ("customer_segments", "contains_every_value_of", "rfm_segment"),
        ("customer_lifecycle", "value_share_at_most", "lifecycle_stage"),
        ("customer_lifecycle", "proportion_within", None),
    }
    assert all(w["severity"] == "warn" for w in summary["warnings"])
    segments = next(m for m in summary["marts"] if m["mart"] == "customer_segments")
    assert segments["success"] is True and segments["warned"] == 1

    # Data Docs show the failed warning with its severity.
    pages = [p for p in (reports / "data_docs" / "validations").rglob("*.html") if "customer_segments" in str(p)]
    assert pages
    html = pages[0].read_text()
    assert "[warn] contains_every_value_of on customer_segments.rfm_segment" in html

    # Publishing succeeds and records the warnings in the manifest.
    serving = tmp_path / "serving.duckdb"
    result = publish(db, serving, dbt_results=build.run_results, reports_dir=reports)
    assert any("contains_every_value_of" in w or "distinct_values_to_contain_set" in w for w in result.warnings)
    manifest = {row["mart"]: row for row in read_manifest(serving)}
    summary_of = json.loads(manifest["customer_segments"]["checks_summary"])
    assert summary_of["warned"] == 1 and summary_of["failed"] == 0
    assert "Champions" in summary_of["warnings"][0]
    assert json.loads(manifest["customers"]["checks_summary"])["warned"] == 0


@pytest.mark.slow
def test_error_failures_exit_1(build: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    buyer = "(select min(customer_id) from marts.customer_clv where has_purchased)"
    db = _tampered(
        build,
        tmp_path,
        f"update marts.customer_clv set p_alive = 2 where customer_id = {buyer}",
        "update marts.customer_segments set recency_score = 6 where customer_id = (select min(customer_id) "
        "from marts.customer_segments where recency_score is not null)",
        "update marts.customer_lifecycle set stage_started_date = null where customer_id = "
        "(select max(customer_id) from marts.customer_lifecycle where lifecycle_stage = 'churned')",
        "update marts.clv_model_parameters set q = 0.9 where purchase_model = 'bg_nbd'",
        "update marts.clv_backtest set breakdown = 'month' where backtest_row_id = "
        "(select max(backtest_row_id) from marts.clv_backtest)",
        # A null key (the table is recreated without its NOT NULL constraint first).
        *_recreated("quarantined_rows"),
        "update marts.quarantined_rows set quarantined_row_id = null "
        "where quarantined_row_id = (select min(quarantined_row_id) from marts.quarantined_rows)",
    )
    reports = tmp_path / "reports"
    assert main(["validate", "--db", str(db), "--reports", str(reports)]) == 1
    out = capsys.readouterr().out
    summary = json.loads((reports / "validation.json").read_text())
    found = {(m["mart"], f["test"], f["column"]) for m in summary["marts"] for f in m["failures"]}
    assert found == {
        ("customer_clv", "accepted_range", "p_alive"),
        ("customer_segments", "accepted_values", "recency_score"),
        ("customer_lifecycle", "not_null", "stage_started_date"),
        ("clv_model_parameters", "expression_is_true", None),
        ("clv_backtest", "accepted_values", "breakdown"),
        ("quarantined_rows", "not_null", "quarantined_row_id"),
    }
    assert all(f["severity"] == "error" for m in summary["marts"] for f in m["failures"])
    assert "FAIL customer_clv: expect_column_values_to_be_between column=p_alive: 1 unexpected" in out
    assert "e.g. 2" in out
    assert "FAIL clv_model_parameters: expect_column_values_to_be_in_set: 1 row(s) violate it" in out
    assert "FAILED" in out


@pytest.mark.slow
def test_missing_mart_missing_column_and_unknown_mart(build: Build, tmp_path: Path) -> None:
    db = _tampered(
        build,
        tmp_path,
        "drop table marts.clv_backtest",
        "alter table marts.customer_segments drop column engagement_score",
        "create table marts.brand_new_mart as select 1 as id",
        # A per-customer mart with one customer fewer than marts.customers.
        "delete from marts.customer_sentiment "
        "where customer_id = (select min(customer_id) from marts.customer_sentiment)",
    )
    report = validate_warehouse(db, None)
    assert not report.success
    assert _failures(report) == {
        ("clv_backtest", "mart_exists", None),
        ("customer_segments", "expect_column_to_exist", "engagement_score"),
        ("customer_sentiment", "expect_table_row_count_to_equal", None),
        # sentiment_by_segment's tickets no longer add up to customer_sentiment's.
        *({("sentiment_by_segment", "expect_column_sum_to_be_between", "support_tickets_last_365d")}
          & _failures(report)),
    }
    new = next(m for m in report.marts if m.mart == "brand_new_mart")
    assert new.success and new.suite_source.startswith("none")
    assert any("brand_new_mart" in n for n in report.notes)


@pytest.mark.slow
def test_empty_not_meaningful_mart_is_expected(build: Build, tmp_path: Path) -> None:
    db = _tampered(
        build,
        tmp_path,
        # Empty and marked not meaningful: the checks that need rows are not run.
        "delete from marts.customer_segments",
        "update marts.data_coverage set status = 'not_meaningful' where mart = 'customer_segments'",
        # Empty but complete: they are, and fail.
        "delete from marts.customer_lifecycle",
    )
    report = validate_warehouse(db, None)
    segments = next(m for m in report.marts if m.mart == "customer_segments")
    assert segments.rows == 0 and segments.coverage == "not_meaningful"
    assert not segments.warned  # every RFM segment missing, but expected
    assert {f.test for f in segments.failures} == {"has_row_count_of"}  # one row per customer still holds
    assert any(n.startswith("customer_segments: empty and not meaningful") for n in report.notes)
    lifecycle = next(m for m in report.marts if m.mart == "customer_lifecycle")
    assert {w.test for w in lifecycle.warned} >= {"proportion_within"}


# ---------------------------------------------------------------------------------------------
# data_coverage on a data set without NPS, reviews, consent or marketing spend


def _empty_table(raw: Path, table: str) -> None:
    files = sorted((raw / table).glob("*.parquet"))
    schema = pq.read_schema(files[0])
    for f in files:
        f.unlink()
    pq.write_table(schema.empty_table(), raw / table / "part-0.parquet")


def _no_consent(raw: Path) -> None:
    for f in sorted((raw / "crm_customers").glob("*.parquet")):
        table = pq.read_table(f)
        i = table.schema.get_field_index("marketing_consent")
        table = table.set_column(i, "marketing_consent", pa.array([False] * table.num_rows, pa.bool_()))
        pq.write_table(table, f)


@pytest.mark.slow
def test_data_coverage_marks_what_the_data_cannot_support(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "raw"
    generate(scale="demo", seed=11, out=raw, progress=False, n_customers=400)
    for table in ("nps_responses", "product_reviews", "marketing_spend"):
        _empty_table(raw, table)
    _no_consent(raw)
    built = _checked_build(raw, tmp_path / "warehouse.duckdb")

    con = duckdb.connect(str(built.db), read_only=True)
    try:
        coverage = {m: (s, r, n) for m, s, r, n in con.execute(
            "select mart, status, reason, row_count from marts.data_coverage").fetchall()}
        marts = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        audiences = con.execute("select count(*) from marts.lifecycle_audiences").fetchone()
    finally:
        con.close()
    assert set(coverage) == marts - {"data_coverage"}  # every mart, from the dbt graph
    status = {m: s for m, (s, _, _) in coverage.items()}
    assert {m for m, s in status.items() if s != "complete"} == {
        "customer_sentiment", "sentiment_by_segment", "lifecycle_audiences", "acquisition_channel_value",
    }
    assert status["customer_sentiment"] == status["sentiment_by_segment"] == "not_meaningful"
    assert "no NPS answer and no product review" in coverage["customer_sentiment"][1]
    assert status["lifecycle_audiences"] == "not_meaningful"
    assert "marketing consent" in coverage["lifecycle_audiences"][1]
    assert audiences == (0,) and coverage["lifecycle_audiences"][2] == 0
    assert status["acquisition_channel_value"] == "not_meaningful"
    assert "no marketing spend" in coverage["acquisition_channel_value"][1]
    assert status["customer_clv"] == status["kpi_monthly"] == "complete"

    reports = tmp_path / "reports"
    assert main(["validate", "--db", str(built.db), "--reports", str(reports)]) == 0
    capsys.readouterr()
    summary = json.loads((reports / "validation.json").read_text())
    assert summary["success"] is True
    cov = {m["mart"]: m["coverage"] for m in summary["marts"]}
    assert cov["lifecycle_audiences"] == "not_meaningful"
