"""Audiences: the contactable customers of ``lifecycle_audiences`` by next best action and channel,
the list itself and a CSV download of exactly what ``lifecycle export-audience`` writes."""

from __future__ import annotations

import altair as alt
import streamlit as st

from lifecycle.audience import audience_query
from lifecycle.dashboard import view
from lifecycle.dashboard.data import Serving

TITLE = "Audiences"
GUIDE = (
    "Who to contact next and how: customers with marketing consent by playbook action and channel, "
    "most urgent first (priority 1), with the predicted value the action protects; download the list as CSV."
)
TABLE_ROWS = 1000  # rows shown in the table; the download has them all


def render(db: Serving) -> None:
    counts = db.frame(
        "select action, channel, count(*) as customers, coalesce(sum(value_at_stake), 0) as value_at_stake, "
        "min(priority) as priority from marts.lifecycle_audiences group by 1, 2 order by priority, customers desc"
    )
    if not view.readable(db, "lifecycle_audiences", counts):
        return
    cols = st.columns(2)
    with cols[0]:
        action = view.pick("Action", sorted(counts["action"].unique()), key="audiences_action")
    with cols[1]:
        channel = view.pick("Channel", sorted(counts["channel"].unique()), key="audiences_channel")
    shown = counts
    if action is not None:
        shown = shown[shown["action"] == action]
    if channel is not None:
        shown = shown[shown["channel"] == channel]
    metrics = st.columns(3)
    metrics[0].metric("Customers", f"{int(shown['customers'].sum()):,}")
    metrics[1].metric("Value at stake", f"{float(shown['value_at_stake'].sum()):,.0f}")
    metrics[2].metric("Actions", f"{shown['action'].nunique():,}")
    if shown.empty:
        view.nothing("No customer has this action on this channel today.")
        return
    st.subheader("Customers by action and channel")
    bars = (
        alt.Chart(shown)
        .mark_bar()
        .encode(
            x=alt.X("customers:Q"),
            y=alt.Y("action:N", sort="-x", title=None, axis=alt.Axis(labelLimit=300)),
            color=alt.Color("channel:N"),
            tooltip=["action", "channel", "customers", "priority", alt.Tooltip("value_at_stake:Q", format=",.0f")],
        )
        .properties(height=28 * shown["action"].nunique() + 30)
    )
    view.altair(bars)
    query = audience_query(action, channel)
    people = db.frame(f"{query} limit {TABLE_ROWS}")
    st.subheader("The list")
    view.table(people)
    total = int(shown["customers"].sum())
    if total > TABLE_ROWS:
        st.caption(f"The first {TABLE_ROWS:,} of {total:,} customers; the download has them all.")
    name = "_".join(["audience", *(v for v in (action, channel) if v)]) + ".csv"
    st.download_button("Download CSV", data=db.csv(query), file_name=name, mime="text/csv", key="audiences_csv")
