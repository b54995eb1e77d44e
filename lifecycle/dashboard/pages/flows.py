"""Lifecycle flows: the stage mix over time (``customer_lifecycle_history``) and the chosen month's
moves from stage to stage (``lifecycle_transitions``)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lifecycle.dashboard import view
from lifecycle.dashboard.data import Serving

TITLE = "Lifecycle flows"
GUIDE = (
    "Top: how many customers were in each stage at every month end (a growing band is a stage "
    "filling up). Bottom: where the customers of the chosen month came from and went to; 'none' is "
    "a customer whose history starts that month."
)


def render(db: Serving) -> None:
    mix = db.frame(
        "select snapshot_date, lifecycle_stage, count(*) as customers "
        "from marts.customer_lifecycle_history group by 1, 2 order by 1"
    )
    if not view.readable(db, "customer_lifecycle_history", mix):
        return
    with_prospects = st.toggle("Include prospects (customers who never bought)", value=False, key="flows_prospects")
    _stage_mix(mix if with_prospects else mix[mix["lifecycle_stage"] != "prospect"])
    st.subheader("Stage-to-stage flows")
    snapshot = view.month_filter(db, key="flows_month", label="Month ending")
    flows = db.frame(
        "select from_stage, to_stage, customers, period_net_revenue from marts.lifecycle_transitions "
        "where snapshot_date = ? order by customers desc",
        [snapshot],
    )
    if not with_prospects:
        flows = flows[(flows["from_stage"] != "prospect") & (flows["to_stage"] != "prospect")]
    stayers = st.toggle("Show customers who stayed in their stage", value=False, key="flows_stayers")
    total = int(flows["customers"].sum())
    moved = flows[flows["from_stage"] != flows["to_stage"]]
    st.caption(f"{total:,} customers in the month, {int(moved['customers'].sum()):,} changed stage.")
    flows = flows if stayers else moved
    if flows.empty and total:
        view.nothing("Nobody changed stage in this month.")
        return
    if not view.readable(db, "lifecycle_transitions", flows):
        return
    _sankey(flows, snapshot)
    with st.expander("The month's flows as a table"):
        view.table(flows)


def _stage_mix(mix: pd.DataFrame) -> None:
    st.subheader("Stage mix by month end")
    if mix.empty:
        view.nothing("Every customer is a prospect (nobody has bought yet): switch on 'Include prospects'.")
        return
    order = [s for s in view.stage_order() if s in set(mix["lifecycle_stage"])]
    chart = (
        alt.Chart(mix)
        .mark_area()
        .encode(
            x=alt.X("snapshot_date:T", title="month end"),
            y=alt.Y("customers:Q", stack="zero", title="customers"),
            color=view.stage_color("lifecycle_stage", order),
            order=alt.Order("stage_rank:Q"),
            tooltip=["snapshot_date:T", "lifecycle_stage", "customers"],
        )
        .transform_calculate(stage_rank=f"indexof({order!r}, datum.lifecycle_stage)")
        .properties(height=320)
    )
    view.altair(chart)


def _sankey(flows: pd.DataFrame, snapshot: Any) -> None:
    order = [view.NO_STAGE, *view.stage_order()]
    left = [s for s in order if s in set(flows["from_stage"])]
    right = [s for s in order if s in set(flows["to_stage"])]
    labels = [f"{s} (before)" for s in left] + [f"{s} ({snapshot:%Y-%m-%d})" for s in right]
    source = [left.index(s) for s in flows["from_stage"]]
    target = [len(left) + right.index(s) for s in flows["to_stage"]]
    colours = view.stage_colours()
    fig = go.Figure(
        go.Sankey(
            node={"label": labels, "pad": 12, "thickness": 14, "color": [colours[s] for s in left + right]},
            link={
                "source": source,
                "target": target,
                "value": [int(v) for v in flows["customers"]],
                "color": [colours[s] + "66" for s in flows["from_stage"]],
            },
        )
    )
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    st.plotly_chart(fig, width="stretch")
