"""``lifecycle publish`` and ``publish --rollback``: audit, copy, verify, swap (and swap back)."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from lifecycle.publish.audit import DbtAudit, audit_warehouse, results_invocation_id
from lifecycle.publish.errors import PublishError
from lifecycle.publish.files import (
    PAUSE_BEFORE_RENAME,
    fsync_dir,
    fsync_file,
    pause,
    previous_path,
    publish_lock,
    refuse_writers,
    remove_db,
    seal_path,
    swap_in,
)
from lifecycle.publish.privacy import Erasures
from lifecycle.publish.seal import seal_tmp_path, verify_seal, write_seal
from lifecycle.publish.serving import verify_copy, write_copy
from lifecycle.publish.source import audit_inputs, check_warehouse, new_manifest, open_read_only
from lifecycle.validation_report import ValidationReport


@dataclass
class PublishResult:
    serving: Path | str  # the serving file, or the PostgreSQL database (its URL without password)
    previous: Path | str | None  # the rollback copy (a file, or a schema of that database)
    build_id: str
    as_of_date: date | None
    published_at: datetime
    row_counts: dict[str, int]
    dbt: DbtAudit
    validation: ValidationReport | None
    elapsed_seconds: float
    warnings: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step, when the target times them

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
        steps = ", ".join(f"{step} {seconds:.1f}s" for step, seconds in self.phases.items())
        lines.append(f"Done in {self.elapsed_seconds:.1f}s" + (f" ({steps})" if steps else ""))
        return lines


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
    serving = Path(serving).resolve()
    if Path(db_path).resolve() == serving:
        raise PublishError("the serving file must not be the working warehouse")
    db_path = check_warehouse(db_path)
    serving.parent.mkdir(parents=True, exist_ok=True)
    results_path, reports = audit_inputs(db_path, dbt_results, reports_dir)
    warnings: list[str] = []

    with publish_lock(serving) as lock:
        refuse_writers(serving, previous_path(serving))
        stale = lock.remove_leftovers()
        if stale:
            warnings.append(f"removed leftovers of an interrupted publish: {', '.join(stale)}")
        warnings.extend(_wal_notes(lock.remove_stale_wals()))

        results_id = results_invocation_id(results_path)
        src = open_read_only(db_path)
        try:
            audit = audit_warehouse(src, db_path, results_path, results_id, reports, skip_validate=skip_validate)
            warnings.extend(audit.warnings)
            manifest = new_manifest(src, db_path, audit)
            build_id, published_at = manifest["build_id"], manifest["published_at"]
            tmp = serving.with_name(f"{serving.name}.tmp-{build_id}")
            seal = seal_tmp_path(tmp)
            erasures = Erasures.read(src)
            try:
                counts = write_copy(src, tmp, audit.tables, manifest, audit.checks)
                src.close()
                fsync_file(tmp)
                verify_copy(tmp, counts, build_id)
                write_seal(tmp, build_id, published_at.isoformat(), seal)
                pause(PAUSE_BEFORE_RENAME, "before the rename")
                # An erasure must not survive in the rollback copy: a copy that still holds an
                # erased customer is dropped instead of kept.
                keep_current, notes = erasures.prune_rollback_copies(serving)
                warnings.extend(notes)
                refuse_writers(serving)  # a client may have opened it read-write meanwhile
                warnings.extend(_wal_notes(lock.remove_stale_wals()))
                previous = swap_in(tmp, serving, build_id, keep_current=keep_current, seal=seal)
                warnings.extend(_wal_notes(lock.remove_stale_wals()))
            except BaseException as exc:
                remove_db(tmp)
                remove_db(seal)
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
        dbt=audit.dbt,
        validation=audit.validation,
        elapsed_seconds=time.perf_counter() - t0,
        warnings=warnings,
    )


def _wal_notes(removed: list[str]) -> list[str]:
    return [
        f"removed {w}: a read-write client's uncheckpointed edits of a published file, never validated" for w in removed
    ]


def rollback(serving: Path) -> str:
    """Swap ``serving`` with its previous copy (so a second rollback rolls forward again).

    The previous copy must match its seal (:func:`lifecycle.publish.seal.verify_seal`): a copy
    changed since it was published is never put back."""
    serving = Path(serving).resolve()
    previous = previous_path(serving)
    if not previous.is_file():
        raise PublishError(f"no previous copy to roll back to ({previous} does not exist)")
    with publish_lock(serving) as lock:
        if not previous.is_file():
            raise PublishError(f"no previous copy to roll back to ({previous} does not exist)")
        refuse_writers(serving, previous)
        notes = _wal_notes(lock.remove_stale_wals())
        try:
            restored = verify_seal(previous).build_id
        except PublishError as exc:
            raise PublishError(f"refused: the rollback copy is not as published: {exc}") from exc
        if not serving.exists():
            os.replace(previous, serving)
            os.replace(seal_path(previous), seal_path(serving))
            fsync_dir(serving.parent)
            return "\n".join([f"Restored {restored} to {serving}", *notes])
        try:
            replaced = f"build {verify_seal(serving).build_id}"
        except PublishError as exc:  # a damaged current file may still be rolled back from
            replaced = f"the current file ({exc})"
        staging = serving.with_name(f"{serving.name}.tmp-rollback-{uuid.uuid4().hex[:8]}")
        os.link(serving, staging)
        try:
            os.replace(previous, serving)
            os.replace(staging, previous)
        except BaseException:
            remove_db(staging)
            raise
        _swap_seals(previous, serving)
        fsync_dir(serving.parent)
    return "\n".join([f"Rolled back {serving}: now serving build {restored}; {replaced} kept as {previous}", *notes])


def _swap_seals(a: Path, b: Path) -> None:
    """Exchange the seals of ``a`` and ``b`` (after their files were exchanged); either may be missing."""
    seal_a, seal_b = seal_path(a), seal_path(b)
    staging = seal_a.with_name(seal_a.name + f".tmp-{uuid.uuid4().hex[:8]}")
    if seal_a.exists():
        os.replace(seal_a, staging)
    if seal_b.exists():
        os.replace(seal_b, seal_a)
    if staging.exists():
        os.replace(staging, seal_b)


def check(serving: Path) -> str:
    """``lifecycle publish --check``: the serving file is exactly what was published (its seal)."""
    serving = Path(serving).resolve()
    seal = verify_seal(serving)
    return (
        f"{serving}: build {seal.build_id}, published {seal.published_at}, {seal.size} bytes, "
        f"SHA-256 {seal.sha256[:16]}...: as published"
    )
