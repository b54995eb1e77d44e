"""The CLV steps the dbt Python models run: fit, score, backtest (pandas in, pandas out).

The dbt models under ``models/intermediate/clv/`` are thin wrappers around these functions, so
everything here is unit-tested without dbt (``tests/python/test_clv_pipeline.py``). The maths is
in :mod:`lifecycle.clv`.

Inputs are per-customer summaries in days with the columns of ``int_customers_clv_summarised``:
``customer_id``, ``frequency`` (repeat purchase days), ``recency_days``, ``tenure_days``,
``avg_repeat_day_revenue`` (mean net revenue per repeat purchase day), ``margin_rate``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from lifecycle.clv import (
    ClvFitError,
    GammaGammaFit,
    conditional_expected_spend,
    expected_next_purchase_days,
    fit_gamma_gamma,
)
from lifecycle.clv.gamma_gamma import gamma_gamma_standard_errors
from lifecycle.clv.intervals import purchase_intervals
from lifecycle.clv.models import PURCHASE_MODELS, PurchaseModel
from lifecycle.clv.value import discounted_purchases
from lifecycle.clv_status import (
    SPEND_MODEL,
    FitOutcome,
    ModelFailure,
    PurchaseOutcome,
    degenerate_gamma_gamma,
    degenerate_purchase_model,
    model_failure,
    purchase_model_words,
)

#: Below this p_alive the next-purchase date is not reported (the customer is more likely gone).
NEXT_PURCHASE_MIN_P_ALIVE = 0.5
#: The per-customer intervals: 80 %, the 10th and 90th percentiles (lifecycle.clv.intervals).
INTERVAL_LEVEL = 0.8
INTERVAL_COLUMNS = ("expected_purchases_p10", "expected_purchases_p90", "predicted_clv_p10", "predicted_clv_p90")


@dataclass(frozen=True)
class ClvSettings:
    """The dbt vars that drive the CLV models."""

    horizon_days: int = 365
    annual_discount_rate: float = 0.10
    holdout_days: int = 180
    min_repeat_buyers: int = 10
    at_risk_p_alive: float = 0.3
    #: The purchase model of the marts: ``auto`` (chosen by the holdout score) or a name of
    #: :data:`lifecycle.clv.models.PURCHASE_MODELS` (the dbt var ``clv_model``).
    clv_model: str = "auto"
    #: Seed of the per-customer intervals' random draws (the dbt var ``clv_interval_seed``).
    interval_seed: int = 20261202
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
        if self.clv_model != "auto" and self.clv_model not in PURCHASE_MODELS:
            choices = ", ".join(["auto", *PURCHASE_MODELS])
            raise ValueError(f"clv_model must be one of {choices}, got {self.clv_model!r}")


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
        clv_model=str(config.get("clv_model", "auto")).strip(),
        interval_seed=int(str(config.get("interval_seed", 20261202))),
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


def _customer_arrays(buyers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        buyers["frequency"].to_numpy(dtype=float),
        buyers["recency_days"].to_numpy(dtype=float),
        buyers["tenure_days"].to_numpy(dtype=float),
    )


def fit_purchase_model(model: PurchaseModel, buyers: pd.DataFrame, settings: ClvSettings) -> PurchaseOutcome:
    """One purchase model on the buyers: its fit and log-parameter covariance, or the reason it
    cannot be used (thin data, no convergence, a degenerate optimum), never an exception for data
    that merely cannot support it."""
    started = time.perf_counter()
    words = purchase_model_words(model.label)
    try:
        if buyers.empty:
            raise ClvFitError("no customer has a purchase on or before as_of_date: nothing to fit", "insufficient_data")
        x, t_x, T = _customer_arrays(buyers)
        fit = model.fit(x, t_x, T, min_repeat_buyers=settings.min_repeat_buyers, max_iter=settings.max_iter)
        _check_parameters(model.params(fit))
        problem = degenerate_purchase_model(model, fit, buyers)
        if problem is not None:
            raise problem
    except ClvFitError as exc:
        return PurchaseOutcome(model, None, model_failure(words, exc), fit_seconds=time.perf_counter() - started)
    try:
        log_cov: np.ndarray | None = model.log_covariance(fit, x, t_x, T)
    except ClvFitError:
        log_cov = None  # no standard errors (singular information); the fit itself stands
    return PurchaseOutcome(model, fit, None, log_cov, time.perf_counter() - started)


def holdout_score(mean_absolute_error: float, predicted_total: float, actual_total: float, customers: int) -> float:
    """The documented holdout score of a purchase model (lower is better; doc block
    clv_holdout_score): the per-customer mean absolute error of the holdout purchase days plus the
    aggregate forecast's error per customer, ``|Σ predicted − Σ actual| / customers``; both in
    purchases per customer."""
    return mean_absolute_error + abs(predicted_total - actual_total) / customers


def choose_model(
    outcomes: tuple[PurchaseOutcome, ...], setting: str, scores: Mapping[str, float] | None
) -> tuple[str | None, str]:
    """The purchase model the marts use and why, in one sentence.

    ``setting`` (the var ``clv_model``) pins a model, used only when it was fitted. ``auto``: the
    fitted model with the lowest holdout score (ties: the simpler model, in
    :data:`PURCHASE_MODELS` order); with no holdout score (the backtest could not be fitted) the
    highest log-likelihood on all data (all three have four parameters).
    """
    fitted = [o for o in outcomes if o.fit is not None]
    if setting != "auto":
        pinned = next(o for o in outcomes if o.model.name == setting)
        if pinned.fit is None:
            return None, f"The var clv_model pins {pinned.model.label}, which could not be fitted."
        return setting, f"{pinned.model.label} is used because the var clv_model pins it."
    if not fitted:
        return None, "No purchase model could be fitted."
    scored = [
        (scores[o.model.name], i, o)
        for i, o in enumerate(fitted)
        if scores and math.isfinite(scores.get(o.model.name, math.nan))
    ]
    if scored:
        best = min(scored, key=lambda e: (e[0], e[1]))[2]
        return best.model.name, (
            f"{best.model.label} is used: the lowest holdout score ({scores[best.model.name]:.4f}; "
            f"var clv_model = auto) of the {len(scored)} purchase models tested on the holdout."
        )
    best = max(fitted, key=lambda o: o.fit.log_likelihood)
    return best.model.name, (
        f"{best.model.label} is used: no model could be tested on the holdout, so the one with the highest "
        "log-likelihood on all purchases was chosen (var clv_model = auto)."
    )


def fit_outcome(summary: pd.DataFrame, settings: ClvSettings, scores: Mapping[str, float] | None = None) -> FitOutcome:
    """Fit every purchase model on every buyer and Gamma-Gamma on repeat buyers with positive
    spend, each on its own, and choose the purchase model (:func:`choose_model`, ``scores`` from
    :func:`holdout_scores`): a model the data cannot support is reported (status and plain
    reason), not raised.

    Invalid summaries (NaN, recency beyond tenure, missing columns) still raise
    :class:`ClvFitError`: they are a broken upstream model, not thin data.
    """
    started = time.perf_counter()
    buyers = _buyers(summary)
    outcomes = tuple(fit_purchase_model(model, buyers, settings) for model in PURCHASE_MODELS.values())
    chosen, why = choose_model(outcomes, settings.clv_model, scores)
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
    gg_se = None if gg is None else gamma_gamma_standard_errors(gg, x[spenders], m[spenders])
    return FitOutcome(outcomes, gg, gg_failure, chosen, why, time.perf_counter() - started, settings.clv_model, gg_se)


def fit_models(summary: pd.DataFrame, settings: ClvSettings) -> tuple[Any, GammaGammaFit]:
    """The chosen purchase model's fit and the spend fit, or :class:`ClvFitError` naming the model
    that failed and why (strict form of :func:`fit_outcome`, for callers that need both models)."""
    outcome = fit_outcome(summary, settings)
    chosen = outcome.chosen_outcome
    if chosen is None or outcome.gamma_gamma is None:
        raise ClvFitError(
            f"{outcome.reason} ({outcome.detail})", outcome.status, {"purchase_model_status": outcome.purchase_status}
        )
    return chosen.fit, outcome.gamma_gamma


def _check_parameters(params: dict[str, float]) -> None:
    for name, value in params.items():
        if not math.isfinite(value) or value <= 0:
            raise ClvFitError(f"fitted parameter {name} = {value} is not a positive finite number", "degenerate")


def holdout_scores(backtest_rows: pd.DataFrame) -> dict[str, float]:
    """Each purchase model's holdout score from the ``total`` rows of :func:`backtest` (models the
    calibration period could not fit have none)."""
    total = backtest_rows[backtest_rows["breakdown"] == "total"]
    return {
        str(row["purchase_model"]): float(row["holdout_score"])
        for _, row in total.iterrows()
        if row["holdout_score"] is not None and math.isfinite(float(row["holdout_score"]))
    }


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


#: Every purchase model's parameter columns in ``clv_model_parameters`` (null where a model has no
#: such parameter: BG/NBD and MBG/NBD have a, b; Pareto/NBD s, beta).
PARAMETER_COLUMNS = tuple(dict.fromkeys(name for m in PURCHASE_MODELS.values() for name in m.param_names))
_FLOAT_COLUMNS = (
    *PARAMETER_COLUMNS,
    *(f"{name}_se" for name in PARAMETER_COLUMNS),
    "purchase_model_log_likelihood",
    "holdout_score",
    "holdout_mean_absolute_error",
    "p",
    "q",
    "gamma",
    "p_se",
    "q_se",
    "gamma_se",
    "gamma_gamma_log_likelihood",
    "population_avg_order_value",
)
_INT_COLUMNS = (
    "purchase_model_customers",
    "purchase_model_patterns",
    "purchase_model_iterations",
    "gamma_gamma_customers",
    "gamma_gamma_iterations",
)


def parameters_rows(
    outcome: FitOutcome, as_of_date: date, settings: ClvSettings, scores: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """One row per purchase model (the ``clv_model_parameters`` mart): its parameters, standard
    errors, log-likelihood, holdout score and status, whether it is the chosen one, and the build's
    Gamma-Gamma fit and overall ``model_status`` with its plain ``model_status_reason`` (the same
    on every row). ``log_covariance`` (JSON, the covariance of the log-parameters) lets scoring
    rebuild the fit with its uncertainty."""
    gg, ggf = outcome.gamma_gamma, outcome.gamma_gamma_failure
    rows = []
    for o in outcome.purchase:
        fit, se = o.fit, o.standard_errors
        row: dict[str, object] = {
            "as_of_date": as_of_date,
            "time_unit": "day",
            "purchase_model": o.model.name,
            "purchase_model_label": o.model.label,
            "clv_model_setting": outcome.setting,
            "is_chosen": o.model.name == outcome.chosen,
            "choice_reason": outcome.choice_reason,
            "model_status": outcome.status,
            "model_status_reason": outcome.reason,
            "model_status_detail": outcome.detail or None,
            "purchase_model_status": o.status,
            "purchase_model_status_reason": None if o.failure is None else o.failure.reason,
            "gamma_gamma_status": outcome.gamma_gamma_status,
            **{name: None for name in PARAMETER_COLUMNS},
            **{f"{name}_se": None for name in PARAMETER_COLUMNS},
            **(o.model.params(fit) if fit is not None else {}),
            **({f"{k}_se": v for k, v in se.items()} if se is not None else {}),
            "log_covariance": None if o.log_cov is None else json.dumps(o.log_cov.tolist()),
            "purchase_model_log_likelihood": fit.log_likelihood if fit is not None else None,
            "purchase_model_customers": fit.n_customers if fit is not None else None,
            "purchase_model_patterns": fit.n_patterns if fit is not None else None,
            "purchase_model_iterations": fit.iterations
            if fit is not None
            else (o.failure.iterations if o.failure else None),
            "holdout_score": (scores or {}).get(o.model.name),
            "p": gg.p if gg else None,
            "q": gg.q if gg else None,
            "gamma": gg.gamma if gg else None,
            **{f"{k}_se": (outcome.gamma_gamma_se or {}).get(k) for k in ("p", "q", "gamma")},
            "gamma_gamma_log_likelihood": gg.log_likelihood if gg else None,
            "gamma_gamma_customers": gg.n_customers if gg else None,
            "gamma_gamma_iterations": gg.iterations if gg else (ggf.iterations if ggf else None),
            "is_converged": bool(fit is not None and gg is not None and fit.converged and gg.converged),
            "fit_seconds": o.fit_seconds,
            "population_avg_order_value": gg.mean_spend if gg else None,
            "horizon_days": settings.horizon_days,
            "annual_discount_rate": settings.annual_discount_rate,
        }
        rows.append(row)
    out = pd.DataFrame(rows)
    out = out.drop(columns=["holdout_mean_absolute_error"], errors="ignore")
    # Typed even when null, so the table (and the mart's contract) keeps its types on thin data.
    for column in _FLOAT_COLUMNS:
        if column in out:
            out[column] = pd.Series(pd.array(out[column].tolist(), dtype=pd.ArrowDtype(pa.float64())))
    for column in _INT_COLUMNS:
        out[column] = pd.Series(pd.array(out[column].tolist(), dtype=pd.ArrowDtype(pa.int64())))
    for column in ("model_status_detail", "purchase_model_status_reason", "log_covariance"):
        text = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in out[column]]
        out[column] = pd.Series(pd.array(text, dtype=pd.ArrowDtype(pa.string())))
    return out


@dataclass(frozen=True)
class StoredFits:
    """The chosen purchase model (None when none), its fit and log-parameter covariance, and the
    spend fit (None when not fitted), rebuilt from the ``parameters_rows`` table."""

    model: PurchaseModel | None
    fit: Any | None
    log_cov: np.ndarray | None
    gamma_gamma: GammaGammaFit | None


def fits_from_parameters(rows: pd.DataFrame) -> StoredFits:
    """Rebuild the chosen fit and the spend fit from the ``parameters_rows`` table (scoring reuses
    the stored fit)."""
    first = rows.iloc[0]
    gg = None
    if first["gamma_gamma_status"] == "fitted":
        gg = GammaGammaFit(
            p=float(first["p"]),
            q=float(first["q"]),
            gamma=float(first["gamma"]),
            log_likelihood=float(first["gamma_gamma_log_likelihood"]),
            n_customers=int(first["gamma_gamma_customers"]),
            converged=True,
            iterations=int(first["gamma_gamma_iterations"]),
            fit_seconds=0.0,
            message="stored",
        )
    chosen = rows[rows["is_chosen"].astype(bool)]
    if chosen.empty:
        return StoredFits(None, None, None, gg)
    row = chosen.iloc[0]
    model = PURCHASE_MODELS[str(row["purchase_model"])]
    fit = model.make_fit(
        {name: float(row[name]) for name in model.param_names},
        log_likelihood=float(row["purchase_model_log_likelihood"]),
        n_customers=int(row["purchase_model_customers"]),
        n_patterns=int(row["purchase_model_patterns"]),
        iterations=int(row["purchase_model_iterations"]),
        message="stored",
    )
    cov = row.get("log_covariance")
    log_cov = None if cov is None or pd.isna(cov) else np.array(json.loads(str(cov)))
    return StoredFits(model, fit, log_cov, gg)


def reported_p_alive(model: PurchaseModel, fit: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The build's one p_alive (customer_lifecycle, customer_clv, the history): the chosen model's,
    NaN (null) where that model cannot tell, i.e. BG/NBD's one-time buyers, whom it keeps alive by
    construction (it lets a customer drop out only after a repeat purchase); their stage then
    comes from purchase cadence alone (doc block marts_lifecycle_rules)."""
    pa = model.p_alive(fit, x, t_x, T)
    if not model.one_time_buyers_can_drop_out:
        pa = np.where(np.asarray(x) > 0, pa, np.nan)
    return np.asarray(pa, dtype=float)


