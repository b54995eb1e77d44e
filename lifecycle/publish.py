"""Write-audit-publish of the marts to a serving file (``lifecycle publish``).

Audit, then publish only what passed. Artefacts are those of the warehouse given
(:func:`lifecycle.paths.artefacts`: ``<warehouse dir>/<stem>/target`` and ``.../reports``) unless
``--dbt-results`` / ``--reports`` name others.

1. Provenance (no flag overrides it): the warehouse's build record (``meta.build_record``, written
   by the on-run-end hook of every dbt invocation, see :mod:`lifecycle.build_record`) must exist,
   and its latest invocation must be the one of the ``run_results.json`` read and the one the
   validation report read (``reports/validation.json``, written by ``lifecycle validate``) validated.
   A ``dbt run -s x`` after the build, results copied from another warehouse, a validation of an
   earlier build: all refused, naming both invocation ids.
2. dbt results: that ``run_results.json`` must come from a full ``build`` (no
   ``--select``/``--exclude``/``--empty``, models and tests ran) and every result must be
   ``success`` or ``pass`` (``warn`` counts as a pass; ``error``, ``fail``, ``skipped``,
   ``runtime error`` refuse the publish); the build record must say the same.
3. Validation: the report read must have passed, and :func:`lifecycle.validate.validate_connection`
   runs the suites again on the connection the marts are copied from (``--skip-validate`` skips
   only this re-run, never the report check): a failed ``error`` check refuses the publish; failed
   ``warn`` checks are printed and recorded per mart in the manifest's ``checks_summary``.

Write: every table of schema ``marts`` of the working warehouse is copied, with its column names
and types, into a NEW DuckDB file next to the serving file (``<serving>.tmp-<build_id>``), plus
``meta.publish_manifest`` (one row per mart: build id, as-of date, publish time, dbt invocation,
row count, check summary). The copy is verified (row counts), closed and fsynced; the current
serving file is kept as ``<stem>.previous.duckdb`` (a hard link: the same inode, no copy), then
``os.replace(tmp, serving)`` swaps the new file in atomically and the directory is fsynced.

Readers: a reader holding the old serving file open keeps its inode (and its consistent, old
data) and never blocks the rename; a connection opened after the publish sees the new file. Any
failure deletes the temporary file and leaves the serving file untouched. One publish at a time
(an exclusive ``flock`` on ``<serving>.lock``); leftovers of a killed publish are removed by the
next one. ``rollback`` swaps the serving file with the previous copy.

Test hooks (seconds to sleep, printed to stderr first): ``LIFECYCLE_PUBLISH_PAUSE_DURING_COPY``
(after the first mart is copied into the temporary file) and
``LIFECYCLE_PUBLISH_PAUSE_BEFORE_RENAME`` (the temporary file is complete, the rename is next).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from lifecycle import paths
from lifecycle.build_record import BuildRecord, read_build_record
from lifecycle.validate import MARTS_SCHEMA, ValidationError, ValidationReport, validate_connection

OK_STATUSES = frozenset({"success", "pass", "warn"})  # warn: a test configured to warn, not to fail
MANIFEST_SCHEMA = "meta"
MANIFEST_TABLE = "publish_manifest"
PAUSE_DURING_COPY = "LIFECYCLE_PUBLISH_PAUSE_DURING_COPY"
PAUSE_BEFORE_RENAME = "LIFECYCLE_PUBLISH_PAUSE_BEFORE_RENAME"


class PublishError(Exception):
    """The publish was refused or failed; the serving file is untouched."""


def default_serving_path() -> Path:
    """Env LIFECYCLE_SERVING_DB, else ``serving.duckdb`` next to the working warehouse."""
    env = os.environ.get("LIFECYCLE_SERVING_DB")
    return Path(env).resolve() if env else paths.warehouse_path().parent / "serving.duckdb"


def previous_path(serving: Path) -> Path:
    """The rollback copy of ``serving``: ``serving.duckdb`` -> ``serving.previous.duckdb``."""
    return serving.with_name(f"{serving.stem}.previous{serving.suffix}")


# ---------------------------------------------------------------------------------------------
# Audit 1: dbt results


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
        if status not in OK_STATUSES:
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


# ---------------------------------------------------------------------------------------------
# Audit 0: provenance (the build record against the results and the validation read)


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


# ---------------------------------------------------------------------------------------------
# Publish


@dataclass
class PublishResult:
    serving: Path
    previous: Path | None
    build_id: str
    as_of_date: date | None
    published_at: datetime
    row_counts: dict[str, int]
    dbt: DbtAudit
    validation: ValidationReport | None
    elapsed_seconds: float
    warnings: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        lines = [
            f"Published build {self.build_id} (as of {self.as_of_date}) to {self.serving}",
            f"  dbt: invocation {self.dbt.invocation_id} at {self.dbt.generated_at}: "
            + ", ".join(f"{k}={v}" for k, v in sorted(self.dbt.status_counts.items())),
        ]
        if self.validation is None:
            lines.append("  validation: skipped (--skip-validate)")
        else:
            v = self.validation
            lines.append(
                f"  validation: {v.evaluated - len(v.warnings)} of {v.evaluated} expectations passed on "
                f"{len(v.marts)} marts, {len(v.warnings)} warning(s)"
            )
        lines.extend(f"  {mart}: {n} rows" for mart, n in self.row_counts.items())
        if self.previous:
            lines.append(f"  previous copy (rollback): {self.previous}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        lines.append(f"Done in {self.elapsed_seconds:.1f}s")
        return lines


@contextlib.contextmanager
def _publish_lock(serving: Path) -> Iterator[None]:
    """One publish or rollback at a time per serving file (released when the process dies)."""
    lock_path = serving.with_name(serving.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise PublishError(f"another publish to {serving} is running (lock {lock_path})") from exc
            raise
        yield
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem can fsync a directory
        _fsync_file(path)


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _remove_stale_tmp(serving: Path) -> list[str]:
    """Leftovers of a publish that was killed (only called with the publish lock held)."""
    removed = []
    for p in serving.parent.glob(f"{serving.name}.tmp-*"):
        _remove(p)
        removed.append(p.name)
    return removed


def _pause(var: str, stage: str) -> None:
    seconds = os.environ.get(var)
    if seconds:
        print(f"lifecycle publish: test hook: pausing {seconds}s {stage}", file=sys.stderr, flush=True)
        time.sleep(float(seconds))


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = current_database() "
        "and table_schema = ? order by table_name",
        [MARTS_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def _as_of_date(con: duckdb.DuckDBPyConnection, tables: list[str]) -> date | None:
    for t in ("customers", *tables):
        has_col = con.execute(
            "select count(*) from information_schema.columns where table_catalog = current_database() "
            "and table_schema = ? and table_name = ? and column_name = 'as_of_date'",
            [MARTS_SCHEMA, t],
        ).fetchone()
        if t in tables and has_col and has_col[0]:
            row = con.execute(f"select max(as_of_date) from {MARTS_SCHEMA}.{_ident(t)}").fetchone()
            if row and row[0] is not None:
                return row[0] if isinstance(row[0], date) else None
    return None


def _write_copy(
    src: duckdb.DuckDBPyConnection,
    tmp: Path,
    tables: list[str],
    manifest: dict[str, Any],
    checks: dict[str, Any],
) -> dict[str, int]:
    """Copy the marts and the manifest into the new file ``tmp``; return the row counts."""
    alias = "publish_target"
    src.execute(f"attach {_sql_str(str(tmp))} as {alias} (read_write)")
    try:
        src.execute(f"create schema {alias}.{MARTS_SCHEMA}")
        src.execute(f"create schema {alias}.{MANIFEST_SCHEMA}")
        counts: dict[str, int] = {}
        for i, t in enumerate(tables):
            src.execute(
                f"create table {alias}.{MARTS_SCHEMA}.{_ident(t)} as select * from {MARTS_SCHEMA}.{_ident(t)}"
            )
            n_src = src.execute(f"select count(*) from {MARTS_SCHEMA}.{_ident(t)}").fetchone()
            n_dst = src.execute(f"select count(*) from {alias}.{MARTS_SCHEMA}.{_ident(t)}").fetchone()
            if n_src is None or n_dst is None or n_src[0] != n_dst[0]:
                raise PublishError(f"copy of marts.{t} has {n_dst} rows, the warehouse {n_src}")
            counts[t] = int(n_dst[0])
            if i == 0:
                _pause(PAUSE_DURING_COPY, "during the copy")
        src.execute(
            f"""
            create table {alias}.{MANIFEST_SCHEMA}.{MANIFEST_TABLE} (
                build_id varchar not null,
                as_of_date date,
                published_at timestamp with time zone not null,
                mart varchar not null,
                row_count bigint not null,
                source_warehouse varchar,
                dbt_invocation_id varchar,
                dbt_generated_at varchar,
                dbt_status_counts varchar,
                validation_success boolean,
                expectations_evaluated integer,
                expectations_failed integer,
                checks_summary varchar
            )
            """
        )
        placeholders = ", ".join("?" * 13)
        for t in tables:
            src.execute(
                f"insert into {alias}.{MANIFEST_SCHEMA}.{MANIFEST_TABLE} values ({placeholders})",
                [
                    manifest["build_id"], manifest["as_of_date"], manifest["published_at"], t, counts[t],
                    manifest["source_warehouse"], manifest["dbt_invocation_id"], manifest["dbt_generated_at"],
                    json.dumps(manifest["dbt_status_counts"], sort_keys=True),
                    checks.get("success"), checks.get("evaluated"), checks.get("failed"),
                    json.dumps(checks.get("marts", {}).get(t, {}), sort_keys=True),
                ],
            )
        src.execute(f"checkpoint {alias}")
    finally:
        src.execute(f"detach {alias}")
    return counts


def _verify_copy(tmp: Path, expected: dict[str, int], build_id: str) -> None:
    con = duckdb.connect(str(tmp), read_only=True)
    try:
        for t, n in expected.items():
            row = con.execute(f"select count(*) from {MARTS_SCHEMA}.{_ident(t)}").fetchone()
            if row is None or row[0] != n:
                raise PublishError(f"verification: {tmp.name} marts.{t} has {row} rows, expected {n}")
        ids = con.execute(f"select distinct build_id from {MANIFEST_SCHEMA}.{MANIFEST_TABLE}").fetchall()
        if ids != [(build_id,)]:
            raise PublishError(f"verification: manifest of {tmp.name} holds build ids {ids}, expected {build_id}")
    finally:
        con.close()


def _modified_after_build(db_path: Path, audit: DbtAudit, slack_seconds: float = 300) -> str | None:
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


def _erased_customer_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Resolved and source customer ids of the erased people of the working warehouse.

    Read from ``intermediate.int_customers_erased``, the one erasure model (a view over the staged
    raw files, so the warehouse stores none of these ids).
    """
    try:
        rows = con.execute(
            "select customer_id from intermediate.int_customers_erased "
            "union select identifier_value from intermediate.int_customers_erased "
            "where identifier_type = 'customer_id' order by 1"
        ).fetchall()
    except duckdb.CatalogException:
        return []  # a warehouse without the erasure model has no erasures to honour
    except duckdb.Error as exc:
        # Privacy first: without the list, a serving or rollback copy could keep an erased person.
        raise PublishError(
            f"cannot list the erased customers (intermediate.int_customers_erased reads the raw files "
            f"of the build, LIFECYCLE_RAW_DIR): {exc}"
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


def _keep_previous(serving: Path, build_id: str) -> Path | None:
    """Keep the current serving file as ``serving.previous.duckdb`` (a hard link; a copy if links fail)."""
    if not serving.exists():
        return None
    previous = previous_path(serving)
    staging = serving.with_name(f"{serving.name}.tmp-{build_id}.previous")
    _remove(staging)
    try:
        os.link(serving, staging)
    except OSError:
        import shutil

        shutil.copy2(serving, staging)
        _fsync_file(staging)
    os.replace(staging, previous)
    return previous


def publish(
    db_path: Path,
    serving: Path,
    *,
    skip_validate: bool = False,
    dbt_results: Path | None = None,
    reports_dir: Path | None = None,
) -> PublishResult:
    """Audit the working warehouse ``db_path`` and, when it passes, publish its marts to ``serving``.

    ``dbt_results`` and ``reports_dir`` default to the artefacts of ``db_path``
    (:func:`lifecycle.paths.artefacts`). Raises :class:`PublishError` (serving file untouched) when
    an audit fails or the copy fails.
    """
    t0 = time.perf_counter()
    db_path = Path(db_path).resolve()
    serving = Path(serving).resolve()
    if db_path == serving:
        raise PublishError("the serving file must not be the working warehouse")
    if not db_path.is_file():
        raise PublishError(f"working warehouse {db_path} does not exist: build it first")
    serving.parent.mkdir(parents=True, exist_ok=True)
    artefacts = paths.artefacts(db_path)
    results_path = Path(dbt_results) if dbt_results else artefacts.run_results
    reports = Path(reports_dir) if reports_dir else artefacts.reports
    warnings: list[str] = []

    with _publish_lock(serving):
        stale = _remove_stale_tmp(serving)
        if stale:
            warnings.append(f"removed leftovers of an interrupted publish: {', '.join(stale)}")

        results_id = results_invocation_id(results_path)
        try:
            # One read-only connection for the audit and the copy: a dbt build cannot write the
            # warehouse in between, so what is validated is exactly what is published.
            src = duckdb.connect(str(db_path), read_only=True)
        except duckdb.Error as exc:
            raise PublishError(f"cannot open {db_path} read-only (is a dbt build running?): {exc}") from exc
        try:
            record = check_build_record(read_build_record(src), db_path, results_path, results_id)
            check_validation_report(reports / paths.VALIDATION_REPORT, record, db_path)
            audit = audit_dbt_results(results_path)
            check_record_is_clean_build(record, db_path)
            stale_note = _modified_after_build(db_path, audit)
            if stale_note:
                warnings.append(stale_note)
            tables = _mart_tables(src)
            if not tables:
                raise PublishError(f"no tables in schema '{MARTS_SCHEMA}' of {db_path}")

            report: ValidationReport | None = None
            if not skip_validate:
                try:
                    report = validate_connection(src, reports, db_label=db_path)
                except ValidationError as exc:
                    raise PublishError(f"validation: {exc}") from exc
                if not report.success:
                    shown = "\n".join(f.line() for f in report.failures[:15])
                    where = f" (Data Docs: {report.data_docs_index})" if report.data_docs_index else ""
                    raise PublishError(
                        f"validation: {report.failed} of {report.evaluated} expectations failed{where}:\n{shown}"
                    )
            checks: dict[str, Any] = {}
            if report is not None:
                # Warn-severity failures never block; they are recorded per mart in the manifest.
                checks = {
                    "success": report.success,
                    "evaluated": report.evaluated,
                    "failed": report.failed,
                    "marts": {m.mart: {"evaluated": m.evaluated, "passed": m.passed, "failed": m.failed,
                                       "warned": len(m.warned), "coverage": m.coverage,
                                       "warnings": [w.line().strip() for w in m.warned]}
                              for m in report.marts},
                }
                warnings.extend(f"validation {w.line().strip()}" for w in report.warnings)

            published_at = datetime.now(UTC)
            build_id = f"{published_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
            manifest = {
                "build_id": build_id,
                "as_of_date": _as_of_date(src, tables),
                "published_at": published_at,
                "source_warehouse": str(db_path),
                "dbt_invocation_id": audit.invocation_id,
                "dbt_generated_at": audit.generated_at,
                "dbt_status_counts": audit.status_counts,
            }
            tmp = serving.with_name(f"{serving.name}.tmp-{build_id}")
            erased = _erased_customer_ids(src)
            try:
                counts = _write_copy(src, tmp, tables, manifest, checks)
                src.close()
                _fsync_file(tmp)
                _verify_copy(tmp, counts, build_id)
                _pause(PAUSE_BEFORE_RENAME, "before the rename")
                # An erasure must not survive in the rollback copy: a copy that still holds an
                # erased customer is dropped instead of kept.
                keep = True
                for candidate in (serving, previous_path(serving)):
                    held = _customers_held(candidate, erased)
                    if held:
                        warnings.append(
                            f"{candidate.name} holds {held} customer(s) erased since it was published: "
                            "it is not kept for rollback"
                        )
                        if candidate == serving:
                            keep = False
                        else:
                            _remove(candidate)
                if keep:
                    previous = _keep_previous(serving, build_id)
                else:
                    previous = None
                    _remove(previous_path(serving))
                os.replace(tmp, serving)
                _fsync_dir(serving.parent)
            except BaseException as exc:
                _remove(tmp)
                if isinstance(exc, PublishError):
                    raise
                if isinstance(exc, Exception):
                    raise PublishError(f"publish failed, {serving} is unchanged: {exc}") from exc
                raise
        finally:
            with contextlib.suppress(duckdb.Error):
                src.close()

    return PublishResult(
        serving=serving,
        previous=previous,
        build_id=build_id,
        as_of_date=manifest["as_of_date"],
        published_at=published_at,
        row_counts=counts,
        dbt=audit,
        validation=report,
        elapsed_seconds=time.perf_counter() - t0,
        warnings=warnings,
    )


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """The publish manifest of a serving file, one dict per mart."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(f"select * from {MANIFEST_SCHEMA}.{MANIFEST_TABLE} order by mart")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def _build_id_of(path: Path) -> str:
    try:
        rows = read_manifest(path)
    except duckdb.Error:
        return "unknown build"
    return str(rows[0]["build_id"]) if rows else "unknown build"


def rollback(serving: Path) -> str:
    """Swap ``serving`` with its previous copy (so a second rollback rolls forward again)."""
    serving = Path(serving).resolve()
    previous = previous_path(serving)
    if not previous.is_file():
        raise PublishError(f"no previous copy to roll back to ({previous} does not exist)")
    with _publish_lock(serving):
        if not previous.is_file():
            raise PublishError(f"no previous copy to roll back to ({previous} does not exist)")
        restored = _build_id_of(previous)
        if not serving.exists():
            os.replace(previous, serving)
            _fsync_dir(serving.parent)
            return f"Restored {restored} to {serving}"
        replaced = _build_id_of(serving)
        staging = serving.with_name(f"{serving.name}.tmp-rollback-{uuid.uuid4().hex[:8]}")
        os.link(serving, staging)
        try:
            os.replace(previous, serving)
            os.replace(staging, previous)
        except BaseException:
            _remove(staging)
            raise
        _fsync_dir(serving.parent)
    return f"Rolled back {serving}: now serving {restored}; {replaced} kept as {previous}"
