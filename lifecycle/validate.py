"""Great Expectations suites for every mart of the warehouse (``lifecycle validate``).

Every suite is derived from the marts' model yml (:mod:`lifecycle.checks`): each dbt data test,
contract constraint and ``meta`` expectation is one expectation carrying the severity of the check
it came from. An ``error`` check that fails (an impossible value: a probability outside [0, 1], a
negative count, a null key, a broken reconciliation, a contract violation) fails the validation
and blocks publishing; a ``warn`` check that fails (a surprising distribution: a segment missing,
a stage holding most customers) is reported - in the summary, ``validation.json``, the Data Docs
and the publish manifest - and blocks nothing.

GX cannot validate DuckDB through SQLAlchemy, so each mart is read into a pandas DataFrame with
duckdb and validated in memory (GX 1.x: an ephemeral context, one pandas Data Source with a
DataFrame asset per mart, a whole-dataframe Batch Definition, an Expectation Suite, a
Validation Definition and a Checkpoint whose ``UpdateDataDocsAction`` writes the Data Docs HTML
under ``<reports>/data_docs/``). Checks that are SQL over the mart are computed by DuckDB on the
warehouse table as extra columns of the DataFrame (``_check_<n>``). A JSON summary goes to
``<reports>/validation.json``.

``marts.data_coverage`` says which marts the data cannot support (``not_meaningful``): an empty
such mart is expected, so the checks that need rows (means, shares, maxima, sets of values) are not
run on it, and the report says so.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Before GX is imported anywhere: no usage statistics, no phoning home.
os.environ["GX_ANALYTICS_ENABLED"] = "False"
os.environ["DO_NOT_TRACK"] = "1"

import duckdb
import pandas as pd

from lifecycle import paths
from lifecycle.build_record import build_invocation_id
from lifecycle.checks import Check, MartChecks, mart_checks, resolve_refs
from lifecycle.validation_html import write_html_report
from lifecycle.validation_report import MARTS_SCHEMA, Failure, MartResult, ValidationError, ValidationReport

DATA_DOCS_SITE = "lifecycle_data_docs"
COVERAGE_MART = "data_coverage"
QUARANTINE_MART = "quarantined_rows"
NOT_MEANINGFUL = "not_meaningful"
GX_SEVERITY = {"error": "critical", "warn": "warning"}
# Expectations that need rows to say anything: not run on an empty mart the data cannot support.
NEEDS_ROWS = frozenset(
    {
        "expect_column_mean_to_be_between",
        "expect_column_max_to_be_between",
        "expect_column_min_to_be_between",
        "expect_column_distinct_values_to_contain_set",
        "expect_column_distinct_values_to_equal_set",
        "expect_table_row_count_to_be_between",
    }
)
# Where relations referenced by ref('x') are looked for, in this order.
SCHEMA_ORDER = ("marts", "intermediate", "reference", "staging")


# ---------------------------------------------------------------------------------------------
# Building the suites


class _Relations:
    """Resolves ``ref('x')`` to the relation ``x`` of the warehouse (marts first)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        rows = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        self.where: dict[str, str] = {}
        for schema in (*SCHEMA_ORDER, *sorted({r[0] for r in rows})):
            for s, t in rows:
                if s == schema and t not in self.where:
                    self.where[t] = s

    def __call__(self, name: str) -> str:
        if name not in self.where:
            raise LookupError(f"relation {name} (referenced by a check) is not in the warehouse")
        return f'"{self.where[name]}"."{name}"'


def _expectation(check: Check, kwargs: dict[str, Any]) -> Any:
    import great_expectations.expectations as gxe

    cls = getattr(gxe, "".join(part.title() for part in check.expectation.split("_")))
    return cls(
        **kwargs,
        severity=GX_SEVERITY[check.severity],
        description=check.description,
        meta={"severity": check.severity, "test": check.test, "column": check.column, "check": check.label},
    )