def p_alive_crossing_days(
    model: PurchaseModel, fit: Any, x: np.ndarray, t_x: np.ndarray, threshold: float
) -> np.ndarray:
    """Tenure (days since the first purchase) at which the reported p_alive first falls below
    ``threshold`` (a real number of days for BG/NBD and MBG/NBD, a whole day for Pareto/NBD).

    p_alive decreases in the tenure T for a fixed (x, t_x). BG/NBD (x > 0) and MBG/NBD (every x):
    p_alive = 1 / (1 + a/(b+x-k) ((α+T)/(α+t_x))^(r+x)), k = 1 for BG/NBD, 0 for MBG/NBD, is below
    ``threshold`` exactly when ``α + T > (α + t_x) (((1-θ)/θ) (b+x-k)/a)^(1/(r+x))``. Pareto/NBD:
    the first whole day by bisection on the distinct (x, t_x). NaN where the reported p_alive is
    null (BG/NBD one-time buyers), for ``threshold`` = 0, and beyond ten million days.
    """
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    out = np.full(x.shape, np.nan)
    if threshold <= 0:
        return out
    if model.name in ("bg_nbd", "mbg_nbd"):
        k = 1.0 if model.name == "bg_nbd" else 0.0
        use = x > 0 if model.name == "bg_nbd" else np.ones(x.shape, dtype=bool)
        log_ratio = (np.log1p(-threshold) - math.log(threshold) + np.log(fit.b + x[use] - k) - math.log(fit.a)) / (
            fit.r + x[use]
        )
        out[use] = np.maximum((fit.alpha + t_x[use]) * np.exp(log_ratio) - fit.alpha, t_x[use])
        return out
    pairs, inv = np.unique(np.stack([x, t_x], axis=1), axis=0, return_inverse=True)
    px, ptx = pairs[:, 0], pairs[:, 1]
    lo = ptx.copy()  # p_alive(t_x) may already be below: then the crossing is t_x itself
    hi = ptx + 1.0
    limit = 1e7
    for _ in range(64):  # bracket: double the distance until p_alive < threshold or the limit
        above = (model.p_alive(fit, px, ptx, hi) >= threshold) & (hi < limit)
        if not above.any():
            break
        hi = np.where(above, ptx + 2.0 * (hi - ptx), hi)
    found = model.p_alive(fit, px, ptx, hi) < threshold
    below_at_start = model.p_alive(fit, px, ptx, ptx) < threshold
    lo = np.where(below_at_start, ptx, np.maximum(ptx, np.floor((hi - ptx) / 2.0) + ptx))
    lo = np.where(below_at_start, lo, np.minimum(lo, hi - 1.0))
    for _ in range(64):  # invariant: p_alive(lo) >= threshold (unless below at start), p_alive(hi) < threshold
        gap = hi - lo > 1.0
        if not (gap & found & ~below_at_start).any():
            break
        mid = np.floor((lo + hi) / 2.0)
        below = model.p_alive(fit, px, ptx, mid) < threshold
        move = gap & found & ~below_at_start
        hi = np.where(move & below, mid, hi)
        lo = np.where(move & ~below, mid, lo)
    crossing = np.where(below_at_start, ptx, hi - 1.0)  # the last day still >= threshold
    crossing = np.where(found, crossing, np.nan)
    return np.asarray(crossing[inv.reshape(-1)], dtype=float)


