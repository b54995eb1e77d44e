"""Tests for lifecycle.clv.counts (the probability of exactly n purchases) against ``lifetimes``
0.11.3 given our parameters, 50-digit evaluations (``mpmath``), the conditional expectations of
:mod:`lifecycle.clv.models` and a Monte Carlo simulation of the posterior process."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from cdnow_data import calibration_summary_days, datasets_dir, reference_with

from lifecycle import clv
from lifecycle.clv import counts
from lifecycle.clv.bgnbd import BgNbdFit
from lifecycle.clv.mbgnbd import MbgNbdFit
from lifecycle.clv.models import PURCHASE_MODELS
from lifecycle.clv.pareto_nbd import ParetoNbdFit, pareto_nbd_log_odds_dead

mp = pytest.importorskip("mpmath")

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

MODELS = tuple(PURCHASE_MODELS)
REFERENCE = {"bg_nbd": "BetaGeoFitter", "mbg_nbd": "ModifiedBetaGeoFitter", "pareto_nbd": "ParetoNBDFitter"}


@pytest.fixture(scope="module")
def cdnow() -> clv.RfmSummary:
    return calibration_summary_days()


@pytest.fixture(scope="module")
def fits(cdnow: clv.RfmSummary) -> dict[str, Any]:
    return {name: m.fit(cdnow.frequency, cdnow.recency, cdnow.T) for name, m in PURCHASE_MODELS.items()}


def _reference(name: str, fit: Any) -> Any:
    datasets_dir()
    import lifetimes

    return reference_with(getattr(lifetimes, REFERENCE[name]), PURCHASE_MODELS[name].params(fit))


def _customers(cdnow: clv.RfmSummary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A few CDNOW customers: one-time buyers, ordinary and the heaviest repeat buyers."""
    order = np.argsort(cdnow.frequency, kind="stable")
    idx = np.unique(np.concatenate([order[:3], order[1500:1503], order[2200:2202], order[-3:]]))
    return cdnow.frequency[idx], cdnow.recency[idx], cdnow.T[idx]


def _mp_geometric_pmf(r: float, alpha: float, a: float, b: float, t: float, n: int) -> float:
    """BG/NBD's equation 8 in 50 digits (survival as a regularised incomplete beta)."""
    with mp.workdps(50):
        r_, al, a_, b_, t_ = (mp.mpf(v) for v in (r, alpha, a, b, t))
        nb = mp.exp(mp.loggamma(r_ + n) - mp.loggamma(r_) - mp.loggamma(n + 1)) * (al / (al + t_)) ** r_
        nb *= (t_ / (al + t_)) ** n
        out = mp.beta(a_, b_ + n) / mp.beta(a_, b_) * nb
        if n > 0:
            surv = mp.betainc(n, r_, 0, t_ / (al + t_), regularized=True)
            out += mp.beta(a_ + 1, b_ + n - 1) / mp.beta(a_, b_) * surv
        return float(out)


def _mp_pareto_alive_pmf(fit: ParetoNbdFit, n: int, t: float, x: float, T: float) -> float:
    """P(n | alive) of Pareto/NBD: the survival term plus the dropout integral by mpmath quadrature."""
    with mp.workdps(30):
        R, A, B, s = mp.mpf(fit.r) + x, mp.mpf(fit.alpha) + T, mp.mpf(fit.beta) + T, mp.mpf(fit.s)
        log_c = mp.loggamma(R + n) - mp.loggamma(R) - mp.loggamma(n + 1)

        def nb(tau: Any) -> Any:
            return mp.exp(log_c + R * mp.log(A / (A + tau)) + (n * mp.log(tau / (A + tau)) if n else 0))

        def integrand(tau: Any) -> Any:
            return s / (B + tau) * (B / (B + tau)) ** s * nb(tau)

        return float((B / (B + t)) ** s * nb(mp.mpf(t)) + mp.quad(integrand, [t * k / 16 for k in range(17)]))


@pytest.mark.parametrize("name", ["bg_nbd", "mbg_nbd"])
def test_unconditional_matches_lifetimes_and_50_digits(name: str, fits: dict[str, Any]) -> None:
    model, fit = PURCHASE_MODELS[name], fits[name]
    ref = _reference(name, fit)
    ns = np.arange(40)
    for t in (30.0, 90.0, 365.0):
        ours = model.probability_of_purchases(fit, ns, t)
        theirs = np.array([ref.probability_of_n_purchases_up_to_time(t, int(n)) for n in ns])
        # lifetimes' 1 − Σ loses all digits once P is below ~1e-10 (short horizons, many purchases).
        big = theirs > 1e-9
        assert big.sum() >= 10
        np.testing.assert_allclose(ours[big], theirs[big], rtol=1e-6)
        # MBG/NBD's new customer: dropped right after the first purchase with probability a/(a+b),
        # else BG/NBD's process at b + 1.
        b, lead = (fit.b, 0.0) if name == "bg_nbd" else (fit.b + 1.0, fit.a / (fit.a + fit.b))
        exact = [
            (lead if n == 0 else 0.0) + (1 - lead) * _mp_geometric_pmf(fit.r, fit.alpha, fit.a, b, t, n) for n in ns
        ]
        np.testing.assert_allclose(ours, exact, rtol=1e-10)


