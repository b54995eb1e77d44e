"""Segments: the RFM grid (``customer_segments``) and how segments and stages moved over the last
``segment_migration_days`` (``segment_migration``)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from lifecycle.dashboard import view
from lifecycle.dashboard.data import Serving

TITLE = "Segments"
GUIDE = (
    "Top: buyers by recency score (5 = bought most recently) and frequency score (5 = buys most "
    "often); the colour is their mean monetary score. Bottom: the share of each earlier segment or "
    "stage (rows) that is in each one now (columns); the diagonal stayed put."
)
MIGRATION_DIMENSIONS = {"RFM segment": "rfm_segment", "Lifecycle stage": "lifecycle_stage"}


def render(db: Serving) -> None:
    cols = st.columns(2)
    with cols[0]:
        region = view.pick("Region", view.distinct(db, "customer_segments", "region"), key="segments_region")
    with cols[1]:
        channel = view.pick(
            "Preferred channel", view.distinct(db, "customer_segments", "preferred_channel"), key="segments_channel"
        )
    where, params = ["recency_score is not null"], []
    for column, value in (("region", region), ("preferred_channel", channel)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    grid = db.frame(
        "select recency_score, frequency_score, count(*) as customers, avg(monetary_score) as mean_monetary_score "
        f"from marts.customer_segments where {' and '.join(where)} group by 1, 2",
        params,
    )
    sizes = db.frame(
        f"select rfm_segment, count(*) as customers from marts.customer_segments where {' and '.join(where)} "
        "group by 1 order by 2 desc",
        params,
    )
    st.subheader("RFM grid")
    if view.readable(db, "customer_segments", grid):
        _grid(grid)
        bars = (
            alt.Chart(sizes)
            .mark_bar()
            .encode(
                x=alt.X("customers:Q"),
                y=alt.Y("rfm_segment:N", sort="-x", title="RFM segment"),
                tooltip=["rfm_segment", "customers"],
            )
            .properties(height=26 * len(sizes) + 20)
        )
        view.altair(bars)
    st.subheader("Segment migration")
    _migration(db)


def _grid(grid: pd.DataFrame) -> None:
    base = alt.Chart(grid).encode(
        x=alt.X("frequency_score:O", title="frequency score", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("recency_score:O", sort="descending", title="recency score"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "mean_monetary_score:Q", title="mean monetary score", scale=alt.Scale(scheme="goldgreen", domain=[1, 5])
        ),
        tooltip=["recency_score", "frequency_score", "customers", alt.Tooltip("mean_monetary_score:Q", format=".2f")],
    )
    labels = base.mark_text(baseline="middle").encode(text="customers:Q")
    view.altair((cells + labels).properties(height=320))


def _migration(db: Serving) -> None:
    label = st.radio("Compare", list(MIGRATION_DIMENSIONS), horizontal=True, key="segments_migration")
    df = db.frame(
        "select comparison_date, as_of_date, from_value, to_value, customers, share_of_from_value "
        "from marts.segment_migration where dimension = ?",
        [MIGRATION_DIMENSIONS[label]],
    )
    if not view.readable(db, "segment_migration", df):
        return
    then, now = df["comparison_date"].iloc[0], df["as_of_date"].iloc[0]
    heat = (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X("to_value:N", title=f"{label} on {now:%Y-%m-%d}"),
            y=alt.Y("from_value:N", title=f"{label} on {then:%Y-%m-%d}"),
            color=alt.Color("share_of_from_value:Q", title="share of row", scale=alt.Scale(scheme="oranges")),
            tooltip=["from_value", "to_value", "customers", alt.Tooltip("share_of_from_value:Q", format=".1%")],
        )
        .properties(height=30 * df["from_value"].nunique() + 60)
    )
    text = heat.mark_text(baseline="middle").encode(text="customers:Q", color=alt.value("black"))
    view.altair(heat + text)
    st.caption("'none': not yet a customer on the earlier date. Numbers are customers; the colour is the row share.")
