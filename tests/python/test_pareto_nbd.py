"""Tests for lifecycle.clv.pareto_nbd against the published CDNOW estimates, ``lifetimes`` 0.11.3
given the same parameters, and a 50-digit evaluation of the likelihood (``mpmath``)."""

from __future__ import annotations

import numpy as np
import pytest
from cdnow_data import calibration_summary_days, datasets_dir, reference_with

from lifecycle import clv
from lifecycle.clv import ClvFitError
from lifecycle.clv.pareto_nbd import (
    ParetoNbdFit,
    fit_pareto_nbd,
    pareto_nbd_expected_purchases,
    pareto_nbd_expected_purchases_unconditional,
    pareto_nbd_log_likelihood,
    pareto_nbd_p_alive,
    pareto_nbd_standard_errors,
)
from lifecycle.clv.simulate import simulate_pareto_nbd

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

# Calibration to 1997-09-30 in days (the figures; FHL 2005 publish 0.55, 10.58, 0.61,
# 11.67 per week). The likelihood is flat along the s-beta ridge: beta = 81.67 and the maximum at
# 81.681 differ by 3e-8 in log-likelihood, so beta is checked to the published precision.
EXPECTED_DAYS = {"r": 0.5533, "alpha": 74.04, "s": 0.6062}
EXPECTED_BETA, BETA_TOL = 81.67, 0.02


def _given(r: float, alpha: float, s: float, beta: float) -> ParetoNbdFit:
    return ParetoNbdFit(r, alpha, s, beta, 0.0, 0, 0, True, 0, 0.0, "given")


@pytest.fixture(scope="module")
def cdnow() -> clv.RfmSummary:
    return calibration_summary_days()


@pytest.fixture(scope="module")
def cdnow_fit(cdnow: clv.RfmSummary) -> ParetoNbdFit:
    return fit_pareto_nbd(cdnow.frequency, cdnow.recency, cdnow.T)


@pytest.fixture(scope="module")
def reference():  # type: ignore[no-untyped-def]
    datasets_dir()
    from lifetimes import ParetoNBDFitter

    return ParetoNBDFitter


def _ref_model(reference, fit: ParetoNbdFit):  # type: ignore[no-untyped-def]
    return reference_with(reference, fit.params)


def test_cdnow_reproduces_the_published_estimates(cdnow_fit: ParetoNbdFit, cdnow: clv.RfmSummary) -> None:
    for name, value in EXPECTED_DAYS.items():
        assert round(getattr(cdnow_fit, name), 4 if name in ("r", "s") else 2) == value, name
    assert abs(cdnow_fit.beta - EXPECTED_BETA) <= BETA_TOL
    assert cdnow_fit.n_customers == 2357
    # A maximum: no nearby point is better (a pure optimiser stop would fail this).
    ll = cdnow_fit.log_likelihood
    p = np.array([cdnow_fit.r, cdnow_fit.alpha, cdnow_fit.s, cdnow_fit.beta])
    for i in range(4):
        for step in (1.001, 0.999):
            q = p.copy()
            q[i] *= step
            assert pareto_nbd_log_likelihood(q, cdnow.frequency, cdnow.recency, cdnow.T) < ll


def test_likelihood_equals_lifetimes(reference, cdnow_fit: ParetoNbdFit, cdnow: clv.RfmSummary) -> None:  # type: ignore[no-untyped-def]
    p = np.array([cdnow_fit.r, cdnow_fit.alpha, cdnow_fit.s, cdnow_fit.beta])
    ref = reference._conditional_log_likelihood(p, cdnow.frequency, cdnow.recency, cdnow.T)
    ours = pareto_nbd_log_likelihood(p, cdnow.frequency, cdnow.recency, cdnow.T)
    assert ours == pytest.approx(float(np.sum(ref)), rel=1e-10)


@pytest.mark.parametrize("params", [None, (0.3, 5.0, 2.0, 400.0), (2.0, 300.0, 0.4, 10.0)])
def test_scoring_equals_lifetimes(reference, cdnow_fit: ParetoNbdFit, cdnow: clv.RfmSummary, params) -> None:  # type: ignore[no-untyped-def]
    fit = cdnow_fit if params is None else _given(*params)
    ref = _ref_model(reference, fit)
    x, t_x, T = cdnow.frequency, cdnow.recency, cdnow.T
    np.testing.assert_allclose(
        pareto_nbd_p_alive(fit, x, t_x, T), ref.conditional_probability_alive(x, t_x, T), rtol=1e-6, atol=1e-9
    )
    for horizon in (90.0, 365.0):
        np.testing.assert_allclose(
            pareto_nbd_expected_purchases(fit, horizon, x, t_x, T),
            ref.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, T),
            rtol=1e-6,
            atol=1e-9,
        )
    t = np.array([1.0, 30.0, 365.0, 3000.0])
    np.testing.assert_allclose(
        pareto_nbd_expected_purchases_unconditional(fit, t), ref.expected_number_of_purchases_up_to_time(t), rtol=1e-9
    )


