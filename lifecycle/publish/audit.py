"""The audit of ``lifecycle publish``: only a clean, validated, full build of this warehouse passes.

1. Provenance (no flag overrides it): the warehouse's build record (``meta.build_record``, written
   by the on-run-end hook of every dbt invocation, see :mod:`lifecycle.build_record`) must exist,
   and its latest invocation must be the one of the ``run_results.json`` read and the one the
   validation report read (``reports/validation.json``, written by ``lifecycle validate``) validated.
   A ``dbt run -s x`` after the build, results copied from another warehouse, a validation of an
   earlier build: all refused, naming both invocation ids.
2. dbt results: that ``run_results.json`` must come from a full ``build`` (no
   ``--select``/``--exclude``/``--empty``, models and tests ran) and every result must be
   ``success`` or ``pass`` (``warn`` counts as a pass, an exposure's ``no-op`` too; ``error``, ``fail``, ``skipped``,
   ``runtime error`` refuse the publish); the build record must say the same.
3. Validation: the report read must have passed, and :func:`lifecycle.validate.validate_connection`
   runs the suites again on the connection the marts are copied from (``--skip-validate`` skips
   only this re-run, never the report check): a failed ``error`` check refuses the publish; failed
   ``warn`` checks are printed and recorded per mart in the manifest's ``checks_summary``.

:func:`audit_warehouse` runs them all in this order; each step is also a function of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from lifecycle import paths
from lifecycle.build_record import BuildRecord, read_build_record
from lifecycle.publish.errors import PublishError
from lifecycle.publish.serving import mart_tables
from lifecycle.validate import MARTS_SCHEMA, ValidationError, ValidationReport, validate_connection

OK_STATUSES = frozenset({"success", "pass", "warn"})  # warn: a test configured to warn, not to fail
# Nodes dbt build lists with nothing to run: an exposure's result is always ``no-op``.
NO_OP_RESOURCE_TYPES = frozenset({"exposure"})


def result_is_ok(result: dict[str, Any]) -> bool:
    """A run_results entry that lets the publish go on (see the module docstring, step 2)."""
    status = str(result.get("status"))
    kind = str(result.get("unique_id", "")).split(".", 1)[0]
    return status in OK_STATUSES or (status == "no-op" and kind in NO_OP_RESOURCE_TYPES)


@dataclass
class DbtAudit:
    path: Path
    invocation_id: str | None
    generated_at: str | None
    status_counts: dict[str, int]


def audit_dbt_results(path: Path) -> DbtAudit:
    """Check the run_results.json of the last dbt build; raise :class:`PublishError` if it fails."""
    if not path.is_file():
        raise PublishError(f"dbt audit: no dbt results at {path}: run 'dbt build' first (or pass --dbt-results)")
    try:
        doc = json.loads(path.read_text())
        meta = doc.get("metadata") or {}
        args = doc.get("args") or {}
        results = list(doc["results"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PublishError(f"dbt audit: cannot read {path}: {exc}") from exc

    which = args.get("which")
    if which != "build":
        raise PublishError(f"dbt audit: {path} is from 'dbt {which}', not 'dbt build': run a full dbt build")
    partial = {k: args.get(k) for k in ("select", "exclude", "selector", "resource_types", "exclude_resource_types")}
    partial = {k: v for k, v in partial.items() if v}
    if partial:
        raise PublishError(f"dbt audit: the last dbt build was partial ({partial}): run a full dbt build")
    if args.get("empty"):
        raise PublishError("dbt audit: the last dbt build ran with --empty: run a full dbt build")
    kinds = {str(r.get("unique_id", "")).split(".", 1)[0] for r in results}
    if "model" not in kinds or ("test" not in kinds and "unit_test" not in kinds):
        raise PublishError(f"dbt audit: {path} holds no model or no test results: run a full dbt build")

    counts: dict[str, int] = {}
    bad: list[str] = []
    for r in results:
        status = str(r.get("status"))
        counts[status] = counts.get(status, 0) + 1
        if not result_is_ok(r):
            msg = (r.get("message") or "").strip().splitlines()
            bad.append(f"{r.get('unique_id')}: {status}" + (f" ({msg[0][:160]})" if msg else ""))
    if bad:
        shown = "\n".join(f"  - {b}" for b in bad[:15])
        more = f"\n  ... and {len(bad) - 15} more" if len(bad) > 15 else ""
        raise PublishError(
            f"dbt audit: {len(bad)} of {len(results)} results of the last dbt build are not success/pass "
            f"({path}):\n{shown}{more}"
        )
    return DbtAudit(path, meta.get("invocation_id"), meta.get("generated_at"), counts)


def results_invocation_id(path: Path) -> str | None:
    """The dbt invocation id of a run_results.json (None when it names none)."""
    if not path.is_file():
        raise PublishError(f"dbt audit: no dbt results at {path}: run 'lifecycle dbt build' (or pass --dbt-results)")
    try:
        value = (json.loads(path.read_text()).get("metadata") or {}).get("invocation_id")
    except (OSError, ValueError, AttributeError) as exc:
        raise PublishError(f"dbt audit: cannot read {path}: {exc}") from exc
    return str(value) if value else None


def check_build_record(
    record: BuildRecord | None, db_path: Path, results_path: Path, results_id: str | None
) -> BuildRecord:
    """The warehouse's latest dbt invocation must be the one of the run results read."""
    if record is None:
        raise PublishError(
            f"refused: {db_path} has no build record (meta.build_record): it was not built by this "
            "project's dbt build (or by a version without the record); run 'lifecycle dbt build'"
        )
    if record.invocation_id != results_id:
        raise PublishError(
            f"refused: the latest dbt invocation on {db_path} is {record.describe()}, but {results_path} is "
            f"from dbt invocation {results_id}: run a full 'lifecycle dbt build' and 'lifecycle validate'"
        )
    return record


