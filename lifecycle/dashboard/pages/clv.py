"""CLV: the tiers and the value they hold (``customer_clv``), whether the models can be trusted (every
purchase model's backtest in ``clv_backtest`` and its calibration in ``clv_calibration``), which model
was chosen and why, their parameters with standard errors (``clv_model_parameters``) and p_alive by
recency and frequency."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from lifecycle.clv.models import PURCHASE_MODELS
from lifecycle.dashboard import view
from lifecycle.dashboard.data import Serving
from lifecycle.reference import seed_values

TITLE = "CLV"
GUIDE = (
    "How the predicted customer value over the next year is spread over the tiers, and whether to trust "
    "it: the backtest refits each purchase model on older data and compares its forecast of repeat purchases "
    "with what customers then did (the closer a model's line to the actual one, the better); the build uses "
    "the model with the best holdout score. The calibration chart shows whether a predicted probability of "
    "buying means what it says (points on the diagonal)."
)
SERIES = alt.Scale(domain=["actual", "predicted"], range=["#1f77b4", "#ff7f0e"])
MODEL_COLOURS = dict(
    zip(
        ["actual", *(m.label for m in PURCHASE_MODELS.values())],
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"],
        strict=True,
    )
)
CURVES = alt.Scale(domain=list(MODEL_COLOURS), range=list(MODEL_COLOURS.values()))
MODELS = alt.Scale(domain=list(MODEL_COLOURS)[1:], range=list(MODEL_COLOURS.values())[1:])
FREQUENCY_CAP = 10  # repeat purchase days shown as 10+ beyond this on the p_alive grid
MONTHS_CAP = 24  # months since the last purchase shown as 24+ beyond this
PURCHASE_PARAMETERS = ("r", "alpha", "a", "b", "s", "beta")
SPEND_PARAMETERS = ("p", "q", "gamma")


def render(db: Serving) -> None:
    params = db.frame("select * from marts.clv_model_parameters order by purchase_model")
    fitted = _status(params)
    _tiers(db, fitted)
    _models(params)
    _backtest(db)
    _calibration(db)
    _p_alive(db, fitted)
    if not params.empty:
        with st.expander("Model parameters"):
            row = _chosen_row(params)
            view.table(pd.DataFrame({"parameter": SPEND_PARAMETERS, "value": [row[p] for p in SPEND_PARAMETERS]}))
            other = row.drop(labels=list(PURCHASE_PARAMETERS) + list(SPEND_PARAMETERS))
            view.table(pd.DataFrame({"field": other.index, "value": [str(v) for v in other]}))


def _with_model_labels(db: Serving, source: str, order: str) -> pd.DataFrame:
    """A per-model CLV mart (``source``: ``from marts.<mart> as per_model``) with each row's model
    label (BG/NBD, ...) from clv_model_parameters."""
    return db.frame(
        f"select per_model.*, parameters.purchase_model_label {source} "
        "left join marts.clv_model_parameters as parameters using (purchase_model) "
        f"order by {', '.join('per_model.' + c.strip() for c in order.split(','))}"
    )


def _chosen_row(params: pd.DataFrame) -> pd.Series:
    chosen = params[params["is_chosen"].astype(bool)]
    return (chosen if not chosen.empty else params).iloc[0]


def _models(params: pd.DataFrame) -> None:
    """One line per purchase model: status, holdout score, log-likelihood, parameters with their
    standard errors."""
    if params.empty:
        return
    st.subheader("Purchase models: which one the build uses")
    row = _chosen_row(params)
    st.caption(str(row["choice_reason"]))
    table = []
    for _, m in params.iterrows():
        estimates = [
            f"{p} {float(m[p]):.4g} ± {float(m[p + '_se']):.2g}"
            if pd.notna(m[p]) and pd.notna(m[p + "_se"])
            else (f"{p} {float(m[p]):.4g}" if pd.notna(m[p]) else "")
            for p in PURCHASE_PARAMETERS
        ]
        table.append(
            {
                "model": m["purchase_model_label"],
                "chosen": "yes" if bool(m["is_chosen"]) else "",
                "status": m["purchase_model_status"],
                "holdout score (lower is better)": _num(m["holdout_score"], ".4f"),
                "log-likelihood": _num(m["purchase_model_log_likelihood"], ",.1f"),
                "parameters (± standard error)": ", ".join(e for e in estimates if e),
            }
        )
    view.table(pd.DataFrame(table))


def _status(params: pd.DataFrame) -> bool:
    """Show the model status; True when the models were fitted."""
    if params.empty:
        view.nothing("No CLV model parameters in this build.")
        return False
    row = _chosen_row(params)
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
    every = _with_model_labels(db, "from marts.clv_backtest as per_model", "purchase_model, breakdown, bucket_order")
    if not view.readable(db, "clv_backtest", every):
        return
    chosen = every[every["is_chosen_model"].astype(bool)]
    df = chosen if not chosen.empty else every[every["purchase_model"] == every["purchase_model"].iloc[0]]
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
    weeks = every[every["breakdown"] == "week"].copy()
    weeks["week"] = weeks["bucket_order"]
    if weeks.empty:
        view.nothing("No weekly backtest rows: the holdout has no weeks in this build.")
    else:
        actual = weeks[weeks["purchase_model"] == weeks["purchase_model"].iloc[0]]
        long = pd.concat(
            [
                pd.DataFrame(
                    {"week": actual["week"], "series": "actual", "repeat purchases": actual["actual_repeat_purchases"]}
                ),
                pd.DataFrame(
                    {
                        "week": weeks["week"],
                        "series": weeks["purchase_model_label"],
                        "repeat purchases": weeks["predicted_repeat_purchases"],
                    }
                ),
            ]
        ).dropna()
        lines = (
            alt.Chart(long)
            .mark_line(point=True)
            .encode(
                x=alt.X("week:Q", title="holdout week"),
                y=alt.Y("repeat purchases:Q", title="cumulative repeat purchases"),
                color=alt.Color("series:N", title=None, scale=CURVES),
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


def _calibration(db: Serving) -> None:
    st.subheader("Calibration: predicted probability of buying vs the share who bought")
    df = _with_model_labels(db, "from marts.clv_calibration as per_model", "purchase_model, probability_decile")
    if not view.readable(db, "clv_calibration", df):
        return
    if df.empty:
        view.nothing("No model could be refitted on the calibration period, so there is nothing to calibrate.")
        return
    points = (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=alt.X("mean_predicted_probability:Q", title="predicted probability of a purchase in the holdout"),
            y=alt.Y("observed_share_bought:Q", title="share who bought"),
            color=alt.Color("purchase_model_label:N", title=None, scale=MODELS),
            tooltip=[
                "purchase_model_label",
                "probability_decile",
                "customers",
                alt.Tooltip("mean_predicted_probability:Q", format=".2f"),
                alt.Tooltip("observed_share_bought:Q", format=".2f"),
            ],
        )
    )
    diagonal = (
        alt.Chart(pd.DataFrame({"p": [0.0, 1.0]})).mark_line(color="#999", strokeDash=[4, 4]).encode(x="p:Q", y="p:Q")
    )
    view.altair((diagonal + points).properties(height=320))


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
