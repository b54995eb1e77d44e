"""Data quality: the validation results the publish recorded (``meta.publish_manifest``, or the
``validation.json`` of the warehouse it came from), the rows set aside (``quarantined_rows``) and
what the data can support (``data_coverage``). All text and charts: readable without internet."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from lifecycle.dashboard import view
from lifecycle.dashboard.data import Manifest, Serving
from lifecycle.reference import seed_rows

TITLE = "Data quality"
GUIDE = (
    "Can these numbers be trusted: the checks this copy passed before it was published (errors block a "
    "publish, warnings do not), the raw rows set aside and why, and which marts the data can support."
)


def render(db: Serving) -> None:
    manifest = db.manifest()
    _validation(manifest)
    _quarantine(db)
    _coverage(db)


def _per_mart(manifest: Manifest) -> tuple[pd.DataFrame, list[str], list[str], str]:
    """Per-mart results, the warning lines, the error lines and where they were read from."""
    checks = {m: c for m, c in manifest.checks().items() if c}
    if checks:
        rows = [{"mart": m, **{k: v for k, v in c.items() if k != "warnings"}} for m, c in checks.items()]
        warnings = [w for c in checks.values() for w in c.get("warnings", [])]
        return pd.DataFrame(rows), warnings, [], "the publish manifest of this copy"
    report = manifest.validation_report()
    if report is None:
        return pd.DataFrame(), [], [], ""
    rows = [
        {k: m.get(k) for k in ("mart", "evaluated", "passed", "failed", "warned", "coverage")} for m in report["marts"]
    ]
    warnings = [
        f"WARN {w['mart']}: {w['expectation']} {w.get('column') or ''} {w['observed']}" for w in report["warnings"]
    ]
    errors = [
        f"FAIL {m['mart']}: {f['expectation']} {f.get('column') or ''} {f['observed']}"
        for m in report["marts"]
        for f in m.get("failures", [])
    ]
    return (
        pd.DataFrame(rows),
        warnings,
        errors,
        f"the validation report {report.get('db', '')} (re-validation was skipped)",
    )


def _validation(manifest: Manifest) -> None:
    st.subheader("Validation of the published build")
    per_mart, warnings, errors, source = _per_mart(manifest)
    if per_mart.empty:
        view.nothing(
            "This copy was published without re-running the checks and the validation report of its "
            "warehouse is not on this machine: run 'lifecycle validate' and publish again to see them."
        )
        return
    evaluated = int(per_mart["evaluated"].sum())
    failed = int(per_mart["failed"].sum())
    cols = st.columns(4)
    cols[0].metric("Expectations", f"{evaluated:,}")
    cols[1].metric("Passed", f"{evaluated - failed - len(warnings):,}")
    cols[2].metric("Errors", f"{failed:,}")
    cols[3].metric("Warnings", f"{len(warnings):,}")
    st.caption(f"Read from {source}; build {manifest.build_id}, as of {manifest.as_of_date}.")
    for line in errors:
        st.error(line)
    for line in warnings:
        st.warning(line)
    if not errors and not warnings:
        st.success("Every expectation passed.")
    view.table(per_mart)


def _reasons() -> dict[str, str]:
    return {r["quarantine_reason"]: r["reason_description"] for r in seed_rows("quarantine_reasons")}


def _quarantine(db: Serving) -> None:
    st.subheader("Rows set aside (quarantine) by reason")
    df = db.frame(
        "select quarantine_reason, detected_in, source_table, count(*) as raw_rows "
        "from marts.quarantined_rows group by 1, 2, 3 order by raw_rows desc"
    )
    if df.empty:
        view.nothing("No raw row was set aside: every row of the raw data made it into the warehouse.")
        return
    descriptions = _reasons()
    by_reason = df.groupby(["quarantine_reason", "detected_in"], as_index=False)["raw_rows"].sum()
    by_reason["meaning"] = by_reason["quarantine_reason"].map(descriptions).fillna("")
    bars = (
        alt.Chart(by_reason)
        .mark_bar()
        .encode(
            x=alt.X("raw_rows:Q", title="raw rows"),
            y=alt.Y("quarantine_reason:N", sort="-x", title=None, axis=alt.Axis(labelLimit=300)),
            color=alt.Color("detected_in:N", title="detected in"),
            tooltip=["quarantine_reason", "detected_in", "raw_rows", "meaning"],
        )
        .properties(height=26 * by_reason["quarantine_reason"].nunique() + 30)
    )
    view.altair(bars)
    st.caption(f"{int(df['raw_rows'].sum()):,} raw rows set aside, each with its reason.")
    with st.expander("By source table, with what each reason means"):
        df["meaning"] = df["quarantine_reason"].map(descriptions).fillna("")
        view.table(df)


def _coverage(db: Serving) -> None:
    st.subheader("What this data can support")
    df = db.frame("select mart, status, reason, row_count from marts.data_coverage order by status, mart")
    if df.empty:
        view.nothing("No coverage assessment in this build.")
        return
    limited = df[df["status"] != "complete"]
    if limited.empty:
        st.success("Every assessed mart is complete on this data.")
    for row in limited.itertuples():
        _say(row)
    view.table(df)


def _say(row: Any) -> None:
    text = f"{row.mart}: {row.status.replace('_', ' ')}. {row.reason}"
    (st.warning if row.status == "not_meaningful" else st.info)(text)
