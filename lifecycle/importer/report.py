"""The import report (stdout and ``<out>/_import_report.json``) and writing the output directory."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lifecycle import schema
from lifecycle.importer.reading import SourceFile

PART_FILE = "part-00000.parquet"
REPORT_FILE = "_import_report.json"
REJECTS_FILE = "_rejects.csv"
MANIFEST_FILE = "_manifest.json"
TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def summary(
    *,
    files: list[SourceFile],
    out: Path,
    rows_read: int,
    rejects: pd.DataFrame,
    anonymous_by_value: pd.Series,
    stats: dict[str, Any],
    rows: pd.DataFrame,
    orders_by: str,
    statuses: dict[str, dict[str, Any]],
    consent_mode: str,
    unrecognised_consent: dict[str, int],
    warnings: list[str],
    loaded_at: dt.datetime,
) -> dict[str, Any]:
    by_reason = {str(k): int(v) for k, v in rejects["reason"].value_counts().sort_index().items()}
    anonymous = {str(k): int(v) for k, v in anonymous_by_value.items()}
    consent_note = {
        "none": "no customer has marketing consent: audiences will be empty (pass --consent-col or "
        "--marketing-consent all if your customers agreed to marketing)",
        "all": "every customer is treated as having marketing consent (--marketing-consent all)",
    }.get(consent_mode, f"marketing consent read from {consent_mode}")
    currencies = {str(k): int(v) for k, v in rows["currency"].value_counts().sort_index().items()}
    result: dict[str, Any] = {
        "files": [
            {
                "file": f.label,
                "path": str(f.path),
                "encoding": f.encoding,
                "encoding_found": f.detected or "the default",
                "delimiter": f.delimiter,
                "rows": f.rows,
            }
            for f in files
        ],
        "rows_read": rows_read,
        "rows_imported": len(rows),
        "rows_anonymous": sum(anonymous.values()),
        "anonymous_by_value": anonymous,
        "rows_rejected": len(rejects),
        "rejected_by_reason": by_reason,
        **stats,
        "orders_by": orders_by,
        "currencies": currencies,
        "statuses": statuses,
        "consent": {
            "mode": consent_mode,
            "customers_consenting": stats["customers_consenting"],
            "unrecognised_values": unrecognised_consent,
            "note": consent_note,
        },
        "date_range": None,
        "warnings": warnings,
        "loaded_at": loaded_at.strftime(TS_FORMAT),
        "out": str(out.resolve()),
    }
    if len(rows):
        result["date_range"] = {
            "first": rows["ts"].min().strftime(TS_FORMAT),
            "last": rows["ts"].max().strftime(TS_FORMAT),
        }
    del result["customers_consenting"]
    return result


def text(report: dict[str, Any]) -> str:
    """The report in words, for the terminal."""
    lines = []
    for f in report["files"]:
        lines.append(
            f"read {f['file']}: {f['rows']} rows ({f['encoding']}: {f['encoding_found']}; delimiter {f['delimiter']!r})"
        )
    lines.append(
        f"rows read {report['rows_read']}: imported {report['rows_imported']} "
        f"(anonymous {report['rows_anonymous']}), rejected {report['rows_rejected']}"
    )
    if report["anonymous_by_value"]:
        shown = ", ".join(f"{k!r} {v}" for k, v in report["anonymous_by_value"].items())
        lines.append(f"  anonymous sales (no customer): {shown}")
    for reason, count in report["rejected_by_reason"].items():
        lines.append(f"  rejected {reason}: {count}")
    lines.append(
        f"customers {report['customers']}, orders {report['orders']} ({report['orders_by']}; "
        f"{report['anonymous_orders']} anonymous, {report['cancelled_orders']} cancelled, "
        f"{report['returned_orders']} returned), lines {report['lines']} ({report['credit_lines']} credit lines)"
    )
    nets = ", ".join(f"{c} {v}" for c, v in report["net_amount_by_currency"].items())
    lines.append(f"net amount of completed orders, credit lines netted: {nets or 'none'}")
    lines.append(f"marketing consent: {report['consent']['note']}")
    lines.extend(f"warning: {w}" for w in report["warnings"])
    if report["rows_rejected"]:
        lines.append(f"rejected rows: {Path(report['out']) / REJECTS_FILE} (and import_rejects -> quarantined_rows)")
    lines.append(f"loaded_at {report['loaded_at']}; raw tables in {report['out']}; report {REPORT_FILE}")
    return "\n".join(lines)


def write(out: Path, tables: dict[str, pa.Table], rejects: pd.DataFrame, report: dict[str, Any]) -> None:
    """Replace the contract tables under ``out`` and write the rejects file, the report and the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    for rt in schema.RAW_TABLES:
        folder = out / rt.name
        if folder.exists():
            shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
        folder.mkdir(parents=True)
        pq.write_table(tables[rt.name], folder / PART_FILE)
    frame = rejects.rename(columns={"file": "source_file", "line": "line_number"})
    frame.insert(0, "reject_id", frame["source_file"] + ":" + frame["line_number"].astype(str))
    frame.to_csv(out / REJECTS_FILE, index=False, lineterminator="\n")
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    manifest = {
        "source": "import",
        "files": [f["path"] for f in report["files"]],
        "tables": {rt.name: {"rows": tables[rt.name].num_rows, "files": 1} for rt in schema.RAW_TABLES},
        "injected": {},
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