def _read_mart(
    con: duckdb.DuckDBPyConnection, mart: str, checks: list[Check], relations: _Relations
) -> tuple[pd.DataFrame, dict[int, str]]:
    """The mart with every derived check column; the checks whose SQL failed, with the message."""
    table = f'{MARTS_SCHEMA}."{mart}"'
    derived: list[tuple[int, str, str]] = []
    errors: dict[int, str] = {}
    for i, check in enumerate(checks):
        for name, sql in check.derived.items():
            try:
                derived.append((i, name, resolve_refs(sql, relations)))
            except LookupError as exc:
                errors[i] = str(exc)
    try:
        df = con.execute(f"select * from {table} order by rowid").df()
        ordered = True
    except duckdb.Error:  # a view has no rowid
        df, ordered = con.execute(f"select * from {table}").df(), False
    if not derived:
        return df, errors
    exprs = ", ".join(f'({sql}) as "{name}"' for i, name, sql in derived if i not in errors)
    try:
        extra = con.execute(f"select {exprs} from {table}" + (" order by rowid" if ordered else "")).df()
        return pd.concat([df, extra.set_axis(df.index)], axis=1), errors
    except duckdb.Error:
        pass
    # One expression does not run (e.g. a column is missing): each on its own, to name it.
    columns: dict[str, pd.Series] = {}
    for i, name, sql in derived:
        if i in errors:
            continue
        try:
            part = con.execute(f'select ({sql}) as "{name}" from {table}' + (" order by rowid" if ordered else ""))
            columns[name] = part.df()[name].set_axis(df.index)
        except duckdb.Error as exc:
            errors[i] = str(exc).strip().splitlines()[0][:300]
    return pd.concat([df, pd.DataFrame(columns, index=df.index)], axis=1), errors


def _query_value(con: duckdb.DuckDBPyConnection, kwarg: str, sql: str) -> Any:
    rows = con.execute(sql).fetchall()
    if kwarg == "value_set":
        return [r[0] for r in rows]
    value = rows[0][0] if rows else None
    if isinstance(value, float | int) or value is None:
        return value
    return float(value)  # Decimal


def _expectations(
    con: duckdb.DuckDBPyConnection,
    mc: MartChecks,
    df: pd.DataFrame,
    errors: dict[int, str],
    relations: _Relations,
    skip_needs_rows: bool,
) -> tuple[list[Any], list[Failure], list[str]]:
    """GX expectations of one mart; failures found before GX runs (SQL errors); notes."""
    import great_expectations.expectations as gxe

    exps: list[Any] = []
    pre: list[Failure] = []
    notes: list[str] = []
    missing: dict[str, str] = {}  # column -> worst severity of the checks that needed it
    skipped = 0
    for i, check in enumerate(mc.checks):
        absent = [c for c in check.columns if c not in df.columns]
        if absent:
            for c in absent:
                if missing.get(c) != "error":
                    missing[c] = check.severity
            continue
        if i in errors:
            pre.append(
                Failure(
                    mc.mart,
                    check.expectation,
                    check.column,
                    f"error: {errors[i]}",
                    check.description,
                    check.severity,
                    check.test,
                )
            )
            continue
        if skip_needs_rows and check.expectation in NEEDS_ROWS:
            skipped += 1
            continue
        kwargs = dict(check.kwargs)
        try:
            for kwarg, sql in check.queries.items():
                kwargs[kwarg] = _query_value(con, kwarg, resolve_refs(sql, relations))
        except (duckdb.Error, LookupError) as exc:
            msg = str(exc).strip().splitlines()[0][:300]
            pre.append(
                Failure(
                    mc.mart,
                    check.expectation,
                    check.column,
                    f"error: {msg}",
                    check.description,
                    check.severity,
                    check.test,
                )
            )
            continue
        if check.expectation == "expect_column_sum_to_be_between" and kwargs.get("min_value") is not None:
            kwargs["min_value"] -= 0.005  # money sums compare to the cent
            kwargs["max_value"] += 0.005
        exps.append(_expectation(check, kwargs))
    for col, severity in missing.items():
        exps.append(
            gxe.ExpectColumnToExist(
                column=col,
                severity=GX_SEVERITY[severity],
                description=f"[{severity}] {mc.mart}.{col} exists",
                meta={"severity": severity, "test": "contract", "column": col, "check": f"{col} exists"},
            )
        )
    if skipped:
        notes.append(
            f"{mc.mart}: empty and not meaningful on this data (data_coverage): "
            f"{skipped} check(s) that need rows were not run"
        )
    notes.extend(f"{mc.mart}: check not translated to Great Expectations: {u}" for u in mc.untranslated)
    return exps, pre, notes


