"""The probability of exactly n purchases (lifecycle.clv.counts through the model registry) against
lifetimes and against the models' own expectations, on CDNOW."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from cdnow_data import calibration_summary_days

from lifecycle.clv.intervals import _simulate_counts
from lifecycle.clv.models import PURCHASE_MODELS

lifetimes = pytest.importorskip("lifetimes")
REFERENCE = {
    "bg_nbd": "BetaGeoFitter",
    "mbg_nbd": "ModifiedBetaGeoFitter",
    "pareto_nbd": "ParetoNBDFitter",
}


@pytest.fixture(scope="module", params=list(PURCHASE_MODELS))
def case(request: pytest.FixtureRequest) -> tuple:
    summary = calibration_summary_days()
    model = PURCHASE_MODELS[request.param]
    x, t_x, T = summary.frequency, summary.recency, summary.T
    fit = model.fit(x, t_x, T)
    reference = getattr(lifetimes, REFERENCE[request.param])()
    reference.params_ = pd.Series(model.params(fit))
    return model, fit, reference, (x, t_x, T)


def test_unconditional_equals_lifetimes(case: tuple) -> None:
    model, fit, reference, _data = case
    if not hasattr(reference, "probability_of_n_purchases_up_to_time"):
        pytest.skip(f"lifetimes' {type(reference).__name__} has no unconditional probability")
    warnings.filterwarnings("ignore")
    for t in (7.0, 90.0, 365.0, 2000.0):
        for n in (0, 1, 2, 5, 20):
            ours = float(model.probability_of_purchases(fit, n, t))
            theirs = float(reference.probability_of_n_purchases_up_to_time(t, n))
            # lifetimes computes the dropout term as 1 - a sum: below ~1e-12 that is rounding noise
            # (the far tail is checked against a 50-digit reference below).
            if theirs > 1e-12:
                assert ours == pytest.approx(theirs, rel=1e-6), (t, n)


def test_far_tail_equals_a_50_digit_reference() -> None:
    mp = pytest.importorskip("mpmath")
    model = PURCHASE_MODELS["bg_nbd"]
    fit = model.fit_type(0.2426, 30.895, 0.7929, 2.4259, 0.0, 1, 1, True, 0, 0.0, "")
    mp.mp.dps = 50
    r, al, a, b = (mp.mpf(v) for v in (fit.r, fit.alpha, fit.a, fit.b))
    for t, n in ((7, 20), (30, 60), (365, 300)):
        tt = mp.mpf(t)

        def nb(k: int, tt: object = tt) -> object:
            return mp.gamma(r + k) / (mp.gamma(r) * mp.factorial(k)) * (al / (al + tt)) ** r * (tt / (al + tt)) ** k

        tail = 1 - mp.fsum(nb(j) for j in range(n))
        exact = mp.beta(a, b + n) / mp.beta(a, b) * nb(n) + mp.beta(a + 1, b + n - 1) / mp.beta(a, b) * tail
        assert float(model.probability_of_purchases(fit, n, float(t))) == pytest.approx(float(exact), rel=1e-9), (t, n)


def test_unconditional_sums_to_one_and_averages_to_the_expectation(case: tuple) -> None:
    model, fit, _reference, _data = case
    n = np.arange(0, 2000)
    for t in (90.0, 365.0):
        p = model.probability_of_purchases(fit, n, t)
        assert p.sum() == pytest.approx(1.0, abs=1e-8)
        # A new customer is one at T = 0: the conditional expectation at x = t_x = T = 0.
        assert (n * p).sum() == pytest.approx(float(model.expected_purchases(fit, t, 0.0, 0.0, 0.0)[()]), rel=1e-6)
    # At T = 0 the conditional distribution is the unconditional one.
    np.testing.assert_allclose(
        model.conditional_probability_of_purchases(fit, n[:50], 90.0, 0.0, 0.0, 0.0),
        model.probability_of_purchases(fit, n[:50], 90.0),
        rtol=1e-10,
        atol=1e-300,
    )


def test_conditional_equals_lifetimes_where_it_has_one(case: tuple) -> None:
    model, fit, reference, (x, t_x, T) = case
    if not hasattr(reference, "conditional_probability_of_n_purchases_up_to_time"):
        pytest.skip(f"lifetimes' {type(reference).__name__} has no conditional probability")
    warnings.filterwarnings("ignore")
    for n in (0, 1, 3):
        ours = model.conditional_probability_of_purchases(fit, n, 90.0, x[:60], t_x[:60], T[:60])
        theirs = np.array(
            [
                reference.conditional_probability_of_n_purchases_up_to_time(n, 90.0, x[i], t_x[i], T[i])
                for i in range(60)
            ]
        )
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_conditional_sums_to_one_averages_to_the_expectation_and_matches_simulation(case: tuple) -> None:
    model, fit, _reference, (x, t_x, T) = case
    n = np.arange(0, 400)[:, None]
    sel = slice(0, 300)
    p = model.conditional_probability_of_purchases(fit, n, 180.0, x[None, sel], t_x[None, sel], T[None, sel])
    np.testing.assert_allclose(p.sum(axis=0), 1.0, atol=1e-8)
    np.testing.assert_allclose(
        (n * p).sum(axis=0), model.expected_purchases(fit, 180.0, x[sel], t_x[sel], T[sel]), rtol=1e-6
    )
    # The exact posterior simulation of lifecycle.clv.intervals draws from the same distribution.
    rng = np.random.Generator(np.random.PCG64(11))
    alive = model.p_alive(fit, x[sel], t_x[sel], T[sel])[:, None]
    draws = _simulate_counts(model, [fit], alive, x[sel], T[sel], 180.0, 20_000, rng)
    for k in (0, 1, 2):
        share = (draws == k).mean(axis=1)
        se = np.sqrt(p[k] * (1 - p[k]) / draws.shape[1]) + 1e-12
        assert (np.abs(share - p[k]) <= 5 * se + 1e-4).all(), k
    any_purchase = model.conditional_probability_of_any_purchase(fit, 180.0, x[sel], t_x[sel], T[sel])
    np.testing.assert_allclose(any_purchase, 1.0 - p[0], rtol=1e-12)


def test_bad_counts_are_refused() -> None:
    model = PURCHASE_MODELS["bg_nbd"]
    fit = model.fit_type(0.5, 40.0, 0.8, 3.0, 0.0, 1, 1, True, 0, 0.0, "")
    with pytest.raises(ValueError, match="n must be whole numbers >= 0"):
        model.probability_of_purchases(fit, 1.5, 30.0)
    with pytest.raises(ValueError, match="n must be whole numbers >= 0"):
        model.probability_of_purchases(fit, -1, 30.0)
    with pytest.raises(ValueError, match="t must be finite and >= 0"):
        model.conditional_probability_of_purchases(fit, 1, -3.0, 1.0, 5.0, 10.0)
