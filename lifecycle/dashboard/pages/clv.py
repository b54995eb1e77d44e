"""CLV: the tiers and the value they hold (``customer_clv``), whether the model can be trusted (the
backtest of ``clv_backtest``), its parameters and status (``clv_model_parameters``) and p_alive by
recency and frequency."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from lifecycle.dashboard import view
from lifecycle.dashboard.data import Serving
from lifecycle.reference import seed_values

TITLE = "CLV"
GUIDE = (
    "How the predicted customer value over the next year is spread over the tiers, and whether to trust "
    "it: the backtest refits the model on older data and compares its forecast of repeat purchases with "
    "what customers then did (the closer the two lines, the better)."
)
SERIES = alt.Scale(domain=["actual", "predicted"], range=["#1f77b4", "#ff7f0e"])
FREQUENCY_CAP = 10  # repeat purchase days shown as 10+ beyond this on the p_alive grid
MONTHS_CAP = 24  # months since the last purchase shown as 24+ beyond this
PARAMETERS = ("r", "alpha", "a", "b", "p", "q", "gamma")


def render(db: Serving) -> None:
    params = db.frame("select * from marts.clv_model_parameters")
    fitted = _status(params)
    _tiers(db, fitted)
    _backtest(db)
    _p_alive(db, fitted)
    if not params.empty:
        with st.expander("Model parameters"):
            row = params.iloc[0]
            view.table(pd.DataFrame({"parameter": PARAMETERS, "value": [row[p] for p in PARAMETERS]}))
            other = params.drop(columns=list(PARAMETERS)).iloc[0]
            view.table(pd.DataFrame({"field": other.index, "value": [str(v) for v in other]}))


def _status(params: pd.DataFrame) -> bool:
    """Show the model status; True when the models were fitted."""
    if params.empty:
        view.nothing("No CLV model parameters in this build.")
        return False
    row = params.iloc[0]
    status, reason = str(row["model_status"]), str(row["model_status_reason"] or "")
    if status == "fitted":
        st.success(f"Model status: fitted. {reason}")
        return True
    st.warning(f"Model status: {status}. {reason}")
    return False


def _tiers(db: Serving, fitted: bool) -> None:
    st.subheader("CLV tiers: customers and predicted value")
    df = db.frame(
        "select clv_tier, count(*) as customers, coalesce(sum(predicted_clv), 0) as predicted_clv "
        "from marts.customer_clv group by 1"
    )
    if not fitted:
        view.nothing("Without a fitted model nobody has a predicted CLV, so there are no tiers to compare.")
        return
    if not view.readable(db, "customer_clv", df):
        return
    df["predicted_clv"] = df["predicted_clv"].astype(float)
    positive = df["predicted_clv"].clip(lower=0)
    df["share of customers"] = df["customers"] / df["customers"].sum()
    df["share of predicted value"] = positive / positive.sum() if positive.sum() > 0 else 0.0
    order = [t for t in seed_values("clv_tiers", "clv_tier") if t in set(df["clv_tier"])]
    long = df.melt(
        id_vars=["clv_tier", "customers", "predicted_clv"],
        value_vars=["share of customers", "share of predicted value"],
        var_name="measure",
        value_name="share",
    )
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("share:Q", axis=alt.Axis(format="%"), title=None),
            y=alt.Y("clv_tier:N", sort=order, title="CLV tier"),
            yOffset="measure:N",
            color=alt.Color("measure:N", title=None),
            tooltip=["clv_tier", "customers", "predicted_clv", "measure", alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(height=60 * len(order) + 20)
    )
    view.altair(bars)


def _backtest(db: Serving) -> None:
    st.subheader("Backtest: predicted vs actual repeat purchases in the holdout")
    df = db.frame("select * from marts.clv_backtest order by breakdown, bucket_order")
    if not view.readable(db, "clv_backtest", df):
        return
    total = df[df["breakdown"] == "total"]
    if not total.empty:
        row = total.iloc[0]
        st.caption(
            f"Calibrated on data up to {row['calibration_end_date']:%Y-%m-%d}, tested on the next "
            f"{int(row['holdout_days'])} days. Status: {row['model_status']}. {row['model_status_reason']}"
        )
        cols = st.columns(4)
        cols[0].metric("Customers", f"{int(row['customers']):,}")
        cols[1].metric("Actual repeat purchases", _num(row["actual_repeat_purchases"]))
        cols[2].metric("Predicted", _num(row["predicted_repeat_purchases"]))
        cols[3].metric("Per-customer correlation", _num(row["per_customer_correlation"], ".2f"))
    weeks = df[df["breakdown"] == "week"].copy()
    weeks["week"] = weeks["bucket_order"]
    if weeks.empty:
        view.nothing("No weekly backtest rows: the holdout has no weeks in this build.")
    else:
        long = weeks.melt(
            id_vars=["week"],
            value_vars=["actual_repeat_purchases", "predicted_repeat_purchases"],
            var_name="series",
            value_name="repeat purchases",
        ).dropna()
        long["series"] = long["series"].str.replace("_repeat_purchases", "")
        lines = (
            alt.Chart(long)
            .mark_line(point=True)
            .encode(
                x=alt.X("week:Q", title="holdout week"),
                y=alt.Y("repeat purchases:Q", title="cumulative repeat purchases"),
                color=alt.Color("series:N", title=None, scale=SERIES),
                strokeDash=alt.StrokeDash("series:N", legend=None),
                tooltip=["week", "series", "repeat purchases"],
            )
            .properties(height=300)
        )
        view.altair(lines)
    freq = df[df["breakdown"] == "calibration_frequency"]
    if freq.empty:
        return
    long = freq.melt(
        id_vars=["bucket", "bucket_order", "customers"],
        value_vars=["actual_repeat_purchases", "predicted_repeat_purchases"],
        var_name="series",
        value_name="per customer",
    ).dropna()
    long["per customer"] = long["per customer"] / long["customers"].where(long["customers"] > 0)
    long["series"] = long["series"].str.replace("_repeat_purchases", "")
    order = list(freq.sort_values("bucket_order")["bucket"])
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X(
                "bucket:N",
                sort=order,
                title="repeat purchase days in the calibration period",
                axis=alt.Axis(labelAngle=0),
            ),
            xOffset="series:N",
            y=alt.Y("per customer:Q", title="holdout repeat purchases per customer"),
            color=alt.Color("series:N", title=None, scale=SERIES),
            tooltip=["bucket", "customers", "series", alt.Tooltip("per customer:Q", format=".2f")],
        )
        .properties(height=280)
    )
    view.altair(bars)


def _p_alive(db: Serving, fitted: bool) -> None:
    st.subheader("Probability alive by recency and frequency")
    if not fitted:
        view.nothing("Without a fitted purchase model there is no p_alive.")
        return
    df = db.frame(
        f"select least(frequency, {FREQUENCY_CAP}) as repeat_days, "
        f"least(floor((tenure_days - recency_days) / 30), {MONTHS_CAP}) as months_since_last, "
        "count(*) as customers, avg(p_alive) as mean_p_alive "
        "from marts.customer_clv where p_alive is not null group by 1, 2"
    )
    if not view.readable(db, "customer_clv", df):
        return
    heat = (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X(
                "repeat_days:O",
                title=f"repeat purchase days (frequency; {FREQUENCY_CAP} = {FREQUENCY_CAP}+)",
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("months_since_last:O", title=f"months since the last purchase ({MONTHS_CAP} = {MONTHS_CAP}+)"),
            color=alt.Color("mean_p_alive:Q", title="mean p_alive", scale=alt.Scale(scheme="redyellowgreen")),
            tooltip=["repeat_days", "months_since_last", "customers", alt.Tooltip("mean_p_alive:Q", format=".2f")],
        )
        .properties(height=420)
    )
    view.altair(heat)


def _num(value: object, fmt: str = ",.0f") -> str:
    return "-" if value is None or pd.isna(value) else format(float(value), fmt)  # type: ignore[arg-type]
