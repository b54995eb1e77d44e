"""Cohorts: retention by first-purchase month and months since, and the realised LTV curves
(``cohort_retention``)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from lifecycle.dashboard import view
from lifecycle.dashboard.data import Serving

TITLE = "Cohorts"
GUIDE = (
    "Each row is the customers who first bought in one month: the share of them buying again N months "
    "later (darker holds better), and below, their cumulative net revenue per customer (steeper is worth more)."
)


def render(db: Serving) -> None:
    df = db.frame(
        "select cohort_month, months_since_first_purchase, activity_month, is_partial_month, cohort_customers, "
        "active_customers, retention_rate, cumulative_revenue_per_customer "
        "from marts.cohort_retention order by cohort_month, months_since_first_purchase"
    )
    if not view.readable(db, "cohort_retention", df):
        return
    df["cohort"] = df["cohort_month"].dt.strftime("%Y-%m")
    df["cumulative_revenue_per_customer"] = df["cumulative_revenue_per_customer"].astype(float)
    cohorts = sorted(df["cohort"].unique())
    if len(cohorts) > 1:
        first, last = st.select_slider(
            "First-purchase months", options=cohorts, value=(cohorts[0], cohorts[-1]), key="cohorts_range"
        )
        df = df[(df["cohort"] >= first) & (df["cohort"] <= last)]
    full = df[~df["is_partial_month"]]
    st.subheader("Retention by cohort")
    later = df[df["months_since_first_purchase"] > 0]
    if later.empty:
        view.nothing("No cohort has a month after its first-purchase month yet: retention cannot be shown.")
    else:
        _heatmap(later)
    st.subheader("Realised LTV: cumulative net revenue per cohort customer")
    if full.empty:
        view.nothing("Only the current part month has purchases: no full month to draw a curve from yet.")
        return
    _curves(full)


def _heatmap(df: pd.DataFrame) -> None:
    heat = (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X("months_since_first_purchase:O", title="months since first purchase"),
            y=alt.Y("cohort:O", title="first-purchase month"),
            color=alt.Color("retention_rate:Q", title="retention", scale=alt.Scale(scheme="blues")),
            tooltip=[
                "cohort",
                "months_since_first_purchase",
                "cohort_customers",
                "active_customers",
                alt.Tooltip("retention_rate:Q", format=".1%"),
                "is_partial_month",
            ],
        )
        .properties(height=max(200, 14 * df["cohort"].nunique()))
    )
    view.altair(heat)
    st.caption(
        "Month 0, the first-purchase month (100 % by definition), is left out; the newest cell of each "
        "cohort may be a part month."
    )


def _curves(full: pd.DataFrame) -> None:
    curves = (
        alt.Chart(full)
        .mark_line()
        .encode(
            x=alt.X("months_since_first_purchase:Q", title="months since first purchase"),
            y=alt.Y("cumulative_revenue_per_customer:Q", title="cumulative net revenue per customer"),
            color=alt.Color("cohort_month:T", title="first-purchase month", scale=alt.Scale(scheme="viridis")),
            detail="cohort:N",
            tooltip=["cohort", "months_since_first_purchase", "cohort_customers", "cumulative_revenue_per_customer"],
        )
        .properties(height=340)
    )
    view.altair(curves)
