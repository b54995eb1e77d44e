"""The per-customer prediction intervals (lifecycle.clv.intervals) against what actually happens.

Customers are simulated from each model's own story (purchase rates, dropout after a purchase or
after an exponential lifetime), fitted on a calibration period, and the 80 % interval of the next
180 days is compared with the purchases they then made. The simulator is written here, apart from
the library's scoring, so the coverage is an independent check.
"""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.clv import GammaGammaFit
from lifecycle.clv.intervals import alive_by_draw, parameter_draws, purchase_intervals
from lifecycle.clv.models import PURCHASE_MODELS

HOLDOUT = 180.0


def _simulate(story: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Whole-day (x, t_x, T) at the calibration end and the purchases of the next HOLDOUT days."""
    rng = np.random.default_rng(seed)
    T = rng.integers(30, 700, n).astype(float)
    lam = rng.gamma(0.6, 1 / 30.0, n)
    p = rng.beta(0.8, 3.0, n)
    life = rng.exponential(1 / rng.gamma(0.8, 1 / 200.0, n))
    x, t_x, hold = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        t, end = 0.0, T[i] + HOLDOUT
        alive_until = life[i] if story == "pareto_nbd" else np.inf
        if story == "mbg_nbd" and rng.random() < p[i]:
            alive_until = 0.0  # MBG/NBD: may leave right after the first purchase
        while True:
            t += rng.exponential(1 / lam[i])
            if t > end or t > alive_until:
                break
            if t <= T[i]:
                x[i] += 1
                t_x[i] = t
            else:
                hold[i] += 1
            if story != "pareto_nbd" and rng.random() < p[i]:
                alive_until = t
    return x, np.minimum(np.floor(t_x), T), T, hold


@pytest.fixture(scope="module", params=list(PURCHASE_MODELS))
def case(request: pytest.FixtureRequest) -> tuple[str, object, np.ndarray, tuple[np.ndarray, ...]]:
    name = request.param
    x, t_x, T, hold = _simulate(name, 4000, seed=1)
    model = PURCHASE_MODELS[name]
    fit = model.fit(x, t_x, T)
    return name, fit, model.log_covariance(fit, x, t_x, T), (x, t_x, T, hold)


def test_the_interval_holds_the_holdout_purchases_of_at_least_80_percent(case: tuple) -> None:
    name, fit, cov, (x, t_x, T, hold) = case
    model = PURCHASE_MODELS[name]
    iv = purchase_intervals(model, fit, cov, x, t_x, T, HOLDOUT, seed=3)
    covered = float(((hold >= iv.purchases_low) & (hold <= iv.purchases_high)).mean())
    # Whole purchases: the 10th-90th percentile range holds at least 80 % (0.93 on these data).
    assert 0.80 <= covered <= 0.97, covered
    assert (iv.purchases_low <= iv.purchases_high).all()
    assert (iv.purchases_low == np.floor(iv.purchases_low)).all() and (iv.purchases_low >= 0).all()
    # The upper bound follows the expectation: customers expected to buy more get wider intervals.
    expected = model.expected_purchases(fit, HOLDOUT, x, t_x, T)
    assert np.corrcoef(expected, iv.purchases_high)[0, 1] > 0.8
    assert iv.clv_low is None and iv.clv_high is None


def test_the_simulated_futures_average_to_the_expected_purchases(case: tuple) -> None:
    name, fit, _cov, (x, t_x, T, _hold) = case
    model = PURCHASE_MODELS[name]
    sub = slice(0, 300)
    # Many futures without parameter uncertainty: their mean is the model's conditional expectation.
    rng = np.random.Generator(np.random.PCG64(5))
    from lifecycle.clv.intervals import _simulate_counts

    alive = model.p_alive(fit, x[sub], t_x[sub], T[sub])[:, None]
    counts = _simulate_counts(model, [fit], alive, x[sub], T[sub], HOLDOUT, 4000, rng)
    expected = model.expected_purchases(fit, HOLDOUT, x[sub], t_x[sub], T[sub])
    se = counts.std(axis=1) / np.sqrt(counts.shape[1])
    assert (np.abs(counts.mean(axis=1) - expected) <= 5.0 * se + 2e-3).all()
    assert abs(counts.mean() - expected.mean()) < 4 * counts.mean(axis=1).std() / np.sqrt(300) + 1e-3


def test_same_seed_same_intervals_other_seed_other_draws(case: tuple) -> None:
    name, fit, cov, (x, t_x, T, _hold) = case
    model = PURCHASE_MODELS[name]
    gg = GammaGammaFit(6.0, 4.0, 15.0, 0.0, 1, True, 1, 0.0, "")
    m = np.where(x > 0, 20.0 + x, np.nan)
    first = purchase_intervals(model, fit, cov, x, t_x, T, HOLDOUT, spend=gg, mean_spend=m, seed=[7, 1])
    again = purchase_intervals(model, fit, cov, x, t_x, T, HOLDOUT, spend=gg, mean_spend=m, seed=[7, 1])
    other = purchase_intervals(model, fit, cov, x, t_x, T, HOLDOUT, spend=gg, mean_spend=m, seed=[7, 2])
    for a, b in ((first.purchases_high, again.purchases_high), (first.clv_high, again.clv_high)):
        np.testing.assert_array_equal(a, b)
    assert first.clv_high is not None and other.clv_high is not None
    assert not np.array_equal(first.clv_high, other.clv_high)
    assert first.clv_low is not None and (first.clv_low <= first.clv_high).all() and (first.clv_low >= 0).all()


def test_margin_and_discount_scale_the_value_bounds(case: tuple) -> None:
    name, fit, cov, (x, t_x, T, _hold) = case
    model = PURCHASE_MODELS[name]
    gg = GammaGammaFit(6.0, 4.0, 15.0, 0.0, 1, True, 1, 0.0, "")
    m = np.where(x > 0, 30.0, np.nan)
    base = purchase_intervals(model, fit, cov, x, t_x, T, HOLDOUT, spend=gg, mean_spend=m, seed=9)
    half = purchase_intervals(
        model, fit, cov, x, t_x, T, HOLDOUT, spend=gg, mean_spend=m, margin_rate=0.5, discount_weight=0.9, seed=9
    )
    assert base.clv_high is not None and half.clv_high is not None
    np.testing.assert_allclose(half.clv_high, 0.45 * base.clv_high, rtol=1e-12)


def test_parameter_draws_follow_the_covariance(case: tuple) -> None:
    name, fit, cov, _data = case
    model = PURCHASE_MODELS[name]
    draws = parameter_draws(model, fit, cov, 4000, np.random.default_rng(0))
    logs = np.stack([model.log_params(f) for f in draws])
    assert (np.abs(logs.mean(axis=0) - model.log_params(fit)) <= 4 * np.sqrt(np.diag(cov) / 4000)).all()
    np.testing.assert_allclose(np.cov(logs.T), cov, atol=0.1 * np.abs(cov).max())
    assert parameter_draws(model, fit, None, 3, np.random.default_rng(0)) == [fit] * 3


def test_p_alive_of_a_draw_is_close_to_the_exact_one(case: tuple) -> None:
    name, fit, cov, (x, t_x, T, _hold) = case
    model = PURCHASE_MODELS[name]
    draws = parameter_draws(model, fit, cov, 5, np.random.default_rng(1))
    approx = alive_by_draw(model, fit, draws, x[:500], t_x[:500], T[:500])
    exact = np.stack([model.p_alive(f, x[:500], t_x[:500], T[:500]) for f in draws], axis=1)
    assert np.abs(approx - exact).max() < 0.02  # first order in a parameter step of a few standard errors
    np.testing.assert_array_equal(
        alive_by_draw(model, fit, [fit, fit], x[:5], t_x[:5], T[:5])[:, 1], model.p_alive(fit, x[:5], t_x[:5], T[:5])
    )


def test_bad_arguments_are_refused_in_one_line() -> None:
    model = PURCHASE_MODELS["bg_nbd"]
    fit = model.fit_type(0.5, 40.0, 0.8, 3.0, 0.0, 1, 1, True, 0, 0.0, "")
    x, t_x, T = np.array([1.0]), np.array([10.0]), np.array([20.0])
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\), got 1.0"):
        purchase_intervals(model, fit, None, x, t_x, T, 30.0, level=1.0)
    with pytest.raises(ValueError, match="n_parameter_draws and n_process_draws must be at least 1"):
        purchase_intervals(model, fit, None, x, t_x, T, 30.0, n_parameter_draws=0)
    with pytest.raises(ValueError, match="log_cov must be a finite 4x4 matrix"):
        purchase_intervals(model, fit, np.eye(3), x, t_x, T, 30.0)
    with pytest.raises(ValueError, match="mean_spend is required with a spend model"):
        purchase_intervals(
            model, fit, None, x, t_x, T, 30.0, spend=GammaGammaFit(6.0, 4.0, 15.0, 0.0, 1, True, 1, 0.0, "")
        )
    with pytest.raises(ValueError, match="recency"):
        purchase_intervals(model, fit, None, x, np.array([30.0]), T, 30.0)


@pytest.mark.parametrize("futures", [1, 7, 200])
def test_bounds_are_numpys_inverted_cdf_quantiles(futures: int) -> None:
    from lifecycle.clv.intervals import _bounds

    samples = np.random.default_rng(futures).poisson(2.0, size=(300, futures)).astype(float)
    low, high = _bounds(samples, 0.1, 0.9)
    expected = np.quantile(samples, [0.1, 0.9], axis=1, method="inverted_cdf")
    np.testing.assert_array_equal(low, expected[0])
    np.testing.assert_array_equal(high, expected[1])


def test_a_covariance_that_does_not_pin_the_parameters_down_is_left_out() -> None:
    # A small shop whose BG/NBD fit sits near b -> infinity: a log-parameter standard error of 30
    # would draw parameters of e^±90. The intervals then carry count and spend uncertainty only.
    from lifecycle.clv.intervals import pins_down

    model = PURCHASE_MODELS["bg_nbd"]
    fit = model.fit_type(0.5, 40.0, 50.0, 400.0, 0.0, 1, 1, True, 0, 0.0, "")
    wild = np.diag([0.01, 0.01, 900.0, 900.0])
    assert not pins_down(wild) and not pins_down(np.diag([0.01, 0.01, 0.01, -1.0])) and pins_down(np.eye(4) * 0.04)
    assert parameter_draws(model, fit, wild, 3, np.random.default_rng(0)) == [fit] * 3
    x, t_x, T = np.array([0.0, 2.0, 5.0]), np.array([0.0, 50.0, 300.0]), np.array([100.0, 200.0, 400.0])
    with_wild = purchase_intervals(model, fit, wild, x, t_x, T, 365.0, seed=4)
    without = purchase_intervals(model, fit, None, x, t_x, T, 365.0, seed=4)
    assert np.isfinite(with_wild.purchases_high).all()
    np.testing.assert_array_equal(with_wild.purchases_high, without.purchases_high)
