"""``lifecycle export-audience``: the contactable customers of ``lifecycle_audiences``, for the tools
that act on them (an ESP, a CRM, a direct-mail house), with a manifest of counts.

Only validated data leaves: by default the published serving copy (every mart in it passed the
audit of ``lifecycle publish``, and erased customers are already gone from it); with ``--db`` a
working warehouse whose latest dbt invocation is a clean full build that ``lifecycle validate``
passed. Anything else is refused in one line.

What leaves is :data:`EXPORT_COLUMNS`: the customer key the marketing tool matches to its own
profile (``customer_id``, the CRM id of the person), the action, channel, priority and value at
stake, and the facts that personalise the message. No name, email, phone or address: the marts
hold none, and ``lifecycle_audiences`` holds only customers with marketing consent (and no email
action for anyone who unsubscribed from email).

The file is written next to ``--out`` and renamed over it when complete; the manifest
(``<out>.manifest.json``) names the build, the filters, the row count by action and channel and the
file's SHA-256, so a pick-up job can check it has the whole file of the build it expects.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from lifecycle import paths
from lifecycle.build_record import read_build_record
from lifecycle.publish.audit import check_record_is_clean_build, check_validation_report
from lifecycle.publish.catalog import ident, literal
from lifecycle.publish.errors import PublishError
from lifecycle.publish.files import sha256_file
from lifecycle.publish.serving import MANIFEST_SCHEMA, MANIFEST_TABLE

AUDIENCE_TABLE = "marts.lifecycle_audiences"
PLAYBOOK_SEED = paths.PROJECT_ROOT / "seeds" / "lifecycle_playbook.csv"
EXPORT_COLUMNS = (
    "customer_id",
    "as_of_date",
    "action",
    "channel",
    "priority",
    "value_at_stake",
    "lifecycle_stage",
    "clv_tier",
    "days_in_stage",
    "favourite_category",
    "reason",
)
FORMATS = ("csv", "parquet")


class AudienceError(Exception):
    """The export was refused or failed; ``--out`` is untouched."""


@dataclass(frozen=True)
class Source:
    """Where the audience is read from, and which validated build it is."""

    path: Path
    kind: str  # "serving copy" or "working warehouse"
    build: str  # the publish build id, or the dbt invocation id
    as_of_date: date | None
    validated: str  # how it was validated


def playbook_actions(seed: Path = PLAYBOOK_SEED) -> set[str]:
    """Every action the playbook can assign (cell actions and one-time-buyer actions)."""
    with seed.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {r[c] for r in rows for c in ("action", "one_time_buyer_action") if r.get(c)}


def _serving_source(con: duckdb.DuckDBPyConnection, path: Path) -> Source:
    try:
        rows = con.execute(
            f"select build_id, as_of_date, published_at, validation_success, expectations_evaluated "
            f"from {MANIFEST_SCHEMA}.{MANIFEST_TABLE} where mart = 'lifecycle_audiences'"
        ).fetchall()
    except duckdb.Error as exc:
        raise AudienceError(
            f"{path} has no publish manifest: it is not a serving copy written by 'lifecycle publish'"
        ) from exc
    if not rows:
        raise AudienceError(f"the publish manifest of {path} lists no lifecycle_audiences: publish a full build")
    build_id, as_of, published_at, success, evaluated = rows[0]
    if success is False:
        raise AudienceError(f"the publish manifest of {path} says build {build_id} failed validation")
    how = (
        f"published {published_at:%Y-%m-%d %H:%M:%S}Z, {evaluated} expectations passed"
        if success
        else f"published {published_at:%Y-%m-%d %H:%M:%S}Z from a validated build (re-validation skipped)"
    )
    return Source(path, "serving copy", str(build_id), as_of, how)


def _warehouse_source(con: duckdb.DuckDBPyConnection, path: Path) -> Source:
    record = read_build_record(con)
    if record is None:
        raise AudienceError(f"{path} has no build record: build it with 'lifecycle dbt build' and validate it")
    try:
        check_record_is_clean_build(record, path)
        report = check_validation_report(paths.artefacts(path).validation_report, record, path)
    except PublishError as exc:
        raise AudienceError(str(exc)) from exc
    as_of = con.execute(f"select max(as_of_date) from {AUDIENCE_TABLE}").fetchone()
    return Source(
        path,
        "working warehouse",
        record.invocation_id or "unknown",
        as_of[0] if as_of else None,
        f"validation report of invocation {report.get('dbt_invocation_id')} passed",
    )


def audience_query(action: str | None = None, channel: str | None = None) -> str:
    """The SELECT of what leaves: :data:`EXPORT_COLUMNS` of the audience, optionally of one action
    and/or channel, by priority then value at stake (the export and the dashboard's download)."""
    filters = [f"{ident(col)} = {literal(value)}" for col, value in (("action", action), ("channel", channel)) if value]
    where = (" where " + " and ".join(filters)) if filters else ""
    return (
        f"select {', '.join(ident(c) for c in EXPORT_COLUMNS)} from {AUDIENCE_TABLE}{where} "
        "order by priority, value_at_stake desc nulls last, customer_id"
    )


def export_audience(
    out: Path,
    *,
    serving: Path | None = None,
    db: Path | None = None,
    action: str | None = None,
    channel: str | None = None,
    fmt: str = "csv",
) -> dict[str, Any]:
    """Write the audience to ``out`` and its manifest to ``<out>.manifest.json``; return the manifest."""
    if fmt not in FORMATS:
        raise AudienceError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if action is not None and action not in playbook_actions():
        raise AudienceError(
            f"unknown action {action!r}: the playbook's actions are {', '.join(sorted(playbook_actions()))}"
        )
    if db is None and serving is None:
        raise AudienceError("name a serving copy (--serving) or a working warehouse (--db)")
    source_path = Path(db if db is not None else serving).resolve()  # type: ignore[arg-type]
    if not source_path.is_file():
        what = "working warehouse" if db else "serving copy"
        raise AudienceError(f"no {what} at {source_path}: run 'make build' (build, validate, publish) first")
    out = out.resolve()
    if not out.parent.is_dir():
        raise AudienceError(f"the folder of --out does not exist: {out.parent}")

    try:
        con = duckdb.connect(str(source_path), read_only=True)
    except duckdb.Error as exc:
        raise AudienceError(f"cannot open {source_path} read-only: {str(exc).splitlines()[0]}") from exc
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        source = _warehouse_source(con, source_path) if db else _serving_source(con, source_path)
        select = audience_query(action, channel)
        options = "format csv, header true" if fmt == "csv" else "format parquet, compression zstd"
        con.execute(f"copy ({select}) to {literal(str(tmp))} ({options})")
        counts = con.execute(
            f"select action, channel, count(*), sum(value_at_stake) from ({select}) group by 1, 2 order by 1, 2"
        ).fetchall()
    except duckdb.Error as exc:
        tmp.unlink(missing_ok=True)
        raise AudienceError(f"cannot read {AUDIENCE_TABLE} from {source_path}: {str(exc).splitlines()[0]}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()

    rows = sum(int(n) for _, _, n, _ in counts)
    manifest: dict[str, Any] = {
        "file": str(out),
        "format": fmt,
        "rows": rows,
        "sha256": sha256_file(tmp),
        "columns": list(EXPORT_COLUMNS),
        "filters": {"action": action, "channel": channel},
        "by_action_channel": [
            {"action": a, "channel": c, "customers": int(n), "value_at_stake": float(v or 0)} for a, c, n, v in counts
        ],
        "source": {
            "path": str(source.path),
            "kind": source.kind,
            "build": source.build,
            "as_of_date": source.as_of_date.isoformat() if source.as_of_date else None,
            "validated": source.validated,
        },
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    manifest_path = out.with_name(out.name + ".manifest.json")
    os.replace(tmp, out)
    manifest_tmp = manifest_path.with_name(f".{manifest_path.name}.tmp-{os.getpid()}")
    manifest_tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(manifest_tmp, manifest_path)
    return manifest


def summary_lines(manifest: dict[str, Any]) -> list[str]:
    src = manifest["source"]
    lines = [
        f"Exported {manifest['rows']} customers to {manifest['file']} ({manifest['format']})",
        f"  from the {src['kind']} {src['path']} (build {src['build']}, as of {src['as_of_date']}; {src['validated']})",
    ]
    lines.extend(
        f"  {r['action']} / {r['channel']}: {r['customers']} customers, value at stake {r['value_at_stake']:,.2f}"
        for r in manifest["by_action_channel"]
    )
    lines.append(f"  manifest: {manifest['file']}.manifest.json")
    return lines