def check_record_is_clean_build(record: BuildRecord, db_path: Path) -> None:
    """Today's rule on the record too: a ``dbt build`` without error, fail or skip (whether it was
    full, :func:`audit_dbt_results` judges from the arguments in its run_results.json)."""
    bad = {k: v for k, v in record.status_counts().items() if k in ("error", "fail", "skipped") and v}
    if record.command != "build" or bad:
        raise PublishError(
            f"refused: the build record of {db_path} is {record.describe()} "
            f"({record.invocation_command}; {bad or 'no error, fail or skip'}): run a full 'lifecycle dbt build'"
        )


def check_validation_report(path: Path, record: BuildRecord, db_path: Path) -> dict[str, Any]:
    """The validation report read must be of the recorded build, and must have passed."""
    if not path.is_file():
        raise PublishError(
            f"refused: no validation report at {path}: run 'lifecycle validate --db {db_path}' after the build"
        )
    try:
        doc = json.loads(path.read_text())
        validated = doc.get("dbt_invocation_id")
    except (OSError, ValueError, AttributeError) as exc:
        raise PublishError(f"refused: cannot read the validation report {path}: {exc}") from exc
    if validated != record.invocation_id:
        todo = f"'lifecycle validate --db {db_path}'"
        if record.command != "build":
            todo = f"a full 'lifecycle dbt build' and {todo}"
        raise PublishError(
            f"refused: the latest dbt invocation on {db_path} is {record.describe()}, but the validation report "
            f"{path} validated dbt invocation {validated}: run {todo}"
        )
    if doc.get("success") is not True:
        raise PublishError(f"refused: the validation report {path} of invocation {validated} did not pass")
    return dict(doc)


def modified_after_build(db_path: Path, audit: DbtAudit, slack_seconds: float = 300) -> str | None:
    """A warning when the warehouse file changed well after the audited dbt build finished."""
    if not audit.generated_at:
        return None
    try:
        finished = datetime.fromisoformat(audit.generated_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if finished.tzinfo is None:
        finished = finished.replace(tzinfo=UTC)
    modified = datetime.fromtimestamp(db_path.stat().st_mtime, UTC)
    if (modified - finished).total_seconds() > slack_seconds:
        return (
            f"{db_path.name} was modified at {modified:%Y-%m-%d %H:%M:%S}Z, after the audited dbt build "
            f"finished ({finished:%Y-%m-%d %H:%M:%S}Z): are these the results of the build that made it?"
        )
    return None


def _revalidate(src: duckdb.DuckDBPyConnection, reports: Path, db_path: Path) -> ValidationReport:
    """Run the suites again on ``src``; raise :class:`PublishError` when an ``error`` check fails."""
    try:
        report = validate_connection(src, reports, db_label=db_path)
    except ValidationError as exc:
        raise PublishError(f"validation: {exc}") from exc
    if not report.success:
        shown = "\n".join(f.line() for f in report.failures[:15])
        where = f" (Data Docs: {report.data_docs_index})" if report.data_docs_index else ""
        raise PublishError(f"validation: {report.failed} of {report.evaluated} expectations failed{where}:\n{shown}")
    return report


def _checks_summary(report: ValidationReport) -> dict[str, Any]:
    """The validation outcome the manifest records (warn-severity failures per mart)."""
    return {
        "success": report.success,
        "evaluated": report.evaluated,
        "failed": report.failed,
        "marts": {
            m.mart: {
                "evaluated": m.evaluated,
                "passed": m.passed,
                "failed": m.failed,
                "warned": len(m.warned),
                "coverage": m.coverage,
                "warnings": [w.line().strip() for w in m.warned],
            }
            for m in report.marts
        },
    }


@dataclass
class Audit:
    """What passed the audit: the dbt results, the marts to publish, the validation (None when
    skipped), its summary for the manifest and the warnings to print."""

    dbt: DbtAudit
    tables: list[str]
    validation: ValidationReport | None
    checks: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def audit_warehouse(
    src: duckdb.DuckDBPyConnection,
    db_path: Path,
    results_path: Path,
    results_id: str | None,
    reports: Path,
    *,
    skip_validate: bool = False,
) -> Audit:
    """Audit the warehouse ``db_path`` open read-only as ``src`` against the run results read
    (``results_path``, of dbt invocation ``results_id``) and the validation report in ``reports``.

    Raises :class:`PublishError` on the first step that fails.
    """
    record = check_build_record(read_build_record(src), db_path, results_path, results_id)
    check_validation_report(reports / paths.VALIDATION_REPORT, record, db_path)
    dbt = audit_dbt_results(results_path)
    check_record_is_clean_build(record, db_path)
    warnings: list[str] = []
    stale_note = modified_after_build(db_path, dbt)
    if stale_note:
        warnings.append(stale_note)
    tables = mart_tables(src)
    if not tables:
        raise PublishError(f"no tables in schema '{MARTS_SCHEMA}' of {db_path}")
    if skip_validate:
        return Audit(dbt, tables, None, {}, warnings)
    report = _revalidate(src, reports, db_path)
    # Warn-severity failures never block; they are recorded per mart in the manifest.
    warnings.extend(f"validation {w.line().strip()}" for w in report.warnings)
    return Audit(dbt, tables, report, _checks_summary(report), warnings)
