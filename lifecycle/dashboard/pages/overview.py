"""Overview: customers by stage and the change since the previous month end, the revenue and
active-customer trend, and how fresh and how checked the published data is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from lifecycle.dashboard import view
from lifecycle.dashboard.data import Manifest, Serving

TITLE = "Overview"
GUIDE = (
    "How many customers are in each lifecycle stage at the chosen month end (arrows: change since "
    "the month end before), the monthly revenue and buyers, and which checked build you are looking at."
)


def stage_counts(db: Serving, snapshot: Any) -> dict[str, int]:
    """Customers per lifecycle stage in the history at ``snapshot``."""
    df = db.frame(
        "select lifecycle_stage, count(*) as customers from marts.customer_lifecycle_history "
        "where snapshot_date = ? group by 1",
        [snapshot],
    )
    return {str(s): int(n) for s, n in zip(df["lifecycle_stage"], df["customers"], strict=True)}


def current_stage_counts(db: Serving) -> dict[str, int]:
    """Customers per lifecycle stage now (``customer_lifecycle``)."""
    df = db.frame("select lifecycle_stage, count(*) as customers from marts.customer_lifecycle group by 1")
    return {str(s): int(n) for s, n in zip(df["lifecycle_stage"], df["customers"], strict=True)}


def render(db: Serving) -> None:
    manifest = db.manifest()
    _freshness(manifest)
    months = view.snapshot_months(db)
    snapshot = view.month_filter(db, key="overview_month")
    if snapshot is None:
        view.nothing("No customer history in this build: there are no customers to count.")
    else:
        idx = months.index(snapshot)
        before = months[idx + 1] if idx + 1 < len(months) else None
        _stages(db, snapshot, before, is_as_of=idx == 0)
    _trend(db)
    _manifest(manifest)


def _freshness(manifest: Manifest) -> None:
    as_of, published = manifest.as_of_date, manifest.published_at
    warnings = [w for c in manifest.checks().values() for w in c.get("warnings", [])]
    evaluated, failed = manifest.first("expectations_evaluated"), manifest.first("expectations_failed")
    cols = st.columns(4)
    cols[0].metric("Data as of", f"{as_of:%Y-%m-%d}" if as_of else "unknown")
    verdict = {True: "passed", False: "FAILED", None: "passed before"}[manifest.validation_success]
    cols[1].metric("Validation", verdict)
    cols[2].metric("Checks passed", "-" if evaluated is None else f"{evaluated - (failed or 0):,} / {evaluated:,}")
    cols[3].metric("Warnings", "-" if evaluated is None else f"{len(warnings):,}")
    if published is not None:
        hours = (datetime.now(UTC) - published).total_seconds() / 3600
        st.caption(f"Build {manifest.build_id}, published {published:%Y-%m-%d %H:%M} UTC ({hours:,.1f} hours ago).")


def _stages(db: Serving, snapshot: Any, before: Any | None, *, is_as_of: bool) -> None:
    now = current_stage_counts(db) if is_as_of else stage_counts(db, snapshot)
    prev = stage_counts(db, before) if before is not None else {}
    st.subheader(f"Customers by lifecycle stage, {snapshot:%Y-%m-%d}")
    order = [s for s in view.stage_order() if s in now or s in prev]
    if not order:
        view.nothing("No customer at this month end.")
        return
    cols = st.columns(len(order))
    for col, stage in zip(cols, order, strict=True):
        col.metric(
            stage.replace("_", " "),
            f"{now.get(stage, 0):,}",
            view.metric_delta(now.get(stage, 0), prev.get(stage, 0)) if before is not None else None,
            delta_color="off",
        )
    caption = f"Change since {before:%Y-%m-%d}." if before is not None else "No earlier month end to compare with."
    st.caption(f"{sum(now.values()):,} customers. {caption}")
    df = pd.DataFrame(
        {"stage": order, "customers": [now.get(s, 0) for s in order], "previous": [prev.get(s, 0) for s in order]}
    )
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("customers:Q", title="customers"),
            y=alt.Y("stage:N", sort=order, title=None),
            color=view.stage_color("stage", order, legend=False),
            tooltip=["stage", "customers", "previous"],
        )
        .properties(height=30 * len(order) + 20)
    )
    view.altair(bars)


def _trend(db: Serving) -> None:
    st.subheader("Revenue and active customers by month")
    df = db.frame(
        "select period_end_date, is_partial_month, revenue, total_revenue, active_customers "
        "from marts.kpi_monthly where dimension = 'overall' order by period_end_date"
    )
    if df.empty:
        view.nothing("No monthly KPIs in this build (no purchases before the as-of date).")
        return
    df["revenue"] = df["revenue"].astype(float)
    df["total_revenue"] = df["total_revenue"].astype(float)
    df["month"] = df["period_end_date"].astype(str) + df["is_partial_month"].map({True: " (part)", False: ""})
    base = alt.Chart(df).encode(x=alt.X("period_end_date:T", title="month end"))
    revenue = base.mark_line(point=True).encode(
        y=alt.Y("total_revenue:Q", title="net revenue (known + anonymous)"),
        tooltip=["month", "revenue", "total_revenue", "active_customers"],
    )
    active = base.mark_bar(opacity=0.35, color="#888").encode(
        y=alt.Y("active_customers:Q", title="active customers"),
        tooltip=["month", "active_customers"],
    )
    view.altair(alt.layer(active, revenue).resolve_scale(y="independent").properties(height=300))
    if bool(df["is_partial_month"].iloc[-1]):
        st.caption("The last month is a part month (up to the as-of date): not comparable with full months.")


def _manifest(manifest: Manifest) -> None:
    checks = manifest.checks()
    warnings = [w for c in checks.values() for w in c.get("warnings", [])]
    with st.expander(f"Last publish: {len(manifest.rows)} marts, {len(warnings)} warnings"):
        for w in warnings:
            st.warning(w)
        rows = pd.DataFrame(manifest.rows)[["mart", "row_count"]] if manifest.rows else pd.DataFrame()
        view.table(rows)