def test_pareto_unconditional_matches_lifetimes(fits: dict[str, Any]) -> None:
    """lifetimes 0.11.3 has no unconditional PMF for Pareto/NBD: its conditional PMF (the FHL note
    028 2F1 form) of a customer with x = t_x = T = 0 is that PMF."""
    model, fit = PURCHASE_MODELS["pareto_nbd"], fits["pareto_nbd"]
    ref = _reference("pareto_nbd", fit)
    for t in (30.0, 90.0, 365.0):
        ours = model.probability_of_purchases(fit, np.arange(12), t)
        theirs = [ref.conditional_probability_of_n_purchases_up_to_time(n, t, 0.0, 0.0, 0.0) for n in range(12)]
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    grid = model.probability_of_purchases(fit, np.arange(3)[:, None], np.array([30.0, 90.0]))
    assert grid.shape == (3, 2)
    assert grid[0, 1] == pytest.approx(model.probability_of_purchases(fit, 0, 90.0))


def test_pareto_conditional_matches_lifetimes(fits: dict[str, Any], cdnow: clv.RfmSummary) -> None:
    model, fit = PURCHASE_MODELS["pareto_nbd"], fits["pareto_nbd"]
    ref = _reference("pareto_nbd", fit)
    x, t_x, T = _customers(cdnow)
    for n in range(8):
        ours = model.conditional_probability_of_purchases(fit, n, 90.0, x, t_x, T)
        theirs = ref.conditional_probability_of_n_purchases_up_to_time(n, 90.0, x, t_x, T)
        big = theirs > 1e-9
        np.testing.assert_allclose(ours[big], theirs[big], rtol=1e-6)


@pytest.mark.parametrize(
    ("params", "t", "x", "T"),
    [
        ((0.55, 74.0, 0.61, 81.7), 90.0, 5, 200.0),
        ((0.55, 0.5, 0.61, 5000.0), 365.0, 3, 100.0),  # α ≪ β: hyp2f1's z near 1
        ((2.0, 5000.0, 3.0, 0.5), 365.0, 10, 300.0),  # α ≫ β
        ((0.55, 74.0, 0.61, 81.7), 365.0, 1000, 300.0),  # a narrow peak in τ
        ((0.3, 10.0, 0.2, 1000.0), 3650.0, 0, 0.0),
    ],
)
def test_pareto_alive_pmf_matches_mpmath(params: tuple[float, float, float, float], t: float, x: int, T: float) -> None:
    fit = ParetoNbdFit(*params, 0.0, 0, 0, True, 0, 0.0, "given")
    mean = (fit.r + x) / (fit.alpha + T) * t
    ns = np.unique(np.concatenate([np.arange(6), np.round(np.linspace(0, 3 * mean + 20, 8))]))
    ones = np.ones(ns.shape)
    ours = np.exp(counts.pareto_alive_log_pmf(fit, ns, t * ones, x * ones, T * ones))
    exact = [_mp_pareto_alive_pmf(fit, int(n), t, x, T) for n in ns]
    np.testing.assert_allclose(ours, exact, rtol=1e-7, atol=1e-14)


def test_pareto_quadrature_at_zero_is_the_dropout_integral() -> None:
    """At n = 0 the τ-quadrature and pareto_nbd's dropout integral are one quantity."""
    fit = ParetoNbdFit(0.55, 7.0, 0.61, 300.0, 0.0, 0, 0, True, 0, 0.0, "given")
    x, T, t = np.array([0.0, 3.0, 40.0]), np.array([0.0, 100.0, 300.0]), np.array([90.0, 365.0, 30.0])
    R, A, B = fit.r + x, fit.alpha + T, fit.beta + T
    quad = counts._log_tau_integral(np.zeros(3), R, A, B, fit.s, t)
    d = pareto_nbd_log_odds_dead(fit, x, T, T + t)
    closed = d - np.log(fit.s) - R * np.log(A + t) - fit.s * np.log(B + t)
    np.testing.assert_allclose(quad, closed, rtol=0, atol=1e-9)  # logs: 1e-9 relative in the integral


@pytest.mark.parametrize("name", MODELS)
def test_sums_to_one_and_to_the_expectation(name: str, fits: dict[str, Any], cdnow: clv.RfmSummary) -> None:
    model, fit = PURCHASE_MODELS[name], fits[name]
    x, t_x, T = _customers(cdnow)
    ns = np.arange(1500)[:, None]
    for t in (90.0, 365.0):
        P = model.conditional_probability_of_purchases(fit, ns, t, x, t_x, T)
        assert P.shape == (1500, x.shape[0])
        assert (P >= 0).all()
        np.testing.assert_allclose(P.sum(axis=0), 1.0, rtol=0, atol=1e-8)
        np.testing.assert_allclose((ns * P).sum(axis=0), model.expected_purchases(fit, t, x, t_x, T), rtol=1e-6)
        new = model.probability_of_purchases(fit, ns[:, 0], t)
        assert new.sum() == pytest.approx(1.0, abs=1e-8)
        assert (ns[:, 0] * new).sum() == pytest.approx(model.expected_purchases(fit, t, 0, 0, 0)[()], rel=1e-6)