# ---------------------------------------------------------------------------------------------
# Running


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _exception_message(exc: dict[str, Any]) -> str | None:
    """The first exception message of a result's exception_info (flat, or keyed by metric id)."""
    if exc.get("raised_exception"):
        return str(exc.get("exception_message") or "exception")
    for value in exc.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "exception")
    return None


def _sample(values: list[Any] | None) -> str:
    return ", ".join(_fmt(v) for v in (values or [])[:5])


def _observed(result: Any, df: pd.DataFrame) -> str:
    """A readable observed value of one expectation result."""
    msg = _exception_message(result.exception_info or {})
    if msg:
        return "error: " + msg.strip().splitlines()[0][:300]
    res = result.result or {}
    cfg = result.expectation_config
    kind = cfg.type
    column = cfg.kwargs.get("column")
    if kind == "expect_column_to_exist":
        return "the column is missing"
    if kind == "expect_column_distinct_values_to_contain_set" and res.get("missing_count"):
        return f"{res['missing_count']} expected value(s) missing: {_sample(res.get('partial_missing_list'))}"
    if isinstance(column, str) and column.startswith("_check_") and kind == "expect_column_values_to_be_in_set":
        # A derived boolean: show the first rows that violate it by the mart's first column.
        bad = df[df[column] != True]  # noqa: E712 (a pandas mask)
        key = df.columns[0]
        return f"{len(bad)} row(s) violate it, e.g. {key} = {_sample(bad[key].tolist())}"
    if "observed_value" in res:
        return f"observed {_fmt(res['observed_value'])}"
    if "unexpected_count" in res:
        pct = res.get("unexpected_percent")
        pct_s = f" ({pct:.3g}%)" if isinstance(pct, int | float) and math.isfinite(pct) else ""
        return f"{res['unexpected_count']} unexpected{pct_s}, e.g. {_sample(res.get('partial_unexpected_list'))}"
    return _fmt(res) if res else "failed"


@contextmanager
def _quiet() -> Iterator[None]:
    """GX and pandas are chatty (progress bars, deprecation warnings): keep the summary readable."""
    import logging

    gx_logger = logging.getLogger("great_expectations")
    level = gx_logger.level
    gx_logger.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            gx_logger.setLevel(level)