def score_customers(
    summary: pd.DataFrame,
    fits: StoredFits,
    as_of_date: date,
    settings: ClvSettings,
) -> pd.DataFrame:
    """Per-buyer predictions of the chosen purchase model and the spend model. Prospects (no
    purchase) are not scored: the mart reports them as 0.

    p_alive itself is not a column: the build's one p_alive (:func:`reported_p_alive`) is stored per
    snapshot pattern (``int_customer_snapshot_patterns_scored``); it is used here only inside the
    math (the next-purchase date and the date p_alive falls below ``at_risk_p_alive``).

    Columns: ``customer_id``, ``expected_purchases_90d``,
    ``expected_purchases_horizon``, ``expected_avg_order_value``, ``predicted_revenue``,
    ``predicted_clv``, ``margin_rate_used``, ``is_margin_rate_estimated``,
    ``expected_next_purchase_date`` (the median wait given alive, see
    :func:`lifecycle.clv.expected_next_purchase_days`, the same posterior of the purchase rate in
    every model; null when p_alive < 0.5 or the wait exceeds the horizon), ``low_p_alive_from_date``
    (the first day with p_alive < ``at_risk_p_alive``, past or projected; on or before
    ``as_of_date`` exactly when p_alive < ``at_risk_p_alive`` now; null where p_alive is null, for
    ``at_risk_p_alive`` = 0 and beyond 9999-12-31), ``expected_purchases_p10`` / ``_p90`` and
    ``predicted_clv_p10`` / ``_p90`` (the 80 % prediction interval over the horizon,
    :mod:`lifecycle.clv.intervals`; deterministic for a build: seeded with ``interval_seed`` and the
    as-of date). Date columns are Arrow ``date32`` so that DuckDB types them DATE even when every
    value is null.

    A model that was not fitted leaves its columns null for every buyer: without the purchase
    model the expected purchases and the two dates; without the spend model
    expected_avg_order_value; without either, predicted_revenue and predicted_clv.
    """
    buyers = _buyers(summary)
    n = len(buyers)
    x, t_x, T = _customer_arrays(buyers)
    m = buyers["avg_repeat_day_revenue"].to_numpy(dtype=float)
    gg, model, fit = fits.gamma_gamma, fits.model, fits.fit
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
    bounds: dict[str, np.ndarray | None] = dict.fromkeys(INTERVAL_COLUMNS)
    next_dates: list[date | None] = [None] * n
    low_p_alive_dates: list[date | None] = [None] * n
    if model is not None and fit is not None:
        pa = model.p_alive(fit, x, t_x, T)
        alive = model.alive_expectation(fit, x, T, [90.0, float(settings.horizon_days)])
        purchases_90d = pa * alive[:, 0]
        purchases_horizon = pa * alive[:, 1]
        discounted = discounted_purchases(
            model, fit, x, t_x, T, settings.horizon_days, settings.annual_discount_rate, p_alive_now=pa
        )
        if spend is not None:
            revenue = spend * discounted
        # The discount weight of a future's value: discounted over undiscounted expected purchases.
        weight = np.divide(discounted, purchases_horizon, out=np.ones(n), where=purchases_horizon > 0)
        intervals = purchase_intervals(
            model,
            fit,
            fits.log_cov,
            x,
            t_x,
            T,
            float(settings.horizon_days),
            spend=gg,
            mean_spend=m,
            discount_weight=weight,
            margin_rate=margin_rate,
            level=INTERVAL_LEVEL,
            seed=[settings.interval_seed, as_of_date.toordinal()],
        )
        bounds = {
            "expected_purchases_p10": intervals.purchases_low,
            "expected_purchases_p90": intervals.purchases_high,
            "predicted_clv_p10": intervals.clv_low,
            "predicted_clv_p90": intervals.clv_high,
        }
        wait = expected_next_purchase_days(fit, x, t_x, T)
        # Reported only when likely alive and expected within the horizon; otherwise null.
        next_dates = [
            as_of_date + timedelta(days=math.ceil(w))
            if math.isfinite(w) and w <= settings.horizon_days and p >= NEXT_PURCHASE_MIN_P_ALIVE
            else None
            for w, p in zip(wait, pa, strict=True)
        ]
        # The first whole day of tenure on which p_alive < at_risk_p_alive (customer_lifecycle's
        # rule): the day after the crossing, or the last purchase day itself when p_alive is below
        # the threshold from then on. Null where p_alive is null, and when beyond the calendar.
        threshold = settings.at_risk_p_alive
        crossing = p_alive_crossing_days(model, fit, x, t_x, threshold)
        reported_at_last = reported_p_alive(model, fit, x, t_x, t_x)
        below_from_last = np.isfinite(reported_at_last) & (reported_at_last < threshold)
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
            **{name: _float_column(values, n) for name, values in bounds.items()},
            "margin_rate_used": margin_rate,
            "is_margin_rate_estimated": ~known,
            "expected_next_purchase_date": _date_column(next_dates),
            "low_p_alive_from_date": _date_column(low_p_alive_dates),
        }
    )