def _ll_50_digits(r: float, alpha: float, s: float, beta: float, x: int, t_x: float, T: float) -> float:
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    r_, a_, s_, b_ = (mp.mpf(v) for v in (r, alpha, s, beta))
    g = r_ + s_ + x
    if a_ >= b_:
        a0 = (
            mp.hyp2f1(g, s_ + 1, g + 1, (a_ - b_) / (a_ + t_x)) / (a_ + t_x) ** g
            - mp.hyp2f1(g, s_ + 1, g + 1, (a_ - b_) / (a_ + T)) / (a_ + T) ** g
        )
    else:
        a0 = (
            mp.hyp2f1(g, r_ + x, g + 1, (b_ - a_) / (b_ + t_x)) / (b_ + t_x) ** g
            - mp.hyp2f1(g, r_ + x, g + 1, (b_ - a_) / (b_ + T)) / (b_ + T) ** g
        )
    alive = (a_ + T) ** (-(r_ + x)) * (b_ + T) ** (-s_)
    return float(mp.log(mp.gamma(r_ + x) / mp.gamma(r_) * a_**r_ * b_**s_ * (alive + s_ / g * a0)))


@pytest.mark.parametrize(
    "params", [(0.5533, 74.04, 0.6062, 81.68), (0.5, 1e4, 0.6, 3.0), (2.0, 3.0, 0.6, 900.0), (40.0, 9.0, 30.0, 5e3)]
)
@pytest.mark.parametrize(
    "pattern",
    [
        (0, 0.0, 10.0),
        (3, 20.0, 100.0),
        (50, 300.0, 305.0),
        (2000, 3000.0, 3001.0),
        (4000, 100.0, 5000.0),
        (0, 0.0, 1e6),
        (7, 7.0, 7.0),
    ],
)
def test_likelihood_at_the_extremes_equals_50_digits(params: tuple[float, ...], pattern: tuple[float, ...]) -> None:
    """Near-daily buyers, thousands of purchases, huge tenures, both branches (alpha >< beta): the
    plain hypergeometric form overflows or loses every digit at several of these."""
    x, t_x, T = pattern
    ours = pareto_nbd_log_likelihood(params, [x], [t_x], [T])
    assert np.isfinite(ours)
    assert ours == pytest.approx(_ll_50_digits(*params, int(x), t_x, T), rel=1e-9, abs=1e-12)


def test_one_time_buyers_fade_with_silence(cdnow_fit: ParetoNbdFit) -> None:
    """What BG/NBD cannot say: a one-time buyer's p_alive falls as her silence grows."""
    T = np.array([1.0, 30.0, 180.0, 365.0, 730.0])
    pa = pareto_nbd_p_alive(cdnow_fit, np.zeros(5), np.zeros(5), T)
    assert (np.diff(pa) < 0).all() and pa[0] > 0.9 and pa[-1] < 0.5


def test_parameter_recovery_with_standard_errors() -> None:
    true = {"r": 0.7, "alpha": 25.0, "s": 0.8, "beta": 120.0}
    x, t_x, T = simulate_pareto_nbd(10_000, **true, T=(200.0, 700.0), seed=20261202)
    t_x, T = np.floor(t_x), np.floor(T)  # whole days, as the warehouse has them
    fit = fit_pareto_nbd(x, t_x, T)
    se = pareto_nbd_standard_errors(fit, x, t_x, T)
    for name, value in true.items():
        est = getattr(fit, name)
        assert 0 < se[name] < 0.3 * value, (name, se[name])
        assert abs(est - value) <= 3.5 * se[name], (name, est, value, se[name])


def test_too_little_data_is_refused() -> None:
    with pytest.raises(ClvFitError, match="too few customers"):
        fit_pareto_nbd([1, 0], [5, 0], [10, 10])
    with pytest.raises(ClvFitError, match="too few repeat buyers"):
        fit_pareto_nbd([0] * 50 + [1] * 3, [0] * 50 + [4] * 3, [30] * 53)
    with pytest.raises(ClvFitError, match="recency exceeds T"):
        fit_pareto_nbd([1] * 40, [50] * 40, [10] * 40)


