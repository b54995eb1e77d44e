"""KPIs: retention, repeat rate, AOV, frequency and NPS by month (``kpi_monthly``), broken down by
preferred channel, region or acquisition channel; CLV:CAC by acquisition channel
(``acquisition_channel_value``)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from lifecycle.dashboard import view
from lifecycle.dashboard.data import Serving

TITLE = "KPIs"
GUIDE = (
    "Monthly KPIs of the customers, overall or split by their current preferred channel, region or "
    "acquisition channel (a hollow point is the part month up to the as-of date); last, what an "
    "acquired customer is worth per unit of acquisition cost, by channel and first-purchase month."
)
BREAKDOWNS = {
    "Overall": "overall",
    "Preferred channel": "preferred_channel",
    "Region": "region",
    "Acquisition channel": "acquisition_channel",
}
# kpi_monthly column -> (chart title, axis format)
KPIS = {
    "retention_rate": ("Retention rate", "%"),
    "repeat_purchase_rate": ("Repeat purchase rate", "%"),
    "average_order_value": ("Average order value", ",.0f"),
    "purchase_frequency": ("Purchase frequency", ".2f"),
    "nps": ("NPS", ".0f"),
}
DEFAULT_VALUES = 5  # dimension values preselected: the largest by active customers


def render(db: Serving) -> None:
    cols = st.columns([1, 2])
    with cols[0]:
        label = st.selectbox("Break down by", list(BREAKDOWNS), key="kpis_dimension")
    dimension = BREAKDOWNS[label]
    df = db.frame(
        "select period_end_date, is_partial_month, dimension_value, active_customers, "
        f"{', '.join(KPIS)} from marts.kpi_monthly where dimension = ? order by period_end_date",
        [dimension],
    )
    if not view.readable(db, "kpi_monthly", df):
        return
    if dimension != "overall":
        sizes = df.groupby("dimension_value")["active_customers"].sum().sort_values(ascending=False)
        with cols[1]:
            chosen = st.multiselect(
                label, list(sizes.index), default=list(sizes.index[:DEFAULT_VALUES]), key=f"kpis_values_{dimension}"
            )
        df = df[df["dimension_value"].isin(chosen)]
        if df.empty:
            view.nothing(f"Choose at least one {label.lower()} to draw.")
            return
    months = sorted(df["period_end_date"].unique())
    if len(months) > 1:
        first, last = st.select_slider(
            "Months",
            options=months,
            value=(months[max(0, len(months) - 24)], months[-1]),
            format_func=lambda d: f"{pd.Timestamp(d):%Y-%m}",
            key="kpis_months",
        )
        df = df[(df["period_end_date"] >= first) & (df["period_end_date"] <= last)]
    for column, (title, fmt) in KPIS.items():
        _kpi_chart(db, df, column, title, fmt)
    _clv_to_cac(db)


def _kpi_chart(db: Serving, df: pd.DataFrame, column: str, title: str, fmt: str) -> None:
    st.subheader(title)
    data = df[["period_end_date", "is_partial_month", "dimension_value", column]].dropna(subset=[column])
    if data.empty:
        if column == "nps":
            status, reason = view.coverage(db, "customer_sentiment")
            view.nothing(f"No NPS answers in these months. {reason if status != 'complete' else ''}".strip())
        else:
            view.nothing(f"No {title.lower()} in these months (its denominator is 0).")
        return
    data[column] = data[column].astype(float)
    chart = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(filled=True))
        .encode(
            x=alt.X("period_end_date:T", title="month end"),
            y=alt.Y(f"{column}:Q", title=title, axis=alt.Axis(format=fmt)),
            color=alt.Color("dimension_value:N", title=None),
            tooltip=[
                "period_end_date:T",
                "dimension_value",
                alt.Tooltip(f"{column}:Q", format=fmt),
                "is_partial_month",
            ],
        )
        .properties(height=240)
    )
    partial = (
        alt.Chart(data[data["is_partial_month"]])
        .mark_point(filled=True, color="white", size=40)
        .encode(x="period_end_date:T", y=f"{column}:Q")
    )
    view.altair(chart + partial)


def _clv_to_cac(db: Serving) -> None:
    st.subheader("CLV:CAC by acquisition channel")
    df = db.frame(
        "select acquisition_channel, cohort_month, customers_acquired, marketing_spend, cac, value_basis, "
        "value_per_customer, clv_to_cac_ratio from marts.acquisition_channel_value "
        "where clv_to_cac_ratio is not null order by cohort_month"
    )
    if not view.readable(db, "acquisition_channel_value", df):
        return
    channels = view.pick("Acquisition channel", sorted(df["acquisition_channel"].unique()), key="kpis_cac_channel")
    if channels is not None:
        df = df[df["acquisition_channel"] == channels]
    df["clv_to_cac_ratio"] = df["clv_to_cac_ratio"].astype(float)
    df["cohort"] = df["cohort_month"].dt.strftime("%Y-%m")
    chart = (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X("cohort:O", title="first-purchase month"),
            y=alt.Y("acquisition_channel:N", title=None),
            color=alt.Color(
                "clv_to_cac_ratio:Q",
                title="CLV:CAC",
                scale=alt.Scale(type="symlog", scheme="redyellowgreen", domainMid=1),
            ),
            tooltip=[
                "acquisition_channel",
                "cohort",
                "customers_acquired",
                "marketing_spend",
                "cac",
                "value_basis",
                "value_per_customer",
                alt.Tooltip("clv_to_cac_ratio:Q", format=".2f"),
            ],
        )
        .properties(height=36 * df["acquisition_channel"].nunique() + 60)
    )
    view.altair(chart)
    st.caption(
        "Green: an acquired customer brings more than they cost (ratio above 1), red: less. The value is "
        "the realised first year for cohorts 12 months old, else the value to date plus the predicted CLV "
        "(value_basis in the tooltip): compare ratios within one basis."
    )
