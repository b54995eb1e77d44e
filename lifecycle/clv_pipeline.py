"""The CLV steps the dbt Python models run: fit, score, backtest (pandas in, pandas out).

The dbt models under ``models/intermediate/clv/`` are thin wrappers around these functions, so
everything here is unit-tested without dbt (``tests/python/test_clv_pipeline.py``). The maths is
in :mod:`lifecycle.clv`.

Inputs are per-customer summaries in days with the columns of ``int_customers_clv_summarised``:
``customer_id``, ``frequency`` (repeat purchase days), ``recency_days``, ``tenure_days``,
``avg_repeat_day_revenue`` (mean net revenue per repeat purchase day), ``margin_rate``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from lifecycle.clv import (
    BgNbdFit,
    ClvFitError,
    GammaGammaFit,
    conditional_expected_spend,
    discounted_value,
    expected_next_purchase_days,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    p_alive,
)
from lifecycle.clv_status import (
    PURCHASE_MODEL,
    SPEND_MODEL,
    FitOutcome,
    ModelFailure,
    degenerate_bgnbd,
    degenerate_gamma_gamma,
    model_failure,
)

#: Below this p_alive the next-purchase date is not reported (the customer is more likely gone).
NEXT_PURCHASE_MIN_P_ALIVE = 0.5


@dataclass(frozen=True)
class ClvSettings:
    """The dbt vars that drive the CLV models."""

    horizon_days: int = 365
    annual_discount_rate: float = 0.10
    holdout_days: int = 180
    min_repeat_buyers: int = 10
    at_risk_p_alive: float = 0.3
    #: Optimiser iteration cap of both fits (not a dbt var; the tests lower it to force
    #: non-convergence).
    max_iter: int = 2000

    def __post_init__(self) -> None:
        if self.horizon_days <= 0:
            raise ValueError(f"clv_horizon_days must be positive, got {self.horizon_days}")
        if not -1 < self.annual_discount_rate < 10:
            raise ValueError(f"clv_annual_discount_rate must be in (-1, 10), got {self.annual_discount_rate}")
        if self.holdout_days <= 0:
            raise ValueError(f"clv_holdout_days must be positive, got {self.holdout_days}")
        if not 0 <= self.at_risk_p_alive < 1:
            raise ValueError(f"at_risk_p_alive must be in [0, 1), got {self.at_risk_p_alive}")


def settings_from_config(config: Mapping[str, object]) -> ClvSettings:
    """The settings of a CLV dbt Python model from its one config key ``clv_settings``.

    The key is a mapping of the ClvSettings field names to the dbt vars (the ``clv_config``
    anchor in ``models/intermediate/clv/_clv__models.yml``); dbt renders the vars as text or
    numbers, so each is converted to its field's type here.
    """
    return ClvSettings(
        horizon_days=int(str(config["horizon_days"])),
        annual_discount_rate=float(str(config["annual_discount_rate"])),
        holdout_days=int(str(config["holdout_days"])),
        min_repeat_buyers=int(str(config["min_repeat_buyers"])),
        at_risk_p_alive=float(str(config["at_risk_p_alive"])),
    )


def as_date(value: object) -> date:
    """A date from what DuckDB hands pandas for a DATE (datetime.date, Timestamp or datetime64)."""
    if isinstance(value, date) and not isinstance(value, pd.Timestamp):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def _buyers(summary: pd.DataFrame) -> pd.DataFrame:
    required = {"customer_id", "frequency", "recency_days", "tenure_days", "avg_repeat_day_revenue"}
    missing = required - set(summary.columns)
    if missing:
        raise ClvFitError(f"the CLV summary lacks columns {sorted(missing)}")
    # Sorted so a fit does not depend on the order the warehouse returns rows in: floating-point sums
    # (and so the optimiser path) would otherwise differ between two builds of the same data.
    buyers = summary[summary["frequency"].notna()]
    return buyers.sort_values("customer_id", kind="mergesort").reset_index(drop=True)


def fit_outcome(summary: pd.DataFrame, settings: ClvSettings) -> FitOutcome:
    """Fit BG/NBD on every buyer and Gamma-Gamma on repeat buyers with positive spend, each on
    its own: a model the data cannot support is reported (status and plain reason), not raised.

    Invalid summaries (NaN, recency beyond tenure, missing columns) still raise
    :class:`ClvFitError`: they are a broken upstream model, not thin data.
    """
    started = time.perf_counter()
    buyers = _buyers(summary)
    bg: BgNbdFit | None = None
    bg_failure: ModelFailure | None = None
    try:
        bg = _fit_purchase_model(buyers, settings)
    except ClvFitError as exc:
        bg_failure = model_failure(PURCHASE_MODEL, exc)
    gg: GammaGammaFit | None = None
    gg_failure: ModelFailure | None = None
    x = buyers["frequency"].to_numpy(dtype=float)
    m = buyers["avg_repeat_day_revenue"].to_numpy(dtype=float)
    spenders = (x >= 1) & np.isfinite(m) & (m > 0)
    try:
        gg = fit_gamma_gamma(
            x[spenders], m[spenders], min_customers=settings.min_repeat_buyers, max_iter=settings.max_iter
        )
        _check_parameters(gg.params)
        problem = degenerate_gamma_gamma(gg, m[spenders])
        if problem is not None:
            raise problem
    except ClvFitError as exc:
        gg, gg_failure = None, model_failure(SPEND_MODEL, exc)
    return FitOutcome(bg, gg, bg_failure, gg_failure, time.perf_counter() - started)


def fit_models(summary: pd.DataFrame, settings: ClvSettings) -> tuple[BgNbdFit, GammaGammaFit]:
    """Both fits, or :class:`ClvFitError` naming the model that failed and why (strict form of
    :func:`fit_outcome`, for callers that need both models)."""
    outcome = fit_outcome(summary, settings)
    if outcome.bgnbd is None or outcome.gamma_gamma is None:
        raise ClvFitError(
            f"{outcome.reason} ({outcome.detail})", outcome.status, {"bgnbd_status": outcome.bgnbd_status}
        )
    return outcome.bgnbd, outcome.gamma_gamma


def _check_parameters(params: dict[str, float]) -> None:
    for name, value in params.items():
        if not math.isfinite(value) or value <= 0:
            raise ClvFitError(f"fitted parameter {name} = {value} is not a positive finite number", "degenerate")


def _fit_purchase_model(buyers: pd.DataFrame, settings: ClvSettings) -> BgNbdFit:
    """The BG/NBD part of :func:`fit_outcome` (all the backtest needs), degenerate optima
    included."""
    if buyers.empty:
        raise ClvFitError("no customer has a purchase on or before as_of_date: nothing to fit", "insufficient_data")
    bg = fit_bgnbd(
        buyers["frequency"].to_numpy(dtype=float),
        buyers["recency_days"].to_numpy(dtype=float),
        buyers["tenure_days"].to_numpy(dtype=float),
        min_repeat_buyers=settings.min_repeat_buyers,
        max_iter=settings.max_iter,
    )
    _check_parameters(bg.params)
    problem = degenerate_bgnbd(bg, buyers)
    if problem is not None:
        raise problem
    return bg


def _date_column(values: list[date | None]) -> pd.Series:
    """A nullable DATE column: an all-None object column would reach DuckDB as INTEGER."""
    return pd.Series(pd.array(values, dtype=pd.ArrowDtype(pa.date32())))


def _float_column(values: np.ndarray | None, n: int) -> pd.Series:
    """A nullable DOUBLE column: all null when ``values`` is None, NaN becoming null (DuckDB
    would otherwise store NaN, which is not 'not predicted')."""
    if values is None:
        return pd.Series(pd.array([None] * n, dtype=pd.ArrowDtype(pa.float64())))
    arr = np.asarray(values, dtype=float)
    return pd.Series(pa.array(arr, mask=~np.isfinite(arr)), dtype=pd.ArrowDtype(pa.float64()))


def parameters_row(
    outcome: FitOutcome | BgNbdFit, gg: GammaGammaFit | None, as_of_date: date, settings: ClvSettings
) -> pd.DataFrame:
    """One row describing the models of this build (the ``clv_model_parameters`` mart): the
    parameters of each fitted model (null for a model not fitted), ``model_status`` and its plain
    ``model_status_reason``.

    ``outcome`` is a :class:`FitOutcome` (``gg`` ignored) or, for two fitted models, the BG/NBD fit
    with ``gg`` the Gamma-Gamma fit.
    """
    if isinstance(outcome, BgNbdFit):
        assert gg is not None
        outcome = FitOutcome(outcome, gg, fit_seconds=outcome.fit_seconds + gg.fit_seconds)
    bg, gg = outcome.bgnbd, outcome.gamma_gamma
    bgf, ggf = outcome.bgnbd_failure, outcome.gamma_gamma_failure
    row = {
        "as_of_date": as_of_date,
        "time_unit": "day",
        "model_status": outcome.status,
        "model_status_reason": outcome.reason,
        "bgnbd_status": outcome.bgnbd_status,
        "gamma_gamma_status": outcome.gamma_gamma_status,
        "model_status_detail": outcome.detail or None,
        "r": bg.r if bg else None,
        "alpha": bg.alpha if bg else None,
        "a": bg.a if bg else None,
        "b": bg.b if bg else None,
        "p": gg.p if gg else None,
        "q": gg.q if gg else None,
        "gamma": gg.gamma if gg else None,
        "bgnbd_log_likelihood": bg.log_likelihood if bg else None,
        "gamma_gamma_log_likelihood": gg.log_likelihood if gg else None,
        "bgnbd_customers": bg.n_customers if bg else None,
        "bgnbd_patterns": bg.n_patterns if bg else None,
        "gamma_gamma_customers": gg.n_customers if gg else None,
        "is_converged": bool(bg is not None and gg is not None and bg.converged and gg.converged),
        "bgnbd_iterations": bg.iterations if bg else (bgf.iterations if bgf else None),
        "gamma_gamma_iterations": gg.iterations if gg else (ggf.iterations if ggf else None),
        "fit_seconds": outcome.fit_seconds,
        "population_avg_order_value": gg.mean_spend if gg else None,
        "horizon_days": settings.horizon_days,
        "annual_discount_rate": settings.annual_discount_rate,
    }
    out = pd.DataFrame([row])
    # Typed even when null, so the table (and the mart's contract) keeps its types on thin data.
    for column in (
        "r",
        "alpha",
        "a",
        "b",
        "p",
        "q",
        "gamma",
        "bgnbd_log_likelihood",
        "gamma_gamma_log_likelihood",
        "population_avg_order_value",
    ):
        out[column] = pd.Series(pd.array([row[column]], dtype=pd.ArrowDtype(pa.float64())))
    for column in (
        "bgnbd_customers",
        "bgnbd_patterns",
        "gamma_gamma_customers",
        "bgnbd_iterations",
        "gamma_gamma_iterations",
    ):
        out[column] = pd.Series(pd.array([row[column]], dtype=pd.ArrowDtype(pa.int64())))
    out["model_status_detail"] = pd.Series(pd.array([row["model_status_detail"]], dtype=pd.ArrowDtype(pa.string())))
    return out


def fits_from_parameters(row: pd.Series) -> tuple[BgNbdFit | None, GammaGammaFit | None]:
    """Rebuild the fit objects from a ``parameters_row`` row (scoring reuses the stored fit);
    None for a model whose status is not ``fitted``."""
    bg = None
    if row.get("bgnbd_status", "fitted") == "fitted":
        bg = BgNbdFit(
            r=float(row["r"]),
            alpha=float(row["alpha"]),
            a=float(row["a"]),
            b=float(row["b"]),
            log_likelihood=float(row["bgnbd_log_likelihood"]),
            n_customers=int(row["bgnbd_customers"]),
            n_patterns=int(row["bgnbd_patterns"]),
            converged=True,
            iterations=int(row["bgnbd_iterations"]),
            fit_seconds=0.0,
            message="stored",
        )
    gg = None
    if row.get("gamma_gamma_status", "fitted") == "fitted":
        gg = GammaGammaFit(
            p=float(row["p"]),
            q=float(row["q"]),
            gamma=float(row["gamma"]),
            log_likelihood=float(row["gamma_gamma_log_likelihood"]),
            n_customers=int(row["gamma_gamma_customers"]),
            converged=True,
            iterations=int(row["gamma_gamma_iterations"]),
            fit_seconds=0.0,
            message="stored",
        )
    return bg, gg


def p_alive_crossing_days(bg: BgNbdFit, x: np.ndarray, t_x: np.ndarray, threshold: float) -> np.ndarray:
    """Tenure (days since the first purchase) at which p_alive first falls below ``threshold``.

    p_alive = 1 / (1 + a/(b+x-1) ((α+T)/(α+t_x))^(r+x)) decreases in T for x > 0, so it is below
    ``threshold`` exactly when ``α + T > (α + t_x) (((1-θ)/θ) (b+x-1)/a)^(1/(r+x))``. NaN for
    one-time buyers (x = 0), whose p_alive is always 1, and for ``threshold`` = 0.
    """
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    out = np.full(x.shape, np.nan)
    if threshold <= 0:
        return out
    rep = x > 0
    log_ratio = (np.log1p(-threshold) - math.log(threshold) + np.log(bg.b + x[rep] - 1.0) - math.log(bg.a)) / (
        bg.r + x[rep]
    )
    out[rep] = np.maximum((bg.alpha + t_x[rep]) * np.exp(log_ratio) - bg.alpha, t_x[rep])
    return out


def score_customers(
    summary: pd.DataFrame,
    bg: BgNbdFit | None,
    gg: GammaGammaFit | None,
    as_of_date: date,
    settings: ClvSettings,
) -> pd.DataFrame:
    """Per-buyer predictions. Prospects (no purchase) are not scored: the mart reports them as 0.

    p_alive itself is not a column: the build's one p_alive is the SQL macro ``bgnbd_p_alive``
    over the stored parameters (``int_customer_snapshots_summarised``); it is used here only inside
    the math (the next-purchase date and the date p_alive falls below ``at_risk_p_alive``).

    Columns: ``customer_id``, ``expected_purchases_90d``,
    ``expected_purchases_horizon``, ``expected_avg_order_value``, ``predicted_revenue``,
    ``predicted_clv``, ``margin_rate_used``, ``is_margin_rate_estimated``,
    ``expected_next_purchase_date`` (the median wait given alive, see
    :func:`lifecycle.clv.expected_next_purchase_days`; null when p_alive < 0.5 or the wait exceeds
    the horizon), ``low_p_alive_from_date`` (the first day with p_alive < ``at_risk_p_alive``, past
    or projected; on or before ``as_of_date`` exactly when p_alive < ``at_risk_p_alive`` now; null
    for one-time buyers, for ``at_risk_p_alive`` = 0 and beyond 9999-12-31). Date columns are
    Arrow ``date32`` so that DuckDB types them DATE even when every value is null.

    A model that was not fitted (``None``) leaves its columns null for every buyer: without the
    purchase model (``bg``) the expected purchases and the two dates;
    without the spend model (``gg``) expected_avg_order_value; without either, predicted_revenue and
    predicted_clv. Numeric prediction columns are nullable DOUBLE.
    """
    buyers = _buyers(summary)
    n = len(buyers)
    x = buyers["frequency"].to_numpy(dtype=float)
    t_x = buyers["recency_days"].to_numpy(dtype=float)
    T = buyers["tenure_days"].to_numpy(dtype=float)
    m = buyers["avg_repeat_day_revenue"].to_numpy(dtype=float)
    spend = None
    if gg is not None:
        has_spend = (x >= 1) & np.isfinite(m) & (m > 0)
        spend = np.where(
            has_spend,
            conditional_expected_spend(gg, np.where(has_spend, x, 1.0), np.where(has_spend, m, 1.0)),
            gg.mean_spend,
        )
    margin_rate = buyers.get("margin_rate", pd.Series(np.nan, index=buyers.index)).to_numpy(dtype=float)
    known = np.isfinite(margin_rate)
    # Customers without known costs get the median margin rate of those with known costs; with no
    # cost data at all, CLV is revenue (margin rate 1).
    fallback_rate = float(np.median(margin_rate[known])) if known.any() else 1.0
    margin_rate = np.where(known, margin_rate, fallback_rate)
    purchases_90d = purchases_horizon = revenue = None
    next_dates: list[date | None] = [None] * n
    low_p_alive_dates: list[date | None] = [None] * n
    if bg is not None:
        purchases_90d = expected_purchases(bg, 90.0, x, t_x, T)
        purchases_horizon = expected_purchases(bg, float(settings.horizon_days), x, t_x, T)
        if spend is not None:
            revenue = discounted_value(bg, x, t_x, T, spend, settings.horizon_days, settings.annual_discount_rate)
        wait = expected_next_purchase_days(bg, x, t_x, T, min_p_alive=NEXT_PURCHASE_MIN_P_ALIVE)
        # Reported only when likely alive and expected within the horizon; otherwise null.
        next_dates = [
            as_of_date + timedelta(days=math.ceil(w)) if math.isfinite(w) and w <= settings.horizon_days else None
            for w in wait
        ]
        # The first whole day of tenure on which p_alive < at_risk_p_alive (customer_lifecycle's
        # rule): the day after the crossing, or the last purchase day itself when p_alive is below
        # the threshold from then on. Null for one-time buyers, and when beyond the calendar.
        threshold = settings.at_risk_p_alive
        crossing = p_alive_crossing_days(bg, x, t_x, threshold)
        below_from_last = (x > 0) & (p_alive(bg, x, t_x, t_x) < threshold)
        low_day = np.where(below_from_last, t_x, np.floor(crossing) + 1.0)
        first_purchase = [as_of_date - timedelta(days=int(d)) for d in T]
        low_p_alive_dates = [
            f + timedelta(days=int(d)) if math.isfinite(d) and d <= (date.max - f).days else None
            for f, d in zip(first_purchase, low_day, strict=True)
        ]
    predicted = {
        "expected_purchases_90d": purchases_90d,
        "expected_purchases_horizon": purchases_horizon,
        "expected_avg_order_value": spend,
        "predicted_revenue": revenue,
        "predicted_clv": None if revenue is None else revenue * margin_rate,
    }
    for name, values in predicted.items():
        if values is not None and (~np.isfinite(values)).any():
            bad = ~np.isfinite(values)
            rows = buyers.loc[bad, "customer_id"].head(5).tolist()
            raise ClvFitError(f"non-finite {name} for {int(bad.sum())} customers, e.g. {rows}")
    return pd.DataFrame(
        {
            "customer_id": buyers["customer_id"].to_numpy(),
            **{name: _float_column(values, n) for name, values in predicted.items()},
            "margin_rate_used": margin_rate,
            "is_margin_rate_estimated": ~known,
            "expected_next_purchase_date": _date_column(next_dates),
            "low_p_alive_from_date": _date_column(low_p_alive_dates),
        }
    )


def calibration_summary(purchase_days: pd.DataFrame, calibration_end: date, as_of_date: date) -> pd.DataFrame:
    """Calibration-period summary and holdout actuals from distinct purchase days.

    ``purchase_days``: ``customer_id``, ``purchase_date`` (one row per customer and purchase day),
    ``net_revenue``. Customers whose first purchase is after ``calibration_end`` are left out.
    """
    pdays = purchase_days[["customer_id", "purchase_date", "net_revenue"]].copy()
    pdays["purchase_date"] = pd.to_datetime(pdays["purchase_date"])
    pdays = pdays[pdays["purchase_date"] <= pd.Timestamp(as_of_date)]
    end = pd.Timestamp(calibration_end)
    cal = pdays[pdays["purchase_date"] <= end]
    first = cal.groupby("customer_id")["purchase_date"].min().rename("first_date")
    cal = cal.join(first, on="customer_id")
    g = cal.groupby("customer_id")
    summary = pd.DataFrame(
        {
            "frequency": g.size() - 1,
            "recency_days": (g["purchase_date"].max() - first).dt.days,
            "tenure_days": (end - first).dt.days,
        }
    )
    repeat = cal[cal["purchase_date"] > cal["first_date"]]
    summary["avg_repeat_day_revenue"] = repeat.groupby("customer_id")["net_revenue"].mean().astype(float)
    hold = pdays[(pdays["purchase_date"] > end) & pdays["customer_id"].isin(summary.index)]
    summary["holdout_purchase_days"] = hold.groupby("customer_id").size()
    summary["holdout_purchase_days"] = summary["holdout_purchase_days"].fillna(0).astype(int)
    return summary.reset_index()


def backtest(purchase_days: pd.DataFrame, as_of_date: date, settings: ClvSettings) -> pd.DataFrame:
    """Fit BG/NBD (only: spend plays no part) on data up to ``as_of_date - holdout_days`` and compare
    with the holdout.

    Returns the rows of the ``clv_backtest`` mart: ``breakdown`` in {total, calibration_frequency,
    week}; ``bucket`` (``all``; ``0``..``6``, ``7+``; the week number), ``bucket_order``,
    ``customers``, ``actual_repeat_purchases``, ``predicted_repeat_purchases`` (for ``week`` rows:
    cumulative to the end of that week), and for the total row the per-customer correlation and
    mean absolute error plus the calibration fit's parameters. Every row carries the calibration
    fit's ``model_status`` and ``model_status_reason``: when it is not ``fitted`` (too few buyers
    by the calibration end, e.g. a history shorter than the holdout, or a failed fit) the rows
    still give the actual holdout purchases, and every prediction, error and parameter is null.
    """
    holdout = settings.holdout_days
    cal_end = as_of_date - timedelta(days=holdout)
    cal = calibration_summary(purchase_days, cal_end, as_of_date)
    bg: BgNbdFit | None = None
    status = "fitted"
    reason = f"The purchase model (BG/NBD) was refitted on the purchases up to {cal_end} and tested on the holdout."
    if cal.empty:
        status = "insufficient_data"
        reason = (
            f"No customer had bought by {cal_end}, the end of the calibration period (as_of_date minus the "
            f"{holdout}-day holdout, var clv_holdout_days): the history is too short to test the purchase "
            "model against what happened next."
        )
    else:
        try:
            bg = _fit_purchase_model(_buyers(cal), settings)
        except ClvFitError as exc:
            failed = model_failure(PURCHASE_MODEL, exc)
            status = failed.status
            reason = f"Refitted on the purchases up to {cal_end}: {failed.reason} The backtest has no predictions."
    x = cal["frequency"].to_numpy(dtype=float)
    t_x = cal["recency_days"].to_numpy(dtype=float)
    T = cal["tenure_days"].to_numpy(dtype=float)
    actual = cal["holdout_purchase_days"].to_numpy(dtype=float)

    def predict(t: float) -> np.ndarray | None:
        return None if bg is None else expected_purchases(bg, t, x, t_x, T)

    predicted = predict(float(holdout))
    corr = None
    mae = None
    if predicted is not None:
        corr = float(np.corrcoef(predicted, actual)[0, 1]) if len(cal) > 1 and actual.std() > 0 else None
        mae = float(np.abs(predicted - actual).mean())
    base = {
        "as_of_date": as_of_date,
        "calibration_end_date": cal_end,
        "holdout_days": holdout,
        "model_status": status,
        "model_status_reason": reason,
    }
    no_fit = {"correlation": None, "mean_absolute_error": None, "r": None, "alpha": None, "a": None, "b": None}
    rows: list[dict[str, object]] = [
        {
            **base,
            **no_fit,
            "breakdown": "total",
            "bucket": "all",
            "bucket_order": 0,
            "customers": len(cal),
            "actual_repeat_purchases": float(actual.sum()),
            "predicted_repeat_purchases": None if predicted is None else float(predicted.sum()),
            "correlation": corr,
            "mean_absolute_error": mae,
            **({"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b} if bg is not None else {}),
        }
    ]
    bucket = np.minimum(x, 7).astype(int)
    for k in range(8):
        sel = bucket == k
        rows.append(
            {
                **base,
                **no_fit,
                "breakdown": "calibration_frequency",
                "bucket": f"{k}+" if k == 7 else str(k),
                "bucket_order": k,
                "customers": int(sel.sum()),
                "actual_repeat_purchases": float(actual[sel].sum()),
                "predicted_repeat_purchases": None if predicted is None else float(predicted[sel].sum()),
                "mean_absolute_error": float(np.abs(predicted[sel] - actual[sel]).mean())
                if predicted is not None and sel.any()
                else None,
            }
        )
    pdays = purchase_days[["customer_id", "purchase_date"]].copy()
    pdays["purchase_date"] = pd.to_datetime(pdays["purchase_date"])
    hold = pdays[
        (pdays["purchase_date"] > pd.Timestamp(cal_end))
        & (pdays["purchase_date"] <= pd.Timestamp(as_of_date))
        & pdays["customer_id"].isin(cal["customer_id"])
    ]
    day_in_holdout = (hold["purchase_date"] - pd.Timestamp(cal_end)).dt.days.to_numpy()
    n_weeks = math.ceil(holdout / 7)
    for week in range(1, n_weeks + 1):
        t = float(min(7 * week, holdout))
        week_predicted = predict(t)
        rows.append(
            {
                **base,
                **no_fit,
                "breakdown": "week",
                "bucket": str(week),
                "bucket_order": week,
                "customers": len(cal),
                "actual_repeat_purchases": float((day_in_holdout <= t).sum()),
                "predicted_repeat_purchases": None if week_predicted is None else float(week_predicted.sum()),
            }
        )
    out = pd.DataFrame(rows)
    # Null-only columns (no correlation when nobody bought in the holdout) must stay DOUBLE.
    nullable = ["predicted_repeat_purchases", "correlation", "mean_absolute_error", "r", "alpha", "a", "b"]
    out[nullable] = out[nullable].astype(float)
    return out
