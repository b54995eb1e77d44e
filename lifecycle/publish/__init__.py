"""Write-audit-publish of the marts to a serving file (``lifecycle publish``).

Audit, then publish only what passed. Artefacts are those of the warehouse given
(:func:`lifecycle.paths.artefacts`: ``<warehouse dir>/<stem>/target`` and ``.../reports``) unless
``--dbt-results`` / ``--reports`` name others. One module per concern:

* :mod:`~lifecycle.publish.audit`: provenance (build record vs run results vs validation report),
  the dbt results, the validation re-run.
* :mod:`~lifecycle.publish.serving`: what a serving file holds (the marts, ``meta.publish_manifest``):
  written, verified, read.
* :mod:`~lifecycle.publish.files`: file safety: the publish lock, fsync, the atomic swap, the
  rollback copy, the test hooks.
* :mod:`~lifecycle.publish.privacy`: no rollback copy keeps a customer erased since it was published.
* :mod:`~lifecycle.publish.run`: :func:`publish` and :func:`rollback`, the steps in order.

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

from lifecycle.publish.audit import (
    OK_STATUSES,
    DbtAudit,
    audit_dbt_results,
    check_build_record,
    check_record_is_clean_build,
    check_validation_report,
    results_invocation_id,
)
from lifecycle.publish.errors import PublishError
from lifecycle.publish.files import PAUSE_BEFORE_RENAME, PAUSE_DURING_COPY, default_serving_path, previous_path
from lifecycle.publish.run import PublishResult, check, publish, rollback
from lifecycle.publish.serving import MANIFEST_SCHEMA, MANIFEST_TABLE, read_manifest

__all__ = [
    "MANIFEST_SCHEMA",
    "MANIFEST_TABLE",
    "OK_STATUSES",
    "PAUSE_BEFORE_RENAME",
    "PAUSE_DURING_COPY",
    "DbtAudit",
    "PublishError",
    "PublishResult",
    "audit_dbt_results",
    "check",
    "check_build_record",
    "check_record_is_clean_build",
    "check_validation_report",
    "default_serving_path",
    "previous_path",
    "publish",
    "read_manifest",
    "results_invocation_id",
    "rollback",
]