def score_snapshot_patterns(patterns: pd.DataFrame, fits: StoredFits) -> pd.DataFrame:
    """The reported p_alive (:func:`reported_p_alive`) of every distinct (frequency, recency_days,
    tenure_days) of the lifecycle snapshots; null for every pattern when no purchase model is used."""
    x, t_x, T = _customer_arrays(patterns)
    out = patterns[["frequency", "recency_days", "tenure_days"]].reset_index(drop=True).copy()
    values = None
    if fits.model is not None and fits.fit is not None and len(out):
        values = reported_p_alive(fits.model, fits.fit, x, t_x, T)
    out["p_alive"] = _float_column(values, len(out))
    return out


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


#: Deciles of the calibration mart (``clv_calibration``).
CALIBRATION_BINS = 10


def _calibration_rows(
    predicted_probability: np.ndarray, p_alive_now: np.ndarray, bought: np.ndarray
) -> list[dict[str, object]]:
    """Customers cut into :data:`CALIBRATION_BINS` equal-count bins by their predicted probability
    of buying in the holdout (ties broken by position, so each bin has the same count up to one):
    per bin the mean predicted probability, the observed share who bought and the mean p_alive."""
    n = predicted_probability.shape[0]
    order = np.argsort(predicted_probability, kind="mergesort")
    bins = np.empty(n, dtype=int)
    bins[order] = (np.arange(n) * CALIBRATION_BINS) // max(n, 1)
    rows: list[dict[str, object]] = []
    for k in range(CALIBRATION_BINS):
        sel = bins == k
        if not sel.any():
            continue
        rows.append(
            {
                "breakdown": "purchase_probability_decile",
                "bucket": str(k + 1),
                "bucket_order": k + 1,
                "customers": int(sel.sum()),
                "mean_predicted_probability": float(predicted_probability[sel].mean()),
                "observed_share_bought": float(bought[sel].mean()),
                "mean_p_alive": float(p_alive_now[sel].mean()),
                "min_predicted_probability": float(predicted_probability[sel].min()),
                "max_predicted_probability": float(predicted_probability[sel].max()),
            }
        )
    return rows