def _marts_in(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by table_name",
        [MARTS_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def _coverage(con: duckdb.DuckDBPyConnection, present: list[str]) -> dict[str, str]:
    """mart -> status of marts.data_coverage (empty when the warehouse has no such mart)."""
    if COVERAGE_MART not in present:
        return {}
    try:
        rows = con.execute(f"select mart, status from {MARTS_SCHEMA}.{COVERAGE_MART}").fetchall()
    except duckdb.Error:
        return {}
    return {str(m): str(s) for m, s in rows}


def _quarantine_counts(con: duckdb.DuckDBPyConnection, present: list[str]) -> list[dict[str, Any]] | None:
    """Quarantined raw rows by reason and source table (with the reason's description from the
    seed when the warehouse has it); None when the warehouse has no quarantine mart."""
    if QUARANTINE_MART not in present:
        return None
    table = f"{MARTS_SCHEMA}.{QUARANTINE_MART}"
    queries = (
        f"select q.quarantine_reason, q.source_table, count(*), any_value(r.reason_description) from {table} q "
        "left join reference.quarantine_reasons r on q.quarantine_reason = r.quarantine_reason "
        "group by 1, 2 order by 1, 2",
        f"select quarantine_reason, source_table, count(*), null from {table} group by 1, 2 order by 1, 2",
    )
    for sql in queries:
        try:
            rows = con.execute(sql).fetchall()
        except duckdb.Error:
            continue
        return [
            {"quarantine_reason": r, "source_table": t, "rows": int(n), "reason_description": d} for r, t, n, d in rows
        ]
    return None


OFFLINE_BANNER = (
    '<p style="padding:.5rem;border:1px solid #999">Offline? These Data Docs load their styles and scripts '
    'from the internet. The self-contained report is <a href="../validation.html">validation.html</a>.</p>'
)


def _link_offline_report(docs_dir: Path) -> None:
    """Put a plain link to validation.html at the top of every Data Docs page (readable without CSS)."""
    for page in docs_dir.rglob("*.html"):
        depth = len(page.relative_to(docs_dir).parts) - 1
        banner = OFFLINE_BANNER.replace("../validation.html", "../" * (depth + 1) + "validation.html")
        text = page.read_text(encoding="utf-8")
        if "<body>" in text and banner not in text:
            page.write_text(text.replace("<body>", "<body>" + banner, 1), encoding="utf-8")


def _reset_docs_dir(docs_dir: Path) -> None:
    """Data Docs are rebuilt per run; drop pages of earlier runs (only a GX-made folder is removed)."""
    if docs_dir.is_dir() and ((docs_dir / "index.html").exists() or (docs_dir / "static").is_dir()):
        shutil.rmtree(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)


def _run_suite(
    context: Any, source: Any, mart: str, df: pd.DataFrame, exps: list[Any], site_names: list[str]
) -> tuple[int, list[Failure]]:
    """Asset, batch definition, suite, validation definition and checkpoint of one mart; run it."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.checkpoint import UpdateDataDocsAction

    if not exps:
        exps = [gxe.ExpectTableRowCountToBeBetween(min_value=0)]
    asset = source.add_dataframe_asset(name=mart)
    batch_def = asset.add_batch_definition_whole_dataframe(f"{mart}_all_rows")
    # Expectations given up front: add_expectation on a stored suite re-saves it each time.
    suite = context.suites.add(gx.ExpectationSuite(name=f"marts.{mart}", expectations=exps))
    vdef = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"validate_{mart}", data=batch_def, suite=suite)
    )
    actions = [UpdateDataDocsAction(name="update_data_docs", site_names=site_names)] if site_names else []
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"checkpoint_{mart}",
            validation_definitions=[vdef],
            actions=actions,
            result_format={"result_format": "BASIC", "partial_unexpected_count": 5},
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": df})
    failures: list[Failure] = []
    evaluated = 0
    for vres in result.run_results.values():
        for r in vres.results:
            evaluated += 1
            if not r.success:
                cfg = r.expectation_config
                meta = cfg.meta or {}
                failures.append(
                    Failure(
                        mart,
                        cfg.type,
                        meta.get("column", cfg.kwargs.get("column")),
                        _observed(r, df),
                        getattr(cfg, "description", None) or "",
                        str(meta.get("severity", "error")),
                        str(meta.get("test", "")),
                    )
                )
    return evaluated, failures


def _validate_mart(
    con: duckdb.DuckDBPyConnection,
    mart: str,
    mc: MartChecks,
    relations: _Relations,
    coverage: str | None,
    run: Any,
) -> tuple[MartResult, list[str]]:
    df, errors = _read_mart(con, mart, mc.checks, relations)
    skip = coverage == NOT_MEANINGFUL and len(df) == 0
    exps, pre, notes = _expectations(con, mc, df, errors, relations, skip)
    evaluated, failures = run(mart, df, exps)
    found = pre + failures
    errs = [f for f in found if f.severity == "error"]
    warns = [f for f in found if f.severity != "error"]
    evaluated += len(pre)
    result = MartResult(mart, len(df), evaluated, evaluated - len(found), errs, "model yml", warns, coverage)
    return result, notes


def validate_connection(
    con: duckdb.DuckDBPyConnection,
    reports_dir: Path | None,
    *,
    db_label: Path,
    project_root: Path | None = None,
) -> ValidationReport:
    """Validate every mart readable through ``con``; write Data Docs and JSON under ``reports_dir``.

    The checks come from the model yml of ``project_root`` (default: this project).
    """
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    with _quiet():
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        declared = mart_checks(project_root)
        present = _marts_in(con)
        if not present:
            raise ValidationError(f"no tables in schema '{MARTS_SCHEMA}' of {db_label}: build the warehouse first")
        relations = _Relations(con)
        coverage = _coverage(con, present)
        quarantine = _quarantine_counts(con, present)
        notes: list[str] = []
        results: list[MartResult] = []

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        site_names: list[str] = []
        docs_dir: Path | None = None
        if reports_dir is not None:
            docs_dir = Path(reports_dir) / "data_docs"
            _reset_docs_dir(docs_dir)
            context.add_data_docs_site(
                site_name=DATA_DOCS_SITE,
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
            site_names = [DATA_DOCS_SITE]
        source = context.data_sources.add_pandas(name="warehouse_marts")

        def run(mart: str, df: pd.DataFrame, exps: list[Any]) -> tuple[int, list[Failure]]:
            return _run_suite(context, source, mart, df, exps, site_names)

        for mart in sorted(set(present) | set(declared)):
            if mart not in present:
                results.append(
                    MartResult(
                        mart,
                        None,
                        1,
                        0,
                        [Failure(mart, "mart_exists", None, f"marts.{mart} is missing from the warehouse")],
                        "missing",
                    )
                )
                continue
            mc = declared.get(mart)
            if mc is None:
                mc = MartChecks(mart, [], [])
                notes.append(f"{mart}: no model yml declares it: only its shape checked")
            try:
                result, mart_notes = _validate_mart(con, mart, mc, relations, coverage.get(mart), run)
                if mc.mart not in declared:
                    result.suite_source = "none (generic)"
                results.append(result)
                notes.extend(mart_notes)
            except Exception as exc:  # one mart that cannot be validated must not hide the others
                msg = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
                failure = Failure(mart, "validation_error", None, f"error: {msg}")
                results.append(MartResult(mart, None, 1, 0, [failure], "error"))

    report = ValidationReport(
        db_path=db_label,
        reports_dir=Path(reports_dir) if reports_dir is not None else None,
        marts=results,
        notes=notes,
        started_at=started_at,
        elapsed_seconds=time.perf_counter() - t0,
    )
    if docs_dir is not None and (docs_dir / "index.html").exists():
        report.data_docs_index = docs_dir / "index.html"
    if reports_dir is not None:
        report.json_path = Path(reports_dir) / paths.VALIDATION_REPORT
        # The dbt invocation whose warehouse this validated: `lifecycle publish` checks it.
        doc = {**report.to_dict(), "dbt_invocation_id": build_invocation_id(con), "quarantine": quarantine}
        report.json_path.write_text(json.dumps(doc, indent=2) + "\n")
        report.html_path = write_html_report(report.json_path)
        if docs_dir is not None and docs_dir.is_dir():
            _link_offline_report(docs_dir)
    return report


def validate_warehouse(
    db_path: Path | str, reports_dir: Path | str | None, *, project_root: Path | None = None
) -> ValidationReport:
    """Validate every mart of the DuckDB file ``db_path`` (opened read-only).

    Writes Data Docs under ``<reports_dir>/data_docs/`` and ``<reports_dir>/validation.json``
    (nothing is written when ``reports_dir`` is None). Raises :class:`ValidationError` when the
    file cannot be opened or holds no marts.
    """
    db = Path(db_path).resolve()
    if not db.is_file():
        raise ValidationError(f"warehouse {db} does not exist: build it first (dbt build)")
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise ValidationError(f"cannot open warehouse {db} read-only: {exc}") from exc
    try:
        return validate_connection(
            con, Path(reports_dir) if reports_dir is not None else None, db_label=db, project_root=project_root
        )
    finally:
        con.close()