def test_series_and_quadrature_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both evaluations of the dropout integral on the same patterns (z <= 1/2, where either applies)."""
    from lifecycle.clv import pareto_nbd

    rng = np.random.default_rng(7)
    T = rng.uniform(1.0, 3000.0, 400)
    t_x = T * rng.uniform(0.0, 1.0, 400)
    x = rng.integers(1, 500, 400).astype(float)
    for params in [(0.55, 74.0, 0.61, 81.7), (1.3, 40.0, 0.4, 30.0), (0.2, 20.0, 2.5, 35.0)]:
        series = pareto_nbd_log_likelihood(params, x, t_x, T)
        monkeypatch.setattr(pareto_nbd, "SERIES_MAX_Z", -1.0)
        quadrature = pareto_nbd_log_likelihood(params, x, t_x, T)
        monkeypatch.undo()
        assert quadrature == pytest.approx(series, rel=1e-11)


def _random_patterns(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    T = np.floor(rng.uniform(1.0, 1500.0, n))
    x = rng.integers(0, 300, n).astype(float)
    t_x = np.where(x > 0, np.floor(T * rng.uniform(0.0, 1.0, n)), 0.0)
    return x, t_x, T


@pytest.mark.parametrize("params", [(0.8, 10.0, 1.0, 500.0), (1.5, 900.0, 0.7, 20.0), (0.4, 3.0, 2.0, 700.0)])
def test_cut_integral_equals_direct_quadrature(monkeypatch: pytest.MonkeyPatch, params: tuple[float, ...]) -> None:
    """With the series cut inside the tenures (series above τ*, quadrature below, differences of
    quadratures on distinct pairs) the likelihood and p_alive are those of a quadrature of every
    pattern over its whole (t_x, T]."""
    from lifecycle.clv import pareto_nbd

    x, t_x, T = _random_patterns(3000, 11)
    x, t_x, T = np.r_[x, x[:500]], np.r_[t_x, t_x[:500]], np.r_[T, T[:500] + 1.0]  # shared (x, t_x) pairs
    hi, lo = max(params[1], params[3]), min(params[1], params[3])
    split = (hi - lo) / pareto_nbd.SERIES_MAX_Z - hi
    assert (split > T).any() and (t_x > split).any() and ((t_x < split) & (split < T)).any()
    fit = _given(*params)
    cut_ll, cut_pa = pareto_nbd_log_likelihood(params, x, t_x, T), pareto_nbd_p_alive(fit, x, t_x, T)
    monkeypatch.setattr(pareto_nbd, "SERIES_MAX_Z", -1.0)
    direct_ll, direct_pa = pareto_nbd_log_likelihood(params, x, t_x, T), pareto_nbd_p_alive(fit, x, t_x, T)
    assert cut_ll == pytest.approx(direct_ll, rel=1e-12)
    np.testing.assert_allclose(cut_pa, direct_pa, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "params", [(0.8, 10.0, 1.0, 500.0), (1.5, 900.0, 0.7, 20.0), (0.5533, 74.04, 0.6062, 81.68), (3.0, 50.0, 3.0, 50.0)]
)
def test_gradient_equals_finite_differences(params: tuple[float, ...]) -> None:
    """The analytic gradient (the series differentiated term by term, the quadrature's weighted
    integrand derivatives, the split's and the differences' chain rules) against a 4th-order
    central difference of the log-likelihood in the log-parameters."""
    from lifecycle.clv.pareto_nbd import PARAM_NAMES, _ll, _ll_and_grad, _patterns

    x, t_x, T = _random_patterns(2000, 5)
    data = _patterns(x, t_x / 1500.0, T / 1500.0, np.ones(x.shape[0]))
    p = np.array(params) / np.array([1.0, 1500.0, 1.0, 1500.0])
    _, grad = _ll_and_grad((p[0], p[1], p[2], p[3]), data)
    h = 1e-3
    for i in range(4):

        def at(k: int, i: int = i) -> float:
            q = p.copy()
            q[i] *= np.exp(k * h)
            return _ll((q[0], q[1], q[2], q[3]), data)

        numeric = (-at(2) + 8 * at(1) - 8 * at(-1) + at(-2)) / (12 * h)
        assert grad[i] * p[i] == pytest.approx(numeric, rel=1e-7, abs=1e-6), PARAM_NAMES[i]
