"""Unit tests of lifecycle.clv_pipeline: the fit / score / backtest steps the dbt Python models run.

No dbt here: the functions take and return pandas frames. The maths is tested in test_clv.py; these
tests pin what the pipeline adds on top (input checks, failure messages, the stored-fit round trip,
margin fallback, the at-risk crossing date, the next-purchase date, the calibration summary, the
backtest breakdowns) and that the frames load into DuckDB with the types the mart contracts expect.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from lifecycle import clv, paths
from lifecycle.clv import BgNbdFit, ClvFitError, GammaGammaFit
from lifecycle.clv.models import PURCHASE_MODELS
from lifecycle.clv_pipeline import (
    NEXT_PURCHASE_MIN_P_ALIVE,
    ClvSettings,
    StoredFits,
    as_date,
    backtest,
    calibration_summary,
    choose_model,
    fit_models,
    fit_outcome,
    fits_from_parameters,
    holdout_score,
    p_alive_crossing_days,
    parameters_rows,
    reported_p_alive,
    score_customers,
    score_snapshot_patterns,
    settings_from_config,
)
from lifecycle.clv_status import (
    DEGENERATE_ALIVE_SHARE,
    DEGENERATE_P_ALIVE,
    MODEL_STATUSES,
    FitOutcome,
    ModelFailure,
    PurchaseOutcome,
)

AS_OF = date(2026, 9, 30)
TRUE_BG = {"r": 0.5, "alpha": 40.0, "a": 0.8, "b": 3.0}
TRUE_GG = {"p": 6.0, "q": 4.0, "gamma": 15.0}


BG_MODEL = PURCHASE_MODELS["bg_nbd"]


def _fits(bg: BgNbdFit | None, gg: GammaGammaFit | None) -> StoredFits:
    """The stored fits of a build whose chosen purchase model is ``bg`` (BG/NBD)."""
    return StoredFits(None if bg is None else BG_MODEL, bg, None, gg)


def _outcome(bg: BgNbdFit, gg: GammaGammaFit) -> FitOutcome:
    """A fit outcome with ``bg`` chosen (the other purchase models not fitted)."""
    others = tuple(
        PurchaseOutcome(m, None, ModelFailure("insufficient_data", "not fitted here", "not fitted here"))
        for name, m in PURCHASE_MODELS.items()
        if name != "bg_nbd"
    )
    return FitOutcome((PurchaseOutcome(BG_MODEL, bg), *others), gg, None, "bg_nbd", "BG/NBD is given.", 0.0, "bg_nbd")


def _bg(r: float = 0.5, alpha: float = 40.0, a: float = 0.8, b: float = 3.0) -> BgNbdFit:
    return BgNbdFit(r, alpha, a, b, 0.0, 0, 0, True, 0, 0.0, "given")


def _gg(p: float = 6.0, q: float = 4.0, gamma: float = 15.0) -> GammaGammaFit:
    return GammaGammaFit(p, q, gamma, 0.0, 0, True, 0, 0.0, "given")


def _summary(
    x: list[float] | np.ndarray,
    t_x: list[float] | np.ndarray,
    T: list[float] | np.ndarray,
    m: list[float] | np.ndarray | None = None,
    margin: list[float] | np.ndarray | None = None,
) -> pd.DataFrame:
    """A frame shaped like int_customers_clv_summarised (one row per buyer)."""
    x = np.asarray(x, dtype=float)
    df = pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(len(x))],
            "frequency": x,
            "recency_days": np.asarray(t_x, dtype=float),
            "tenure_days": np.asarray(T, dtype=float),
            "avg_repeat_day_revenue": np.where(x > 0, 25.0, np.nan) if m is None else np.asarray(m, dtype=float),
        }
    )
    if margin is not None:
        df["margin_rate"] = np.asarray(margin, dtype=float)
    return df


def _simulated_summary(n: int, seed: int) -> pd.DataFrame:
    x, t_x, T = clv.simulate_bgnbd(n, **TRUE_BG, T=(30, 1095), seed=seed, integer_days=True)
    m = clv.simulate_gamma_gamma(x, **TRUE_GG, seed=seed + 1)
    rng = np.random.default_rng(seed + 2)
    margin = np.where(rng.random(n) < 0.2, np.nan, rng.uniform(0.1, 0.6, n))
    return _summary(x, t_x, T, np.where(x > 0, m, np.nan), margin)


def _simulate_purchase_days(
    n: int,
    *,
    seed: int,
    start: date = date(2024, 1, 1),
    end: date = AS_OF,
    quiet_from: date | None = None,
) -> pd.DataFrame:
    """A purchase-day table (as int_purchase_days_aggregated) from the BG/NBD story in calendar days:
    first purchases spread over the window, Poisson purchases at rate λ ~ Gamma(r, α), dropout with
    probability p ~ Beta(a, b) after each repeat purchase, Gamma-Gamma spend per purchase day;
    nothing on or after ``quiet_from``."""
    rng = np.random.default_rng(seed)
    horizon = ((quiet_from or end + timedelta(days=1)) - start).days - 1
    rows = []
    for i in range(n):
        first = int(rng.integers(0, min(horizon, (end - start).days - 200)))
        lam = rng.gamma(TRUE_BG["r"], 1.0 / TRUE_BG["alpha"])
        p = rng.beta(TRUE_BG["a"], TRUE_BG["b"])
        nu = rng.gamma(TRUE_GG["q"], 1.0 / TRUE_GG["gamma"])  # Gamma-Gamma: the customer's spend rate
        t, days = float(first), {first}
        while True:
            t += rng.exponential(1.0 / lam)
            if t >= horizon + 1:
                break
            days.add(int(t))
            if rng.random() < p:
                break
        rows += [
            (f"C{i:05d}", start + timedelta(days=d), float(rng.gamma(TRUE_GG["p"], 1.0 / nu))) for d in sorted(days)
        ]
    return pd.DataFrame(rows, columns=["customer_id", "purchase_date", "net_revenue"])


def _duckdb_types(df: pd.DataFrame) -> dict[str, str]:
    """The column types DuckDB gives the frame, as dbt-duckdb materialises a Python model."""
    rel = duckdb.from_df(df)
    return dict(zip(rel.columns, [str(t) for t in rel.types], strict=True))


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return _simulated_summary(20_000, seed=11)


@pytest.fixture(scope="module")
def simulated_fit(simulated: pd.DataFrame) -> tuple[BgNbdFit, GammaGammaFit]:
    return fit_models(simulated, ClvSettings(clv_model="bg_nbd"))


# ----------------------------------------------------------------------------- settings, dates


def test_settings_defaults_match_dbt_project_vars() -> None:
    s = ClvSettings()
    assert (s.horizon_days, s.annual_discount_rate, s.holdout_days, s.min_repeat_buyers, s.at_risk_p_alive) == (
        365,
        0.10,
        180,
        10,
        0.3,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.horizon_days = 10  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon_days": 0}, "clv_horizon_days must be positive, got 0"),
        ({"horizon_days": -30}, "clv_horizon_days must be positive"),
        ({"annual_discount_rate": -1.0}, "clv_annual_discount_rate must be in (-1, 10), got -1.0"),
        ({"annual_discount_rate": 10.0}, "clv_annual_discount_rate must be in (-1, 10)"),
        ({"holdout_days": 0}, "clv_holdout_days must be positive, got 0"),
        ({"at_risk_p_alive": 1.0}, "at_risk_p_alive must be in [0, 1), got 1.0"),
        ({"at_risk_p_alive": -0.1}, "at_risk_p_alive must be in [0, 1)"),
        ({"clv_model": "lifetimes"}, "clv_model must be one of auto, bg_nbd, mbg_nbd, pareto_nbd, got 'lifetimes'"),
    ],
)
def test_settings_reject_invalid_vars(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        ClvSettings(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_settings_accept_boundary_values() -> None:
    s = ClvSettings(horizon_days=1, annual_discount_rate=0.0, holdout_days=1, at_risk_p_alive=0.0)
    assert (s.horizon_days, s.annual_discount_rate, s.holdout_days, s.at_risk_p_alive) == (1, 0.0, 1, 0.0)
    assert ClvSettings(annual_discount_rate=-0.5).annual_discount_rate == -0.5


def test_settings_from_config_reads_every_var_as_text_or_number() -> None:
    # dbt renders "{{ var(...) }}" in a config as a number, or as text when a var is given as text.
    as_numbers = {"horizon_days": 90, "annual_discount_rate": 0.05, "holdout_days": 30}
    as_numbers |= {"min_repeat_buyers": 20, "at_risk_p_alive": 0.2, "interval_seed": 7}
    as_text = {key: str(value) for key, value in as_numbers.items()}
    expected = ClvSettings(
        horizon_days=90,
        annual_discount_rate=0.05,
        holdout_days=30,
        min_repeat_buyers=20,
        at_risk_p_alive=0.2,
        interval_seed=7,
    )
    assert settings_from_config(as_text) == expected
    assert settings_from_config(as_numbers) == expected
    with pytest.raises(ValueError, match="clv_holdout_days must be positive"):
        settings_from_config({**as_numbers, "holdout_days": 0})
    with pytest.raises(KeyError):
        settings_from_config({k: v for k, v in as_numbers.items() if k != "at_risk_p_alive"})


def test_clv_models_config_passes_each_setting_its_dbt_var() -> None:
    # The clv_config anchor is the one place the CLV Python models get the dbt vars from.
    doc = yaml.safe_load((paths.PROJECT_ROOT / "models/intermediate/clv/_clv__models.yml").read_text())
    configs = {m["name"]: m.get("config", {}) for m in doc["models"]}
    python_models = ["int_clv_models_fitted", "int_customers_clv_predicted", "int_clv_backtest_evaluated"]
    var_of = {
        "horizon_days": "clv_horizon_days",
        "annual_discount_rate": "clv_annual_discount_rate",
        "holdout_days": "clv_holdout_days",
        "min_repeat_buyers": "clv_min_repeat_buyers",
        "at_risk_p_alive": "at_risk_p_alive",
        "clv_model": "clv_model",
        "interval_seed": "clv_interval_seed",
    }
    for name in python_models:
        assert configs[name]["clv_settings"] == {k: f"{{{{ var('{v}') }}}}" for k, v in var_of.items()}, name
        source = (paths.PROJECT_ROOT / f"models/intermediate/clv/{name}.py").read_text()
        assert 'settings_from_config(dbt.config.get("clv_settings"))' in source, name


@pytest.mark.parametrize(
    "value",
    [
        date(2026, 9, 30),
        datetime(2026, 9, 30, 13, 45),
        pd.Timestamp("2026-09-30"),
        np.datetime64("2026-09-30"),
        np.datetime64("2026-09-30T00:00:00.000000"),
        "2026-09-30",
    ],
)
def test_as_date_normalises_what_duckdb_hands_pandas(value: object) -> None:
    result = as_date(value)
    assert result == AS_OF
    assert type(result) is date


# ----------------------------------------------------------------------------- fit


def test_fit_models_recovers_simulated_parameters(
    simulated: pd.DataFrame, simulated_fit: tuple[BgNbdFit, GammaGammaFit]
) -> None:
    bg, gg = simulated_fit
    # 20,000 customers: standard errors are a few percent (r, alpha) to ~10% (a, b); this seed
    # lands within 3% of every true value.
    assert bg.r == pytest.approx(TRUE_BG["r"], rel=0.05)
    assert bg.alpha == pytest.approx(TRUE_BG["alpha"], rel=0.08)
    assert bg.a == pytest.approx(TRUE_BG["a"], rel=0.15)
    assert bg.b == pytest.approx(TRUE_BG["b"], rel=0.20)
    assert gg.p == pytest.approx(TRUE_GG["p"], rel=0.10)
    assert gg.q == pytest.approx(TRUE_GG["q"], rel=0.10)
    assert gg.gamma == pytest.approx(TRUE_GG["gamma"], rel=0.15)
    assert gg.mean_spend == pytest.approx(6.0 * 15.0 / 3.0, rel=0.05)
    assert bg.converged and gg.converged
    assert bg.n_customers == len(simulated)
    assert bg.n_patterns < len(simulated)  # fitted on distinct (x, t_x, T) patterns
    spenders = (simulated["frequency"] > 0) & (simulated["avg_repeat_day_revenue"] > 0)
    assert gg.n_customers == int(spenders.sum())
    # The stored log-likelihood is the one of the direct fit on the same arrays.
    direct = clv.fit_bgnbd(simulated["frequency"], simulated["recency_days"], simulated["tenure_days"])
    assert bg.log_likelihood == pytest.approx(direct.log_likelihood, rel=1e-9)
    assert bg.r == pytest.approx(direct.r, rel=1e-9)


def test_fit_models_ignores_rows_without_purchases(simulated: pd.DataFrame) -> None:
    sub = simulated.head(3000)
    bg, gg = fit_models(sub, ClvSettings(clv_model="bg_nbd"))
    prospects = pd.DataFrame(
        {
            "customer_id": ["P1", "P2"],
            "frequency": [np.nan, np.nan],
            "recency_days": [np.nan, np.nan],
            "tenure_days": [np.nan, np.nan],
            "avg_repeat_day_revenue": [np.nan, np.nan],
            "margin_rate": [np.nan, np.nan],
        }
    )
    bg2, gg2 = fit_models(pd.concat([prospects, sub], ignore_index=True), ClvSettings(clv_model="bg_nbd"))
    assert bg2.n_customers == bg.n_customers == 3000
    assert bg2.params == pytest.approx(bg.params, rel=1e-12)
    assert gg2.params == pytest.approx(gg.params, rel=1e-12)


def _status(outcome: object) -> tuple[str, str, str]:
    return outcome.status, outcome.purchase_status, outcome.gamma_gamma_status  # type: ignore[attr-defined]


def test_no_buyer_is_insufficient_data() -> None:
    for summary in (_summary([], [], []), _summary([np.nan] * 5, [np.nan] * 5, [np.nan] * 5)):
        outcome = fit_outcome(summary, ClvSettings(clv_model="bg_nbd"))
        assert _status(outcome) == ("insufficient_data",) * 3
        assert outcome.chosen is None and outcome.gamma_gamma is None
        assert outcome.reason.startswith("No customer bought anything on or before the as-of date")
        assert "no customer has a purchase on or before as_of_date" in outcome.detail
    with pytest.raises(ClvFitError, match="No customer bought anything") as info:
        fit_models(_summary([], [], []), ClvSettings(clv_model="bg_nbd"))
    assert info.value.status == "insufficient_data"


def test_no_repeat_buyer_is_insufficient_data_in_plain_words() -> None:
    n = 500
    summary = _summary(np.zeros(n), np.zeros(n), np.arange(n) % 300 + 10)
    outcome = fit_outcome(summary, ClvSettings(clv_model="bg_nbd"))
    assert _status(outcome) == ("insufficient_data",) * 3
    assert outcome.reason.startswith(
        "No customer bought on more than one day; the purchase model (BG/NBD) needs at least 10 repeat "
        "buyers (var clv_min_repeat_buyers) and 1% of buyers to predict future purchases."
    )
    assert "lifecycle stages come from purchase cadence alone" in outcome.reason
    assert "too few repeat buyers to fit BG/NBD: 0 of 500 customers (0.00%) have frequency > 0" in outcome.detail


def test_few_repeat_buyers_is_insufficient_data_and_uses_the_var() -> None:
    n = 1000
    x = np.zeros(n)
    x[:5] = 2  # 5 repeat buyers < clv_min_repeat_buyers = 10
    summary = _summary(x, np.where(x > 0, 50.0, 0.0), np.full(n, 400.0), np.where(x > 0, 20.0 + np.arange(n), np.nan))
    outcome = fit_outcome(summary, ClvSettings(clv_model="bg_nbd"))
    assert outcome.purchase_status == "insufficient_data"
    assert outcome.reason.startswith("Only 5 of 1000 customers bought on more than one day;")
    assert "(0.50%)" in outcome.detail
    # The threshold is the dbt var: with clv_min_repeat_buyers = 20 a tenfold larger share fails too.
    x[:15] = 2
    summary = _summary(x, np.where(x > 0, 50.0, 0.0), np.full(n, 400.0), np.where(x > 0, 20.0 + np.arange(n), np.nan))
    outcome = fit_outcome(summary, ClvSettings(clv_model="bg_nbd", min_repeat_buyers=20))
    assert outcome.purchase_status == outcome.gamma_gamma_status == "insufficient_data"
    assert "Only 15 of 1000 customers" in outcome.reason and "needs at least 20 repeat buyers" in outcome.reason
    assert "Only 15 repeat buyers spent a positive amount" not in outcome.reason  # the purchase model's reason first
    assert (
        fit_outcome(summary, ClvSettings(clv_model="bg_nbd", min_repeat_buyers=15)).purchase_status
        != "insufficient_data"
    )


def test_too_few_buyers_is_insufficient_data() -> None:
    summary = _summary([2, 1, 0], [30, 10, 0], [100, 50, 20])
    outcome = fit_outcome(summary, ClvSettings(clv_model="bg_nbd", min_repeat_buyers=1))
    assert outcome.purchase_status == "insufficient_data"
    assert outcome.reason.startswith("Only 3 customers bought anything; the purchase model (BG/NBD) needs at least 30")


def test_spend_model_failing_alone_keeps_purchase_predictions(simulated: pd.DataFrame) -> None:
    no_spend = simulated.head(3000).assign(avg_repeat_day_revenue=0.0)
    outcome = fit_outcome(no_spend, ClvSettings(clv_model="bg_nbd"))
    assert _status(outcome) == ("insufficient_data", "fitted", "insufficient_data")
    assert outcome.chosen is not None and outcome.gamma_gamma is None
    assert outcome.reason.startswith(
        "No repeat buyer spent a positive amount on their repeat purchases; the spend model (Gamma-Gamma) "
        "needs at least 10 (var clv_min_repeat_buyers)"
    )
    assert "The purchase model (BG/NBD) was fitted" in outcome.reason
    with pytest.raises(ClvFitError, match="the spend model"):
        fit_models(no_spend, ClvSettings(clv_model="bg_nbd"))
    # Scoring keeps expected purchases (and p_alive, the SQL macro, needs only the purchase model);
    # spend, revenue and CLV are null.
    out = score_customers(no_spend, _fits(outcome.chosen_outcome.fit, None), AS_OF, ClvSettings(clv_model="bg_nbd"))
    assert out["expected_purchases_90d"].notna().all() and out["expected_purchases_horizon"].notna().all()
    assert out[["expected_avg_order_value", "predicted_revenue", "predicted_clv"]].isna().all().all()
    assert out["low_p_alive_from_date"].notna().any()
    types = _duckdb_types(out)
    assert types["expected_avg_order_value"] == types["predicted_clv"] == types["expected_purchases_90d"] == "DOUBLE"


def test_forced_non_convergence_is_not_converged(simulated: pd.DataFrame) -> None:
    outcome = fit_outcome(simulated.head(3000), ClvSettings(clv_model="bg_nbd", max_iter=1))
    assert _status(outcome) == ("not_converged",) * 3
    assert outcome.reason.startswith(
        "The purchase model (BG/NBD) could not settle on a stable fit after 2 optimiser iterations"
    )
    assert "BG/NBD optimiser did not converge" in outcome.detail
    assert "Gamma-Gamma optimiser did not converge" in outcome.detail
    row = parameters_rows(outcome, AS_OF, ClvSettings(clv_model="bg_nbd")).set_index("purchase_model").loc["bg_nbd"]
    assert (row["purchase_model_iterations"], row["gamma_gamma_iterations"]) == (2, 2)
    assert not row["is_converged"]


def test_nobody_ever_churning_is_degenerate() -> None:
    # 200 repeat buyers who all bought on the as-of date: nothing in the data shows anyone leaving.
    n = 200
    x = 1.0 + np.arange(n) % 6
    T = 60.0 + 3 * np.arange(n)
    summary = _summary(x, T, T, 20.0 + np.arange(n) % 37)
    outcome = fit_outcome(summary, ClvSettings(clv_model="bg_nbd"))
    assert outcome.purchase_status == "degenerate" and outcome.status == "degenerate"
    assert outcome.gamma_gamma_status == "fitted"
    assert "sees no customer stop buying" in outcome.reason or "never stop buying" in outcome.reason
    assert "expected spend per purchase is still given" in outcome.reason


def test_p_alive_near_one_for_every_repeat_buyer_is_degenerate(monkeypatch: pytest.MonkeyPatch) -> None:
    # A converged, interior optimum whose p_alive is ~1 for nearly every repeat buyer is degenerate
    # by the share rule alone (the dropout rule switched off here to isolate it).
    import lifecycle.clv_status as status

    monkeypatch.setattr(status, "DEGENERATE_MAX_DROPOUT", 0.0)
    x, t_x, T = clv.simulate_bgnbd(3000, r=0.5, alpha=40.0, a=0.05, b=500.0, T=(30, 1095), seed=0, integer_days=True)
    outcome = fit_outcome(_summary(x, t_x, T, np.where(x > 0, 25.0 + x, np.nan)), ClvSettings(clv_model="bg_nbd"))
    alive = clv.p_alive(clv.fit_bgnbd(x, t_x, T), x[x > 0], t_x[x > 0], T[x > 0])
    share = float((alive >= DEGENERATE_P_ALIVE).mean())
    assert share >= DEGENERATE_ALIVE_SHARE  # the data set does what it is meant to
    assert outcome.purchase_status == "degenerate"
    assert f"{100 * share:.0f}% of repeat buyers still active" in outcome.reason
    assert "p_alive >= 0.99 for 99.1% of repeat buyers" in outcome.detail
    # Just below the share threshold the same optimum is accepted.
    monkeypatch.setattr(status, "DEGENERATE_ALIVE_SHARE", share + 1e-9)
    assert (
        fit_outcome(
            _summary(x, t_x, T, np.where(x > 0, 25.0 + x, np.nan)), ClvSettings(clv_model="bg_nbd")
        ).purchase_status
        == "fitted"
    )


def test_equal_spend_is_a_degenerate_spend_model(simulated: pd.DataFrame) -> None:
    flat = simulated.head(3000).assign(avg_repeat_day_revenue=lambda d: np.where(d["frequency"] > 0, 20.0, np.nan))
    outcome = fit_outcome(flat, ClvSettings(clv_model="bg_nbd"))
    assert _status(outcome) == ("degenerate", "fitted", "degenerate")
    assert outcome.reason.startswith("Every repeat buyer spends (nearly) the same per purchase day")


def test_statuses_are_the_documented_ones(simulated: pd.DataFrame) -> None:
    assert MODEL_STATUSES == ("fitted", "insufficient_data", "not_converged", "degenerate")
    assert set(MODEL_STATUSES) - {"fitted"} == set(clv.FIT_FAILURES) - {"invalid_input"}
    outcome = fit_outcome(simulated.head(3000), ClvSettings(clv_model="bg_nbd"))
    assert _status(outcome) == ("fitted",) * 3
    assert outcome.detail == ""


def test_parameters_row_when_not_fitted_is_typed_and_null() -> None:
    n = 500
    outcome = fit_outcome(_summary(np.zeros(n), np.zeros(n), np.arange(n) % 300 + 10), ClvSettings(clv_model="bg_nbd"))
    row = parameters_rows(outcome, AS_OF, ClvSettings(clv_model="bg_nbd"))
    assert row["purchase_model"].tolist() == list(PURCHASE_MODELS) and not row["is_chosen"].any()
    r0 = row.iloc[0]
    assert (r0["model_status"], r0["purchase_model_status"], r0["gamma_gamma_status"]) == ("insufficient_data",) * 3
    assert (row["purchase_model_status"] == "insufficient_data").all()
    assert r0["model_status_reason"] == outcome.reason and r0["model_status_detail"] == outcome.detail
    params = ["r", "alpha", "a", "b", "s", "beta", "r_se", "p", "q", "gamma", "population_avg_order_value"]
    assert row[params].isna().all().all()
    counts = [
        "purchase_model_customers",
        "purchase_model_patterns",
        "gamma_gamma_customers",
        "purchase_model_iterations",
    ]
    assert row[counts].isna().all().all()
    assert not row["is_converged"].any()
    types = _duckdb_types(row)
    for column in (*params, "purchase_model_log_likelihood", "holdout_score"):
        assert types[column] == "DOUBLE", column
    for column in counts:
        assert types[column] == "BIGINT", column
    for column in ("model_status", "model_status_reason", "model_status_detail", "log_covariance", "choice_reason"):
        assert types[column] == "VARCHAR", column
    stored = fits_from_parameters(row)
    assert stored.model is None and stored.fit is None and stored.gamma_gamma is None


def test_scores_without_a_purchase_model_are_null() -> None:
    summary = _summary([0, 2, 5], [0, 40, 100], [30, 90, 120], [np.nan, 25.0, 40.0])
    out = score_customers(summary, _fits(None, _gg()), AS_OF, ClvSettings(clv_model="bg_nbd"))
    predictive = ["expected_purchases_90d", "expected_purchases_horizon"]
    assert out[[*predictive, "predicted_revenue", "predicted_clv"]].isna().all().all()
    assert out[["expected_next_purchase_date", "low_p_alive_from_date"]].isna().all().all()
    assert out["expected_avg_order_value"].notna().all()  # the spend model alone still gives it
    assert out["margin_rate_used"].tolist() == [1.0, 1.0, 1.0]
    both_missing = score_customers(summary, _fits(None, None), AS_OF, ClvSettings(clv_model="bg_nbd"))
    assert both_missing["expected_avg_order_value"].isna().all()
    types = _duckdb_types(both_missing)
    for column in [*predictive, "expected_avg_order_value", "predicted_revenue", "predicted_clv"]:
        assert types[column] == "DOUBLE", column
    assert types["expected_next_purchase_date"] == types["low_p_alive_from_date"] == "DATE"
    assert duckdb.from_df(both_missing).filter("expected_purchases_90d is null").shape[0] == 3  # null, not NaN


@pytest.mark.parametrize(
    "column", ["customer_id", "frequency", "recency_days", "tenure_days", "avg_repeat_day_revenue"]
)
def test_fit_error_names_missing_columns(simulated: pd.DataFrame, column: str) -> None:
    with pytest.raises(ClvFitError, match=rf"the CLV summary lacks columns \['{column}'\]"):
        fit_models(simulated.head(100).drop(columns=[column]), ClvSettings(clv_model="bg_nbd"))
    with pytest.raises(ClvFitError, match=rf"lacks columns \['{column}'\]"):
        score_customers(
            simulated.head(100).drop(columns=[column]), _fits(_bg(), _gg()), AS_OF, ClvSettings(clv_model="bg_nbd")
        )


def test_fit_error_on_invalid_summary() -> None:
    # recency beyond tenure is a broken upstream model, not something to fit around.
    summary = _simulated_summary(500, seed=3)
    summary.loc[summary.index[summary["frequency"] > 0][0], "recency_days"] = 5000
    with pytest.raises(ClvFitError, match="recency exceeds T for 1 customer"):
        fit_models(summary, ClvSettings(clv_model="bg_nbd"))


# ----------------------------------------------------------------------------- stored fit


def test_parameters_row_round_trips_to_the_same_scores(
    simulated: pd.DataFrame, simulated_fit: tuple[BgNbdFit, GammaGammaFit]
) -> None:
    bg, gg = simulated_fit
    settings = ClvSettings(clv_model="bg_nbd", horizon_days=730, annual_discount_rate=0.05)
    row = parameters_rows(_outcome(bg, gg), AS_OF, settings)
    assert len(row) == 3
    r0 = row.set_index("purchase_model").loc["bg_nbd"]
    assert r0["is_chosen"] and row["is_chosen"].sum() == 1
    assert r0["as_of_date"] == AS_OF
    assert r0["time_unit"] == "day"
    assert (r0["r"], r0["alpha"], r0["a"], r0["b"]) == (bg.r, bg.alpha, bg.a, bg.b)
    assert (r0["p"], r0["q"], r0["gamma"]) == (gg.p, gg.q, gg.gamma)
    assert r0["population_avg_order_value"] == pytest.approx(gg.p * gg.gamma / (gg.q - 1.0), rel=1e-15)
    assert (r0["horizon_days"], r0["annual_discount_rate"]) == (730, 0.05)
    assert r0["purchase_model_customers"] == 20_000
    assert bool(r0["is_converged"]) is True
    types = _duckdb_types(row)
    assert types["as_of_date"] == "DATE"
    assert types["is_converged"] == types["is_chosen"] == "BOOLEAN"
    assert types["purchase_model_customers"] == "BIGINT"

    stored = fits_from_parameters(row)
    assert stored.model is BG_MODEL
    bg2, gg2 = stored.fit, stored.gamma_gamma
    assert bg2.params == bg.params and gg2.params == gg.params
    assert (bg2.log_likelihood, bg2.n_customers, bg2.n_patterns) == (bg.log_likelihood, 20_000, bg.n_patterns)
    assert gg2.n_customers == gg.n_customers
    sub = simulated.head(2000)
    direct = score_customers(sub, _fits(bg, gg), AS_OF, settings)
    stored = score_customers(sub, _fits(bg2, gg2), as_date(r0["as_of_date"]), settings)
    pd.testing.assert_frame_equal(direct, stored)


# ----------------------------------------------------------------------------- scoring


def test_scores_match_the_library_and_each_other(
    simulated: pd.DataFrame, simulated_fit: tuple[BgNbdFit, GammaGammaFit]
) -> None:
    bg, gg = simulated_fit
    sub = simulated.head(5000).reset_index(drop=True)
    out = score_customers(sub, _fits(bg, gg), AS_OF, ClvSettings(clv_model="bg_nbd"))
    x, t_x, T = (sub[c].to_numpy(float) for c in ("frequency", "recency_days", "tenure_days"))
    assert out["customer_id"].tolist() == sub["customer_id"].tolist()
    # The build's one p_alive is the SQL macro bgnbd_p_alive: scoring uses p_alive only inside the math.
    assert "p_alive" not in out.columns and "churn_probability" not in out.columns
    alive = clv.p_alive(bg, x, t_x, T)
    np.testing.assert_allclose(out["expected_purchases_90d"], clv.expected_purchases(bg, 90.0, x, t_x, T), rtol=1e-12)
    np.testing.assert_allclose(
        out["expected_purchases_horizon"], clv.expected_purchases(bg, 365.0, x, t_x, T), rtol=1e-12
    )
    assert (out["expected_purchases_horizon"] >= out["expected_purchases_90d"]).all()
    assert (out["expected_purchases_90d"] > 0).all()
    one_time = x == 0
    assert (alive[one_time] == 1.0).all()
    # One-time buyers get the population mean spend; repeat buyers a mix of their own and it.
    np.testing.assert_allclose(out.loc[one_time, "expected_avg_order_value"], gg.mean_spend, rtol=1e-15)
    m = sub["avg_repeat_day_revenue"].to_numpy(float)
    rep = ~one_time
    np.testing.assert_allclose(
        out.loc[rep, "expected_avg_order_value"],
        (gg.gamma + m[rep] * x[rep]) * gg.p / (gg.p * x[rep] + gg.q - 1.0),
        rtol=1e-12,
    )
    # Revenue: discounted expected purchases x spend; undiscounted it would be larger.
    undiscounted = out["expected_purchases_horizon"] * out["expected_avg_order_value"]
    assert (out["predicted_revenue"] < undiscounted).all()
    assert (out["predicted_revenue"] > undiscounted / 1.1).all()
    np.testing.assert_allclose(out["predicted_clv"], out["predicted_revenue"] * out["margin_rate_used"], rtol=1e-15)


def test_scores_are_finite_for_extreme_customers() -> None:
    # one-time buyer today, one-time buyer 3 years ago, repeat buyer with tenure 1 day, a customer
    # with 5,000 purchase days over 20 years (bought today), a repeat buyer lapsed for 270 years.
    x = [0, 0, 1, 5000, 3]
    t_x = [0, 0, 1, 7300, 100]
    T = [0, 1095, 1, 7300, 100_000]
    m = [np.nan, np.nan, 40.0, 35.0, 60.0]
    for bg in (_bg(), _bg(0.243, 30.9, 0.793, 2.426), _bg(2.0, 5.0, 0.05, 500.0)):
        out = score_customers(_summary(x, t_x, T, m), _fits(bg, _gg()), AS_OF, ClvSettings(clv_model="bg_nbd"))
        numeric = out.drop(
            columns=["customer_id", "expected_next_purchase_date", "low_p_alive_from_date", "is_margin_rate_estimated"]
        ).to_numpy(float)
        assert np.isfinite(numeric).all(), out
        alive = clv.p_alive(bg, np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float))
        assert np.isfinite(alive).all()
        assert ((alive >= 0) & (alive <= 1)).all()
        assert (out["expected_purchases_horizon"] >= 0).all()
        assert alive[0] == alive[1] == 1.0
        # 5,000 purchase days in 7,300 days, bought today: ~0.68 a day, ~250 in the next year.
        assert 150 < out["expected_purchases_horizon"].iloc[3] < 300
        assert alive[3] > 0.99
        # Silent for 270 years: gone, and expects nothing.
        assert alive[4] < 1e-6
        assert out["expected_purchases_horizon"].iloc[4] < 1e-6


def test_score_rejects_a_broken_summary() -> None:
    # Scoring validates like fitting: a recency beyond the tenure is a broken upstream model.
    summary = _summary([2, 3], [50, 180], [100, 100])
    with pytest.raises(ValueError, match=r"recency exceeds T for 1 customer\(s\) \(first: recency=180.0, T=100.0\)"):
        score_customers(summary, _fits(_bg(), _gg()), AS_OF, ClvSettings(clv_model="bg_nbd"))


def test_margin_rate_fallback_is_the_median_of_known_rates() -> None:
    summary = _summary([1, 2, 3, 4, 5], [10, 20, 30, 40, 50], [100] * 5, margin=[0.2, np.nan, 0.4, 0.9, np.nan])
    out = score_customers(summary, _fits(_bg(), _gg()), AS_OF, ClvSettings(clv_model="bg_nbd"))
    assert out["margin_rate_used"].tolist() == [0.2, 0.4, 0.4, 0.9, 0.4]
    assert out["is_margin_rate_estimated"].tolist() == [False, True, False, False, True]
    np.testing.assert_allclose(out["predicted_clv"], out["predicted_revenue"] * [0.2, 0.4, 0.4, 0.9, 0.4], rtol=1e-15)
    # Even count of known rates: the median is the mean of the middle two.
    summary = _summary([1, 2, 3], [10, 20, 30], [100] * 3, margin=[0.1, 0.3, np.nan])
    assert score_customers(summary, _fits(_bg(), _gg()), AS_OF, ClvSettings(clv_model="bg_nbd"))[
        "margin_rate_used"
    ].tolist() == [
        0.1,
        0.3,
        pytest.approx(0.2),
    ]


@pytest.mark.parametrize("margin", [None, [np.nan, np.nan, np.nan]])
def test_margin_rate_is_one_without_any_known_cost(margin: list[float] | None) -> None:
    summary = _summary([0, 2, 3], [0, 20, 30], [100] * 3, margin=margin)
    out = score_customers(summary, _fits(_bg(), _gg()), AS_OF, ClvSettings(clv_model="bg_nbd"))
    assert out["margin_rate_used"].tolist() == [1.0, 1.0, 1.0]
    assert out["is_margin_rate_estimated"].tolist() == [True, True, True]
    np.testing.assert_array_equal(out["predicted_clv"], out["predicted_revenue"])


def test_expected_next_purchase_date() -> None:
    bg = _bg()
    # 0: frequent buyer, bought 2 days ago: alive, short median wait -> a date.
    # 1: one-time buyer with a long tenure: alive by definition, median wait beyond 365 days -> null.
    # 2: repeat buyer silent for 900 days: p_alive < 0.5 -> null although the wait is short-ish.
    # 3: one-time buyer who bought today: alive, median wait (40 + 0)(2^(1/0.5) - 1) = 120 days.
    summary = _summary([30, 0, 10, 0], [598, 0, 100, 0], [600, 700, 1000, 0])
    out = score_customers(summary, _fits(bg, _gg()), AS_OF, ClvSettings(clv_model="bg_nbd"))
    p = clv.p_alive(bg, *(summary[c].to_numpy(float) for c in ("frequency", "recency_days", "tenure_days")))
    wait = (bg.alpha + summary["tenure_days"]) * (2.0 ** (1.0 / (bg.r + summary["frequency"])) - 1.0)
    assert p[0] > NEXT_PURCHASE_MIN_P_ALIVE and wait[0] < 365
    assert out["expected_next_purchase_date"][0] == AS_OF + timedelta(days=math.ceil(wait[0]))
    assert p[1] == 1.0 and wait[1] > 365
    assert pd.isna(out["expected_next_purchase_date"][1])
    assert p[2] < NEXT_PURCHASE_MIN_P_ALIVE and wait[2] < 365
    assert pd.isna(out["expected_next_purchase_date"][2])
    assert wait[3] == pytest.approx(120.0)
    assert out["expected_next_purchase_date"][3] == AS_OF + timedelta(days=120)
    # A longer horizon reports customer 1 too.
    longer = score_customers(summary, _fits(bg, _gg()), AS_OF, ClvSettings(clv_model="bg_nbd", horizon_days=5000))
    assert longer["expected_next_purchase_date"][1] == AS_OF + timedelta(days=math.ceil(wait[1]))
    assert pd.isna(longer["expected_next_purchase_date"][2])


def test_date_columns_stay_dates_when_all_null() -> None:
    # With no date to report (short horizon; at_risk_p_alive = 0 turns the p_alive rule off) the
    # columns must still load as DATE: customer_clv's contract says date and customer_lifecycle
    # compares low_p_alive_from_date with dates. An all-None object column loads as INTEGER.
    summary = _summary([0, 3, 10], [0, 30, 300], [10, 400, 1000])
    out = score_customers(
        summary, _fits(_bg(), _gg()), AS_OF, ClvSettings(clv_model="bg_nbd", horizon_days=1, at_risk_p_alive=0.0)
    )
    assert out["expected_next_purchase_date"].isna().all()
    assert out["low_p_alive_from_date"].isna().all()
    types = _duckdb_types(out)
    assert types["expected_next_purchase_date"] == "DATE"
    assert types["low_p_alive_from_date"] == "DATE"
    assert types["expected_purchases_90d"] == "DOUBLE"
    assert types["is_margin_rate_estimated"] == "BOOLEAN"
    # And with values.
    out = score_customers(summary, _fits(_bg(), _gg()), AS_OF, ClvSettings(clv_model="bg_nbd"))
    types = _duckdb_types(out)
    assert types["expected_next_purchase_date"] == types["low_p_alive_from_date"] == "DATE"
    loaded = duckdb.from_df(out).fetchall()
    assert loaded[0][-1] is None  # one-time buyer: no crossing
    assert isinstance(loaded[1][-1], date)


# ----------------------------------------------------------------------------- at risk by p_alive


@pytest.mark.parametrize("threshold", [0.3, 0.05, 0.5, 0.9])
def test_p_alive_crossing_days_is_where_p_alive_falls_below_threshold(threshold: float) -> None:
    bg = _bg()
    rng = np.random.default_rng(5)
    x = rng.integers(1, 60, 400).astype(float)
    t_x = rng.integers(1, 1500, 400).astype(float)
    crossing = p_alive_crossing_days(BG_MODEL, bg, x, t_x, threshold)
    assert np.isfinite(crossing).all()
    assert (crossing >= t_x).all()
    at_last_purchase = clv.p_alive(bg, x, t_x, t_x)
    interior = at_last_purchase > threshold
    assert interior.any()
    c = crossing[interior]
    xi, ti = x[interior], t_x[interior]
    np.testing.assert_allclose(clv.p_alive(bg, xi, ti, c), threshold, rtol=1e-9)
    assert (clv.p_alive(bg, xi, ti, np.maximum(c - 1.0, ti)) > threshold).all()
    assert (clv.p_alive(bg, xi, ti, c + 1.0) < threshold).all()
    # Where p_alive is below the threshold already at the last purchase, the crossing is t_x.
    np.testing.assert_array_equal(crossing[~interior], t_x[~interior])
    assert (at_last_purchase[~interior] <= threshold).all()


def test_p_alive_crossing_days_is_nan_for_one_time_buyers_and_threshold_zero() -> None:
    bg = _bg()
    x, t_x = np.array([0.0, 2.0, 5.0]), np.array([0.0, 30.0, 200.0])
    crossing = p_alive_crossing_days(BG_MODEL, bg, x, t_x, 0.3)
    assert math.isnan(crossing[0]) and np.isfinite(crossing[1:]).all()
    assert np.isnan(p_alive_crossing_days(BG_MODEL, bg, x, t_x, 0.0)).all()


def _day_of_tenure(first: date, d: object) -> int:
    return (as_date(d) - first).days


def test_low_p_alive_from_date_agrees_with_the_at_risk_rule() -> None:
    # customer_lifecycle flags p_alive < at_risk_p_alive and dates the at_risk stage from
    # low_p_alive_from_date: the first day whose p_alive is below the threshold. So the flag must
    # hold exactly when that date is on or before as_of_date, p_alive on that day must be below the
    # threshold and on the day before (if after the last purchase) not.
    # a > 2.33 b: a customer with x = 1 is below 0.3 from the day of the second purchase on.
    bg = _bg(0.3, 20.0, 3.0, 1.0)
    rng = np.random.default_rng(8)
    n = 3000
    x = rng.integers(0, 12, n).astype(float)
    T = rng.integers(0, 1500, n).astype(float)
    t_x = np.where(x > 0, np.minimum(T, rng.integers(1, 1500, n)), 0.0)
    t_x = np.where((x > 0) & (rng.random(n) < 0.1), T, t_x)  # some bought on as_of_date
    x = np.where((x > 0) & (t_x == 0), 0.0, x)
    settings = ClvSettings(clv_model="bg_nbd")
    out = score_customers(_summary(x, t_x, T), _fits(bg, _gg()), AS_OF, settings)
    theta = settings.at_risk_p_alive
    flagged = clv.p_alive(bg, x, t_x, T) < theta
    assert 100 < flagged.sum() < n - 100
    from_dates = out["low_p_alive_from_date"]
    assert from_dates[x == 0].isna().all()
    assert from_dates[x > 0].notna().all()
    reached = np.array([not pd.isna(d) and as_date(d) <= AS_OF for d in from_dates])
    np.testing.assert_array_equal(reached, flagged)
    for i in np.flatnonzero(x > 0):
        first = AS_OF - timedelta(days=int(T[i]))
        day = _day_of_tenure(first, from_dates[i])
        assert day >= t_x[i]
        assert clv.p_alive(bg, x[i], t_x[i], float(day))[()] < theta, i
        if day > t_x[i]:
            assert clv.p_alive(bg, x[i], t_x[i], float(day - 1))[()] >= theta, i


def test_low_p_alive_from_date_when_below_threshold_right_after_the_last_purchase() -> None:
    # a/(b+x-1) = 3 > (1 - 0.3)/0.3: p_alive = 0.25 on the day of the second purchase itself. A
    # customer whose second purchase day is as_of_date is flagged, so the date must be as_of_date
    # (not the day after, which would put the at_risk stage start after as_of_date).
    bg = _bg(0.5, 40.0, 3.0, 1.0)
    summary = _summary([1, 1], [300, 300], [300, 420])
    out = score_customers(summary, _fits(bg, _gg()), AS_OF, ClvSettings(clv_model="bg_nbd"))
    assert clv.p_alive(bg, 1.0, 300.0, 300.0)[()] == pytest.approx(0.25)
    assert out["low_p_alive_from_date"][0] == AS_OF
    assert out["low_p_alive_from_date"][1] == AS_OF - timedelta(days=120)  # its last purchase day


def test_low_p_alive_from_date_far_beyond_the_calendar_is_null() -> None:
    # Rare dropout (a -> 0, b large: a fit this pipeline accepts on data with little churn) puts
    # the crossing millions of days out. That is "not in any foreseeable future", not a crash.
    bg = _bg(0.2, 40.0, 1e-3, 1e5)
    summary = _summary([1, 5, 40], [300, 300, 900], [300, 400, 1000])
    crossing = p_alive_crossing_days(BG_MODEL, bg, summary["frequency"], summary["recency_days"], 0.3)
    assert crossing[0] > 3e6  # beyond 9999-12-31 from 2026
    out = score_customers(summary, _fits(bg, _gg()), AS_OF, ClvSettings(clv_model="bg_nbd"))
    assert pd.isna(out["low_p_alive_from_date"][0])
    assert as_date(out["low_p_alive_from_date"][1]) > AS_OF
    assert np.isfinite(out["predicted_clv"]).all()


def test_low_dropout_fit_is_degenerate_but_would_score_without_error() -> None:
    # Simulated from BG/NBD with very rare dropout: the optimum says nobody ever churns (a / (a + b)
    # below DEGENERATE_MAX_DROPOUT), so the pipeline reports it as degenerate; the library fit it
    # rejects must still score every customer.
    x, t_x, T = clv.simulate_bgnbd(5000, r=0.5, alpha=40.0, a=0.05, b=500.0, T=(30, 1095), seed=0, integer_days=True)
    m = clv.simulate_gamma_gamma(x, **TRUE_GG, seed=1)
    summary = _summary(x, t_x, T, np.where(x > 0, m, np.nan))
    outcome = fit_outcome(summary, ClvSettings(clv_model="bg_nbd"))
    assert outcome.purchase_status == "degenerate" and outcome.gamma_gamma_status == "fitted"
    assert "customers (almost) never stop buying" in outcome.reason
    bg = clv.fit_bgnbd(x, t_x, T)
    gg = outcome.gamma_gamma
    assert bg.b / bg.a > 1e5  # practically no dropout
    out = score_customers(summary, _fits(bg, gg), AS_OF, ClvSettings(clv_model="bg_nbd"))
    assert len(out) == 5000
    assert (clv.p_alive(bg, x, t_x, T) > 0.3).all()
    assert out["low_p_alive_from_date"].notna().sum() < 5000


# ----------------------------------------------------------------------------- calibration summary


def _hand_made_purchase_days() -> pd.DataFrame:
    rows = [
        # A: three purchase days in calibration, two in the holdout, one after as_of_date.
        ("A", "2026-01-01", 10.0),
        ("A", "2026-01-11", 20.0),
        ("A", "2026-03-02", 40.0),
        ("A", "2026-04-15", 5.0),
        ("A", "2026-06-01", 7.0),
        ("A", "2026-07-01", 99.0),
        # B: one purchase day in calibration, on calibration_end itself; none after.
        ("B", "2026-03-31", 15.0),
        # C: first purchase in the holdout: not part of the backtest population.
        ("C", "2026-04-02", 30.0),
        ("C", "2026-05-02", 30.0),
        # D: one-time buyer in calibration who comes back in the holdout on two days.
        ("D", "2025-12-01", 50.0),
        ("D", "2026-04-01", 60.0),
        ("D", "2026-06-30", 70.0),
    ]
    return pd.DataFrame(rows, columns=["customer_id", "purchase_date", "net_revenue"]).assign(
        purchase_date=lambda d: pd.to_datetime(d["purchase_date"]).dt.date
    )


def test_calibration_summary_on_a_hand_made_example() -> None:
    summary = calibration_summary(_hand_made_purchase_days(), date(2026, 3, 31), date(2026, 6, 30))
    got = summary.set_index("customer_id")
    assert got.index.tolist() == ["A", "B", "D"]
    assert got["frequency"].tolist() == [2, 0, 0]
    assert got["recency_days"].tolist() == [60, 0, 0]  # 2026-01-01 -> 2026-03-02
    assert got["tenure_days"].tolist() == [89, 0, 120]  # to 2026-03-31
    assert got.loc["A", "avg_repeat_day_revenue"] == pytest.approx(30.0)  # (20 + 40) / 2, first day excluded
    assert got[["avg_repeat_day_revenue"]].loc[["B", "D"]].isna().all().all()
    # Holdout: (2026-03-31, 2026-06-30]; A's 2026-07-01 purchase is after as_of_date.
    assert got["holdout_purchase_days"].tolist() == [2, 0, 2]
    # The calibration summary is a valid fit_models input.
    assert set(summary.columns) >= {"customer_id", "frequency", "recency_days", "tenure_days", "avg_repeat_day_revenue"}


def test_calibration_summary_accepts_timestamps_and_strings() -> None:
    pdays = _hand_made_purchase_days()
    as_ts = pdays.assign(purchase_date=pd.to_datetime(pdays["purchase_date"]))
    as_str = pdays.assign(purchase_date=pdays["purchase_date"].astype(str))
    expected = calibration_summary(pdays, date(2026, 3, 31), date(2026, 6, 30))
    pd.testing.assert_frame_equal(calibration_summary(as_ts, date(2026, 3, 31), date(2026, 6, 30)), expected)
    pd.testing.assert_frame_equal(calibration_summary(as_str, date(2026, 3, 31), date(2026, 6, 30)), expected)


# ----------------------------------------------------------------------------- backtest


def _bt(purchase_days: pd.DataFrame, as_of_date: date, settings: ClvSettings) -> pd.DataFrame:
    """The BG/NBD rows of the backtest (clv_backtest's breakdowns), as before the model choice."""
    rows = backtest(purchase_days, as_of_date, settings)
    keep = (rows["purchase_model"] == "bg_nbd") & rows["breakdown"].isin(["total", "calibration_frequency", "week"])
    return rows[keep].reset_index(drop=True)


@pytest.fixture(scope="module")
def purchase_days() -> pd.DataFrame:
    return _simulate_purchase_days(2500, seed=21)


@pytest.fixture(scope="module")
def backtest_rows(purchase_days: pd.DataFrame) -> pd.DataFrame:
    return _bt(purchase_days, AS_OF, ClvSettings(clv_model="bg_nbd"))


def test_backtest_rows_and_totals(purchase_days: pd.DataFrame, backtest_rows: pd.DataFrame) -> None:
    bt = backtest_rows
    cal_end = AS_OF - timedelta(days=180)
    assert (bt["as_of_date"] == AS_OF).all() and (bt["calibration_end_date"] == cal_end).all()
    assert (bt["holdout_days"] == 180).all()
    assert bt["breakdown"].value_counts().to_dict() == {"week": 26, "calibration_frequency": 8, "total": 1}
    freq = bt[bt["breakdown"] == "calibration_frequency"]
    assert freq["bucket"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert freq["bucket_order"].tolist() == list(range(8))
    total = bt[bt["breakdown"] == "total"].iloc[0]
    assert total["bucket"] == "all"
    assert (bt["model_status"] == "fitted").all() and bt["model_status_reason"].str.startswith(
        "The purchase model"
    ).all()

    # The total row is the calibration summary's holdout and the calibration fit's prediction.
    cal = calibration_summary(purchase_days, cal_end, AS_OF)
    assert total["customers"] == len(cal)
    assert total["actual_repeat_purchases"] == cal["holdout_purchase_days"].sum()
    bg_cal, _ = fit_models(cal, ClvSettings(clv_model="bg_nbd"))
    assert (total["r"], total["alpha"], total["a"], total["b"]) == pytest.approx(
        (bg_cal.r, bg_cal.alpha, bg_cal.a, bg_cal.b), rel=1e-12
    )
    x, t_x, T = (cal[c].to_numpy(float) for c in ("frequency", "recency_days", "tenure_days"))
    predicted = clv.expected_purchases(bg_cal, 180.0, x, t_x, T)
    actual = cal["holdout_purchase_days"].to_numpy(float)
    assert total["predicted_repeat_purchases"] == pytest.approx(predicted.sum(), rel=1e-12)
    assert total["correlation"] == pytest.approx(np.corrcoef(predicted, actual)[0, 1], rel=1e-12)
    assert total["mean_absolute_error"] == pytest.approx(np.abs(predicted - actual).mean(), rel=1e-12)
    # Simulated from the model itself: predictions track the holdout.
    assert 0.3 < total["correlation"] <= 1.0
    assert total["predicted_repeat_purchases"] == pytest.approx(total["actual_repeat_purchases"], rel=0.15)

    # The frequency buckets partition the total.
    for column in ("customers", "actual_repeat_purchases", "predicted_repeat_purchases"):
        assert freq[column].sum() == pytest.approx(total[column], rel=1e-12), column
    assert freq["customers"].tolist() == [int(((np.minimum(x, 7)) == k).sum()) for k in range(8)]
    assert freq[["correlation", "r", "alpha", "a", "b"]].isna().all().all()


def test_backtest_weeks_are_cumulative_and_end_at_the_totals(backtest_rows: pd.DataFrame) -> None:
    weeks = backtest_rows[backtest_rows["breakdown"] == "week"]
    total = backtest_rows[backtest_rows["breakdown"] == "total"].iloc[0]
    assert weeks["bucket"].tolist() == [str(w) for w in range(1, 27)]
    assert weeks["bucket_order"].tolist() == list(range(1, 27))
    assert (weeks["customers"] == total["customers"]).all()
    assert (np.diff(weeks["actual_repeat_purchases"]) >= 0).all()
    assert (np.diff(weeks["predicted_repeat_purchases"]) > 0).all()
    last = weeks.iloc[-1]
    # 180 days = 25 weeks + 5 days: the last "week" ends on day 180, so it carries the totals.
    assert last["actual_repeat_purchases"] == total["actual_repeat_purchases"]
    assert last["predicted_repeat_purchases"] == pytest.approx(total["predicted_repeat_purchases"], rel=1e-12)
    assert weeks.iloc[0]["actual_repeat_purchases"] < total["actual_repeat_purchases"] / 10


def _assert_unfitted__bt(bt: pd.DataFrame, status: str, holdout: int) -> None:
    assert (bt["model_status"] == status).all()
    assert bt["breakdown"].value_counts().to_dict() == {
        "week": math.ceil(holdout / 7),
        "calibration_frequency": 8,
        "total": 1,
    }
    nulls = ["predicted_repeat_purchases", "correlation", "mean_absolute_error", "r", "alpha", "a", "b"]
    assert bt[nulls].isna().all().all()
    types = _duckdb_types(bt)
    for column in nulls:
        assert types[column] == "DOUBLE", column


def test_backtest_with_too_few_calibration_customers_is_status_marked() -> None:
    pdays = _hand_made_purchase_days()
    bt = _bt(pdays, date(2026, 6, 30), ClvSettings(clv_model="bg_nbd", holdout_days=91))
    _assert_unfitted__bt(bt, "insufficient_data", 91)
    total = bt[bt["breakdown"] == "total"].iloc[0]
    assert total["model_status_reason"].startswith(
        "Refitted on the purchases up to 2026-03-31: Only 3 customers bought"
    )
    assert total["customers"] == 3
    assert total["actual_repeat_purchases"] == 4  # the actuals are still reported


def test_backtest_on_a_history_shorter_than_the_holdout_is_status_marked() -> None:
    pdays = _hand_made_purchase_days()
    bt = _bt(pdays, date(2026, 6, 30), ClvSettings(clv_model="bg_nbd", holdout_days=1000))
    _assert_unfitted__bt(bt, "insufficient_data", 1000)
    total = bt[bt["breakdown"] == "total"].iloc[0]
    assert total["customers"] == 0 and total["actual_repeat_purchases"] == 0
    assert total["model_status_reason"].startswith("No customer had bought by 2023-10-04, the end of the calibration")
    assert "1000-day holdout, var clv_holdout_days" in total["model_status_reason"]


def test_backtest_with_a_quiet_holdout_has_null_correlation_typed_double() -> None:
    # Nobody bought in the holdout (e.g. as_of_date set after the data ends): the correlation is
    # undefined (null), and the column must still load as DOUBLE for the clv_backtest contract.
    pdays = _simulate_purchase_days(1500, seed=4, quiet_from=AS_OF - timedelta(days=200))
    bt = _bt(pdays, AS_OF, ClvSettings(clv_model="bg_nbd"))
    total = bt[bt["breakdown"] == "total"].iloc[0]
    assert total["actual_repeat_purchases"] == 0
    assert total["predicted_repeat_purchases"] > 0
    assert pd.isna(total["correlation"])
    assert total["mean_absolute_error"] == pytest.approx(total["predicted_repeat_purchases"] / total["customers"])
    types = _duckdb_types(bt)
    for column in ("correlation", "mean_absolute_error", "r", "alpha", "a", "b", "actual_repeat_purchases"):
        assert types[column] == "DOUBLE", column
    assert types["as_of_date"] == types["calibration_end_date"] == "DATE"
    assert types["customers"] == types["bucket_order"] == types["holdout_days"] == "BIGINT"


def test_backtest_does_not_depend_on_spend(purchase_days: pd.DataFrame, backtest_rows: pd.DataFrame) -> None:
    # The backtest evaluates the purchase model (BG/NBD) only. A single fixed price (no spend
    # variation, so no Gamma-Gamma fit is possible) must not fail it, and must not change it.
    fixed_price = purchase_days.assign(net_revenue=20.0)
    with pytest.raises(ClvFitError, match="no variation"):
        fit_models(
            calibration_summary(fixed_price, AS_OF - timedelta(days=180), AS_OF), ClvSettings(clv_model="bg_nbd")
        )
    pd.testing.assert_frame_equal(_bt(fixed_price, AS_OF, ClvSettings(clv_model="bg_nbd")), backtest_rows)


def test_backtest_uses_the_holdout_var(purchase_days: pd.DataFrame) -> None:
    bt = _bt(purchase_days, AS_OF, ClvSettings(clv_model="bg_nbd", holdout_days=90))
    assert (bt["calibration_end_date"] == AS_OF - timedelta(days=90)).all()
    weeks = bt[bt["breakdown"] == "week"]
    assert len(weeks) == 13  # ceil(90 / 7)
    total = bt[bt["breakdown"] == "total"].iloc[0]
    assert weeks.iloc[-1]["actual_repeat_purchases"] == total["actual_repeat_purchases"]
    cal = calibration_summary(purchase_days, AS_OF - timedelta(days=90), AS_OF)
    assert total["actual_repeat_purchases"] == cal["holdout_purchase_days"].sum()


# ----------------------------------------------------------------------------- model choice


def _fitted(name: str, ll: float) -> PurchaseOutcome:
    model = PURCHASE_MODELS[name]
    fit = dataclasses.replace(_bg(), log_likelihood=ll) if name == "bg_nbd" else None
    if fit is None:
        fit = model.make_fit({p: 1.0 for p in model.param_names}, log_likelihood=ll)
    return PurchaseOutcome(model, fit)


def _failed(name: str) -> PurchaseOutcome:
    return PurchaseOutcome(PURCHASE_MODELS[name], None, ModelFailure("degenerate", "It failed.", "failed"))


def test_holdout_score_is_mae_plus_the_aggregate_error_per_customer() -> None:
    assert holdout_score(0.5, 110.0, 100.0, 50) == pytest.approx(0.5 + 10.0 / 50)
    assert holdout_score(0.5, 90.0, 100.0, 50) == pytest.approx(0.5 + 10.0 / 50)  # too low counts like too high
    assert holdout_score(0.0, 100.0, 100.0, 50) == 0.0


def test_auto_chooses_the_lowest_holdout_score() -> None:
    outcomes = (_fitted("bg_nbd", -100.0), _fitted("mbg_nbd", -90.0), _fitted("pareto_nbd", -95.0))
    chosen, why = choose_model(outcomes, "auto", {"bg_nbd": 0.40, "mbg_nbd": 0.45, "pareto_nbd": 0.38})
    assert chosen == "pareto_nbd"
    assert why.startswith("Pareto/NBD is used: the lowest holdout score (0.3800; var clv_model = auto) of the 3")
    # Ties go to the simpler model (registry order), whatever the likelihood says.
    assert choose_model(outcomes, "auto", {"bg_nbd": 0.4, "mbg_nbd": 0.4, "pareto_nbd": 0.4})[0] == "bg_nbd"
    # A model that could not be fitted on all data is never chosen, however well it backtested.
    failed = (_fitted("bg_nbd", -100.0), _failed("mbg_nbd"), _fitted("pareto_nbd", -95.0))
    assert choose_model(failed, "auto", {"bg_nbd": 0.5, "mbg_nbd": 0.1, "pareto_nbd": 0.6})[0] == "bg_nbd"
    # A model without a holdout score (its calibration fit failed) is not compared on it.
    assert choose_model(outcomes, "auto", {"mbg_nbd": 0.9})[0] == "mbg_nbd"


def test_auto_without_any_holdout_score_takes_the_highest_likelihood() -> None:
    outcomes = (_fitted("bg_nbd", -100.0), _fitted("mbg_nbd", -90.0), _fitted("pareto_nbd", -95.0))
    chosen, why = choose_model(outcomes, "auto", {})
    assert chosen == "mbg_nbd" and "highest log-likelihood on all purchases" in why
    assert choose_model(outcomes, "auto", None)[0] == "mbg_nbd"
    assert choose_model((_failed("bg_nbd"), _failed("mbg_nbd"), _failed("pareto_nbd")), "auto", {}) == (
        None,
        "No purchase model could be fitted.",
    )


def test_a_pinned_model_is_used_even_when_another_scores_better_and_never_replaced() -> None:
    outcomes = (_fitted("bg_nbd", -100.0), _fitted("mbg_nbd", -90.0), _failed("pareto_nbd"))
    scores = {"bg_nbd": 0.9, "mbg_nbd": 0.1}
    assert choose_model(outcomes, "bg_nbd", scores) == ("bg_nbd", "BG/NBD is used because the var clv_model pins it.")
    chosen, why = choose_model(outcomes, "pareto_nbd", scores)
    assert chosen is None and why == "The var clv_model pins Pareto/NBD, which could not be fitted."


def test_fit_outcome_fits_every_model_and_reports_the_pinned_failure(simulated: pd.DataFrame) -> None:
    data = simulated.head(3000)
    auto = fit_outcome(data, ClvSettings(), {"bg_nbd": 0.3, "mbg_nbd": 0.2, "pareto_nbd": 0.25})
    assert [o.model.name for o in auto.purchase] == list(PURCHASE_MODELS)
    assert all(o.fit is not None and o.log_cov is not None for o in auto.purchase)
    assert auto.chosen == "mbg_nbd" and auto.status == "fitted"
    assert auto.reason.startswith("MBG/NBD is used: the lowest holdout score (0.2000")
    rows = parameters_rows(auto, AS_OF, ClvSettings(), {"bg_nbd": 0.3, "mbg_nbd": 0.2, "pareto_nbd": 0.25})
    by = rows.set_index("purchase_model")
    assert by["is_chosen"].to_dict() == {"bg_nbd": False, "mbg_nbd": True, "pareto_nbd": False}
    assert by.loc["pareto_nbd", ["a", "b"]].isna().all() and by.loc["pareto_nbd", ["s", "beta", "s_se"]].notna().all()
    assert by.loc["bg_nbd", ["s", "beta"]].isna().all() and by.loc["bg_nbd", ["a_se", "b_se"]].notna().all()
    assert by["holdout_score"].tolist() == [0.3, 0.2, 0.25]
    # The standard errors are the delta method on the stored covariance of the log-parameters.
    cov = np.array(json.loads(by.loc["mbg_nbd", "log_covariance"]))
    assert by.loc["mbg_nbd", "r_se"] == pytest.approx(by.loc["mbg_nbd", "r"] * math.sqrt(cov[0, 0]), rel=1e-12)
    stored = fits_from_parameters(rows)
    assert stored.model is PURCHASE_MODELS["mbg_nbd"] and stored.log_cov == pytest.approx(cov)


def test_reported_p_alive_is_null_for_bg_nbd_one_time_buyers_only() -> None:
    x, t_x, T = np.array([0.0, 0.0, 2.0]), np.array([0.0, 0.0, 40.0]), np.array([30.0, 700.0, 700.0])
    bg = reported_p_alive(BG_MODEL, _bg(), x, t_x, T)
    assert np.isnan(bg[:2]).all() and 0 < bg[2] < 1
    mbg_model = PURCHASE_MODELS["mbg_nbd"]
    mbg = mbg_model.fit_type(**dataclasses.asdict(_bg()))
    pa = reported_p_alive(mbg_model, mbg, x, t_x, T)
    assert np.isfinite(pa).all() and pa[1] < pa[0] < 1  # a one-time buyer fades with her silence


@pytest.mark.parametrize("name", ["mbg_nbd", "pareto_nbd"])
@pytest.mark.parametrize("threshold", [0.3, 0.5])
def test_p_alive_crossing_days_of_the_other_models(name: str, threshold: float) -> None:
    model = PURCHASE_MODELS[name]
    values = {"r": 0.5, "alpha": 40.0, "a": 0.8, "b": 3.0, "s": 0.6, "beta": 80.0}
    fit = model.make_fit(values)
    x = np.array([0.0, 1.0, 3.0, 8.0, 3.0])
    t_x = np.array([0.0, 20.0, 100.0, 300.0, 100.0])
    crossing = p_alive_crossing_days(model, fit, x, t_x, threshold)
    assert np.isfinite(crossing).all() and (crossing >= t_x).all()
    above = model.p_alive(fit, x, t_x, np.floor(crossing))
    below = model.p_alive(fit, x, t_x, np.floor(crossing) + 1.0)
    starts_below = model.p_alive(fit, x, t_x, t_x) < threshold
    assert ((above >= threshold) | starts_below).all()
    assert (below < threshold).all()
    assert crossing[2] == crossing[4]  # the same (x, t_x), the same day


def test_score_snapshot_patterns_uses_the_chosen_model() -> None:
    patterns = pd.DataFrame({"frequency": [0, 0, 2], "recency_days": [0, 0, 40], "tenure_days": [30, 700, 700]})
    out = score_snapshot_patterns(patterns, _fits(_bg(), None))
    assert out["p_alive"].isna().tolist() == [True, True, False]
    assert _duckdb_types(out)["p_alive"] == "DOUBLE"
    none = score_snapshot_patterns(patterns, StoredFits(None, None, None, None))
    assert none["p_alive"].isna().all() and _duckdb_types(none)["p_alive"] == "DOUBLE"


def test_scores_carry_deterministic_80_percent_intervals(
    simulated: pd.DataFrame, simulated_fit: tuple[BgNbdFit, GammaGammaFit]
) -> None:
    bg, gg = simulated_fit
    sub = simulated.head(2000)
    settings = ClvSettings(clv_model="bg_nbd")
    out = score_customers(sub, _fits(bg, gg), AS_OF, settings)
    again = score_customers(sub, _fits(bg, gg), AS_OF, settings)
    pd.testing.assert_frame_equal(out, again)  # the same build, the same intervals
    later = score_customers(sub, _fits(bg, gg), AS_OF + timedelta(days=1), settings)
    assert not later["predicted_clv_p90"].equals(out["predicted_clv_p90"])  # another build, other draws
    low, high = out["expected_purchases_p10"], out["expected_purchases_p90"]
    assert (low <= high).all() and (low >= 0).all() and (high > 0).any()
    assert (out["predicted_clv_p10"] <= out["predicted_clv_p90"]).all()
    types = _duckdb_types(out)
    for column in ("expected_purchases_p10", "expected_purchases_p90", "predicted_clv_p10", "predicted_clv_p90"):
        assert types[column] == "DOUBLE", column
    no_spend = score_customers(sub, _fits(bg, None), AS_OF, settings)
    assert no_spend["predicted_clv_p10"].isna().all() and no_spend["expected_purchases_p90"].notna().all()
    none = score_customers(sub, _fits(None, None), AS_OF, settings)
    assert none[["expected_purchases_p10", "predicted_clv_p90"]].isna().all().all()