def _simulate_counts(name: str, fit: Any, t: float, x: float, t_x: float, T: float, draws: int, seed: int) -> Any:
    """Purchases in (T, T+t] drawn from the posterior given (x, t_x, T) and the stated process."""
    rng = np.random.default_rng(seed)
    model = PURCHASE_MODELS[name]
    alive = rng.random(draws) < model.p_alive(fit, x, t_x, T)[()]
    lam = rng.gamma(fit.r + x, 1.0 / (fit.alpha + T), draws)
    if name == "pareto_nbd":
        mu = rng.gamma(fit.s, 1.0 / (fit.beta + T), draws)
        active = np.minimum(rng.exponential(1.0, draws) / mu, t)
        n = rng.poisson(lam * active)
    else:
        p = rng.beta(fit.a, fit.b + x + (1.0 if name == "mbg_nbd" else 0.0), draws)
        n = np.minimum(rng.poisson(lam * t), rng.geometric(p))  # drops after her J-th purchase
    return np.where(alive, n, 0)


@pytest.mark.parametrize("name", MODELS)
def test_monte_carlo(name: str, fits: dict[str, Any]) -> None:
    model, fit = PURCHASE_MODELS[name], fits[name]
    draws, t = 200_000, 90.0
    for i, (x, t_x, T) in enumerate([(0.0, 0.0, 200.0), (2.0, 60.0, 250.0), (12.0, 250.0, 260.0)]):
        sim = _simulate_counts(name, fit, t, x, t_x, T, draws, seed=11 + i)
        ns = np.arange(6)
        P = model.conditional_probability_of_purchases(fit, ns, t, x, t_x, T)
        freq = np.array([(sim == n).mean() for n in ns])
        se = np.sqrt(P * (1 - P) / draws)
        assert (np.abs(freq - P) <= 4.5 * se + 1e-12).all(), (x, t_x, T, freq, P)


@pytest.mark.parametrize("name", MODELS)
def test_any_purchase_and_dispatch(name: str, fits: dict[str, Any], cdnow: clv.RfmSummary) -> None:
    model, fit = PURCHASE_MODELS[name], fits[name]
    x, t_x, T = cdnow.frequency, cdnow.recency, cdnow.T
    any_90 = model.conditional_probability_of_any_purchase(fit, 90.0, x, t_x, T)
    p0 = model.conditional_probability_of_purchases(fit, 0, 90.0, x, t_x, T)
    assert any_90.shape == x.shape
    np.testing.assert_allclose(any_90, 1.0 - p0, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(counts.conditional_probability_of_any_purchase(fit, 90.0, x, t_x, T), any_90)
    np.testing.assert_array_equal(counts.conditional_probability_of_purchases(fit, 0, 90.0, x, t_x, T), p0)
    np.testing.assert_array_equal(
        counts.probability_of_purchases(fit, [0, 1], 90.0), model.probability_of_purchases(fit, [0, 1], 90.0)
    )
    # A longer horizon: more likely to buy; no horizon: no purchase.
    assert (model.conditional_probability_of_any_purchase(fit, 365.0, x, t_x, T) >= any_90).all()
    assert (model.conditional_probability_of_any_purchase(fit, 0.0, x, t_x, T) == 0).all()
    one = model.conditional_probability_of_purchases(fit, 1, 0.0, x, t_x, T)
    assert (one == 0).all()
    with pytest.raises(ValueError, match="n must be"):
        model.conditional_probability_of_purchases(fit, 1.5, 90.0, x, t_x, T)
    with pytest.raises(ValueError, match="t must be"):
        model.conditional_probability_of_any_purchase(fit, -1.0, x, t_x, T)
    with pytest.raises(ValueError):
        model.conditional_probability_of_any_purchase(fit, 90.0, [1.0], [5.0], [3.0])  # t_x > T


def test_mbg_given_alive_is_bg_at_b_plus_one() -> None:
    """BG/NBD's process at b + 1 is MBG/NBD's given alive (the two kernels differ only there)."""
    bg = BgNbdFit(0.5, 20.0, 0.8, 3.5, 0.0, 0, 0, True, 0, 0.0, "")
    mbg = MbgNbdFit(0.5, 20.0, 0.8, 2.5, 0.0, 0, 0, True, 0, 0.0, "")
    n, t, x, T = np.arange(5.0), np.full(5, 90.0), np.full(5, 2.0), np.full(5, 100.0)
    np.testing.assert_allclose(counts.mbg_alive_log_pmf(mbg, n, t, x, T), counts.bg_alive_log_pmf(bg, n, t, x, T))