def backtest(purchase_days: pd.DataFrame, as_of_date: date, settings: ClvSettings) -> pd.DataFrame:
    """Fit every purchase model (spend plays no part) on data up to ``as_of_date - holdout_days``
    and compare with the holdout.

    Returns, for each model (``purchase_model``), the rows of the ``clv_backtest`` mart:
    ``breakdown`` in {total, calibration_frequency, week}; ``bucket`` (``all``; ``0``..``6``,
    ``7+``; the week number), ``bucket_order``, ``customers``, ``actual_repeat_purchases``,
    ``predicted_repeat_purchases`` (for ``week`` rows: cumulative to the end of that week), and for
    the total row the per-customer correlation and mean absolute error, the
    :func:`holdout_score` and the calibration fit's parameters; and the rows of the
    ``clv_calibration`` mart (``breakdown = purchase_probability_decile``,
    :func:`_calibration_rows`). Every row carries the calibration fit's ``model_status`` and
    ``model_status_reason``: when it is not ``fitted`` (too few buyers by the calibration end, e.g.
    a history shorter than the holdout, or a failed fit) the rows still give the actual holdout
    purchases, and every prediction, error and parameter is null.
    """
    holdout = settings.holdout_days
    cal_end = as_of_date - timedelta(days=holdout)
    cal = calibration_summary(purchase_days, cal_end, as_of_date)
    x, t_x, T = _customer_arrays(cal)
    actual = cal["holdout_purchase_days"].to_numpy(dtype=float)
    bucket = np.minimum(x, 7).astype(int)
    pdays = purchase_days[["customer_id", "purchase_date"]].copy()
    pdays["purchase_date"] = pd.to_datetime(pdays["purchase_date"])
    hold = pdays[
        (pdays["purchase_date"] > pd.Timestamp(cal_end))
        & (pdays["purchase_date"] <= pd.Timestamp(as_of_date))
        & pdays["customer_id"].isin(cal["customer_id"])
    ]
    day_in_holdout = (hold["purchase_date"] - pd.Timestamp(cal_end)).dt.days.to_numpy()
    n_weeks = math.ceil(holdout / 7)
    week_ends = np.array([float(min(7 * week, holdout)) for week in range(1, n_weeks + 1)])
    rows: list[dict[str, object]] = []
    for model in PURCHASE_MODELS.values():
        fit = None
        status = "fitted"
        reason = (
            f"The purchase model ({model.label}) was refitted on the purchases up to {cal_end} and tested on the "
            "holdout."
        )
        if cal.empty:
            status = "insufficient_data"
            reason = (
                f"No customer had bought by {cal_end}, the end of the calibration period (as_of_date minus the "
                f"{holdout}-day holdout, var clv_holdout_days): the history is too short to test the purchase "
                "model against what happened next."
            )
        else:
            outcome = fit_purchase_model(model, _buyers(cal), settings)
            fit = outcome.fit
            if outcome.failure is not None:
                status = outcome.failure.status
                reason = (
                    f"Refitted on the purchases up to {cal_end}: {outcome.failure.reason} "
                    "The backtest has no predictions."
                )
        curve = None  # expected purchases at each week end, (customers, weeks)
        pa = None
        if fit is not None:
            pa = model.p_alive(fit, x, t_x, T)
            curve = pa[:, None] * model.alive_expectation(fit, x, T, week_ends)
        predicted = None if curve is None else curve[:, -1]
        corr = mae = score = None
        if predicted is not None:
            corr = float(np.corrcoef(predicted, actual)[0, 1]) if len(cal) > 1 and actual.std() > 0 else None
            mae = float(np.abs(predicted - actual).mean())
            score = holdout_score(mae, float(predicted.sum()), float(actual.sum()), len(cal))
        base = {
            "purchase_model": model.name,
            "as_of_date": as_of_date,
            "calibration_end_date": cal_end,
            "holdout_days": holdout,
            "model_status": status,
            "model_status_reason": reason,
        }
        params = {name: None for name in PARAMETER_COLUMNS}
        rows.append(
            {
                **base,
                "breakdown": "total",
                "bucket": "all",
                "bucket_order": 0,
                "customers": len(cal),
                "actual_repeat_purchases": float(actual.sum()),
                "predicted_repeat_purchases": None if predicted is None else float(predicted.sum()),
                "correlation": corr,
                "mean_absolute_error": mae,
                "holdout_score": score,
                **params,
                **(model.params(fit) if fit is not None else {}),
            }
        )
        for k in range(8):
            sel = bucket == k
            rows.append(
                {
                    **base,
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
        for week, t in enumerate(week_ends, start=1):
            rows.append(
                {
                    **base,
                    "breakdown": "week",
                    "bucket": str(week),
                    "bucket_order": week,
                    "customers": len(cal),
                    "actual_repeat_purchases": float((day_in_holdout <= t).sum()),
                    "predicted_repeat_purchases": None if curve is None else float(curve[:, week - 1].sum()),
                }
            )
        if fit is not None and pa is not None and len(cal):
            bought_probability = model.conditional_probability_of_any_purchase(fit, float(holdout), x, t_x, T)
            rows.extend({**base, **row} for row in _calibration_rows(bought_probability, pa, actual > 0))
    out = pd.DataFrame(rows)
    # Null-only columns (no correlation when nobody bought in the holdout) must stay DOUBLE.
    nullable = [
        "predicted_repeat_purchases",
        "correlation",
        "mean_absolute_error",
        "holdout_score",
        "mean_predicted_probability",
        "observed_share_bought",
        "mean_p_alive",
        "min_predicted_probability",
        "max_predicted_probability",
        *PARAMETER_COLUMNS,
    ]
    for column in nullable:
        out[column] = out[column].astype(float) if column in out else np.nan
    return out
