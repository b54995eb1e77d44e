"""Tests for lifecycle.clv: BG/NBD, Gamma-Gamma and discounted CLV.

References: the published CDNOW estimates (Fader, Hardie & Lee 2005; Fader & Hardie 2013 note),
``lifetimes`` 0.11.3 given the same parameters, ``mpmath`` (optional) and independent quadrature.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, special

from lifecycle import clv
from lifecycle.clv import BgNbdFit, ClvFitError, GammaGammaFit
from lifecycle.clv.series import alive_expectation

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]

# Published CDNOW estimates (weeks): Fader, Hardie & Lee (2005), Fader & Hardie (2013).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LL = -9582.4
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # γ is truncated there (MLE 15.4477)
GG_TOL = 0.01


def _fit(r: float, alpha: float, a: float, b: float) -> BgNbdFit:
    return BgNbdFit(r, alpha, a, b, 0.0, 0, 0, True, 0, 0.0, "given")


# ----------------------------------------------------------------------------- fixtures


def _lifetimes_datasets() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        pytest.skip("lifetimes is not installed (CDNOW data and reference implementation)")
    return Path(spec.origin).parent / "datasets"


@pytest.fixture(scope="module")
def cdnow_weeks() -> dict[str, np.ndarray]:
    """The published CDNOW calibration summary (weeks, t_x/T rounded to 2 decimals)."""
    path = _lifetimes_datasets() / "cdnow_customers_summary_with_transactions.csv"
    arr = np.genfromtxt(path, delimiter=",", names=True)
    return {"x": arr["x"], "t_x": arr["t_x"], "T": arr["T"], "m": arr["zbar"], "id": arr["ID"]}


@pytest.fixture(scope="module")
def cdnow_days() -> clv.RfmSummary:
    """RFM summary in days built from the raw CDNOW sample (distinct purchase days)."""
    raw = np.loadtxt(_lifetimes_datasets() / "CDNOW_sample.txt", dtype=str)
    dates = np.array([f"{s[:4]}-{s[4:6]}-{s[6:]}" for s in raw[:, 2]], dtype="datetime64[D]")
    return clv.summary_from_transactions(
        raw[:, 1].astype(int), dates, np.datetime64("1997-09-30"), amounts=raw[:, 4].astype(float)
    )


@pytest.fixture(scope="module")
def cdnow_fit_days(cdnow_days: clv.RfmSummary) -> BgNbdFit:
    return clv.fit_bgnbd(cdnow_days.frequency, cdnow_days.recency, cdnow_days.T)


# ----------------------------------------------------------------------------- CDNOW


def test_cdnow_summary_from_raw_matches_published_summary(
    cdnow_days: clv.RfmSummary, cdnow_weeks: dict[str, np.ndarray]
) -> None:
    assert cdnow_days.customer_id.shape == (2357,)
    np.testing.assert_array_equal(cdnow_days.customer_id, cdnow_weeks["id"])
    np.testing.assert_array_equal(cdnow_days.frequency, cdnow_weeks["x"])  # distinct purchase days
    np.testing.assert_allclose(cdnow_days.recency / 7, cdnow_weeks["t_x"], atol=0.0051)
    np.testing.assert_allclose(cdnow_days.T / 7, cdnow_weeks["T"], atol=0.0051)
    assert cdnow_days.monetary_value is not None
    np.testing.assert_allclose(cdnow_days.monetary_value, cdnow_weeks["m"], atol=0.0051)


def test_cdnow_bgnbd_reproduces_published_estimates_in_weeks(cdnow_weeks: dict[str, np.ndarray]) -> None:
    fit = clv.fit_bgnbd(cdnow_weeks["x"], cdnow_weeks["t_x"], cdnow_weeks["T"])
    assert fit.converged and fit.n_customers == 2357
    for name, value in PUBLISHED_BGNBD.items():
        assert getattr(fit, name) == pytest.approx(value, abs=6e-4), name
    assert fit.log_likelihood == pytest.approx(PUBLISHED_LL, abs=0.06)
    assert fit.n_patterns < fit.n_customers  # fitted on distinct patterns


def test_cdnow_bgnbd_in_days(cdnow_fit_days: BgNbdFit, cdnow_weeks: dict[str, np.ndarray]) -> None:
    fit = cdnow_fit_days
    assert fit.r == pytest.approx(PUBLISHED_BGNBD["r"], abs=6e-4)
    assert fit.alpha == pytest.approx(7 * PUBLISHED_BGNBD["alpha"], rel=2e-3)  # ≈ 30.90 days
    assert fit.a == pytest.approx(PUBLISHED_BGNBD["a"], abs=6e-4)
    assert fit.b == pytest.approx(PUBLISHED_BGNBD["b"], abs=6e-4)
    # The log-likelihood is a density in the caller's unit: LL_days = LL_weeks − Σx ln 7.
    x = cdnow_weeks["x"]
    week_fit_in_days = clv.fit_bgnbd(x, cdnow_weeks["t_x"] * 7, cdnow_weeks["T"] * 7)
    week_fit = clv.fit_bgnbd(x, cdnow_weeks["t_x"], cdnow_weeks["T"])
    assert week_fit_in_days.alpha == pytest.approx(7 * week_fit.alpha, rel=1e-7)
    for name in ("r", "a", "b"):
        assert getattr(week_fit_in_days, name) == pytest.approx(getattr(week_fit, name), rel=1e-7)
    assert week_fit_in_days.log_likelihood == pytest.approx(week_fit.log_likelihood - x.sum() * math.log(7), abs=1e-6)
    assert fit.log_likelihood == pytest.approx(week_fit_in_days.log_likelihood, abs=0.05)


def test_cdnow_gamma_gamma_reproduces_published_estimates(
    cdnow_weeks: dict[str, np.ndarray], cdnow_days: clv.RfmSummary
) -> None:
    fit = clv.fit_gamma_gamma(cdnow_weeks["x"], cdnow_weeks["m"])
    assert fit.n_customers == 946 and fit.converged
    for name, value in PUBLISHED_GG.items():
        assert getattr(fit, name) == pytest.approx(value, abs=GG_TOL), name
    assert cdnow_days.monetary_value is not None
    raw_fit = clv.fit_gamma_gamma(cdnow_days.frequency, cdnow_days.monetary_value)
    for name, value in PUBLISHED_GG.items():
        assert getattr(raw_fit, name) == pytest.approx(value, abs=GG_TOL), name


# ----------------------------------------------------------------------------- lifetimes parity


@pytest.fixture(scope="module")
def lifetimes_mod():
    return pytest.importorskip("lifetimes")


def _bgf(lifetimes_mod, fit: BgNbdFit):
    import pandas as pd

    bgf = lifetimes_mod.BetaGeoFitter()
    bgf.params_ = pd.Series({"r": fit.r, "alpha": fit.alpha, "a": fit.a, "b": fit.b})
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time
    return bgf


def _ggf(lifetimes_mod, fit: GammaGammaFit):
    import pandas as pd

    ggf = lifetimes_mod.GammaGammaFitter()
    ggf.params_ = pd.Series({"p": fit.p, "q": fit.q, "v": fit.gamma})
    return ggf


def test_scoring_matches_lifetimes_with_same_parameters(
    lifetimes_mod, cdnow_days: clv.RfmSummary, cdnow_fit_days: BgNbdFit
) -> None:
    s, fit = cdnow_days, cdnow_fit_days
    x, t_x, T = s.frequency.astype(float), s.recency, s.T
    bgf = _bgf(lifetimes_mod, fit)
    np.testing.assert_allclose(clv.p_alive(fit, x, t_x, T), bgf.conditional_probability_alive(x, t_x, T), rtol=1e-9)
    for t in (1.0, 30.0, 90.0, 365.0, 1000.0):
        ours = clv.expected_purchases(fit, t, x, t_x, T)
        ref = bgf.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
        np.testing.assert_allclose(ours, ref, rtol=1e-6, err_msg=f"t={t}")
    ts = np.array([1.0, 7.0, 90.0, 365.0, 3650.0])
    np.testing.assert_allclose(
        clv.expected_purchases_unconditional(fit, ts),
        bgf.expected_number_of_purchases_up_to_time(ts),
        rtol=1e-6,
    )
    # Same-parameter parity away from CDNOW values, including a > 1 and large frequencies.
    other = _fit(0.8, 12.0, 2.5, 6.0)
    xs = np.array([0.0, 1, 3, 25, 60])
    txs = np.array([0.0, 5, 40, 200, 290])
    Ts = np.array([10.0, 50, 100, 300, 300])
    bgf2 = _bgf(lifetimes_mod, other)
    np.testing.assert_allclose(
        clv.expected_purchases(other, 180.0, xs, txs, Ts),
        bgf2.conditional_expected_number_of_purchases_up_to_time(180.0, xs, txs, Ts),
        rtol=1e-6,
    )


def test_fits_match_lifetimes_own_fit(lifetimes_mod, cdnow_days: clv.RfmSummary, cdnow_fit_days: BgNbdFit) -> None:
    s = cdnow_days
    x = s.frequency.astype(float)
    bgf = lifetimes_mod.BetaGeoFitter().fit(x, s.recency, s.T)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(cdnow_fit_days, name) == pytest.approx(float(bgf.params_[name]), rel=1e-4), name
    theirs = clv.bgnbd_log_likelihood([float(bgf.params_[k]) for k in ("r", "alpha", "a", "b")], x, s.recency, s.T)
    assert cdnow_fit_days.log_likelihood >= theirs - 1e-6  # our optimum is at least as good
    assert s.monetary_value is not None
    rep = x > 0
    ggf = lifetimes_mod.GammaGammaFitter().fit(x[rep], s.monetary_value[rep])
    gg = clv.fit_gamma_gamma(x, s.monetary_value)
    for ours, key in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert getattr(gg, ours) == pytest.approx(float(ggf.params_[key]), rel=1e-4), ours


def test_spend_and_clv_match_lifetimes(lifetimes_mod, cdnow_days: clv.RfmSummary, cdnow_fit_days: BgNbdFit) -> None:
    import pandas as pd

    s, fit = cdnow_days, cdnow_fit_days
    assert s.monetary_value is not None
    x = s.frequency.astype(float)
    gg = clv.fit_gamma_gamma(x, s.monetary_value)
    ggf = _ggf(lifetimes_mod, gg)
    rep = x > 0
    spend = clv.conditional_expected_spend(gg, x, s.monetary_value)
    np.testing.assert_allclose(
        spend[rep], ggf.conditional_expected_average_profit(x[rep], s.monetary_value[rep]), rtol=1e-12
    )
    assert np.allclose(spend[~rep], gg.mean_spend)
    # lifetimes: 12 steps of 30 days, monthly rate 1% discounted as (1.01)^i.
    idx = pd.RangeIndex(x.shape[0])
    ref = ggf.customer_lifetime_value(
        _bgf(lifetimes_mod, fit),
        pd.Series(x, idx),
        pd.Series(s.recency, idx),
        pd.Series(s.T, idx),
        pd.Series(s.monetary_value, idx),
        time=12,
        discount_rate=0.01,
        freq="D",
    ).to_numpy()
    ours = clv.discounted_value(
        fit, x, s.recency, s.T, spend, horizon_days=360, annual_discount_rate=1.01**12 - 1, step_days=30.0
    )
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


# ----------------------------------------------------------------------------- gradients


def _finite_diff(fun, params: np.ndarray, rel: float = 1e-6) -> np.ndarray:
    g = np.empty_like(params)
    for i in range(params.shape[0]):
        h = rel * params[i]
        up, dn = params.copy(), params.copy()
        up[i] += h
        dn[i] -= h
        g[i] = (fun(up) - fun(dn)) / (2 * h)
    return g


@pytest.mark.parametrize("params", [(0.243, 30.9, 0.793, 2.426), (1.7, 4.0, 2.5, 0.3), (0.05, 300.0, 0.2, 40.0)])
def test_bgnbd_analytic_gradient_matches_finite_differences(params: tuple[float, ...]) -> None:
    x, t_x, T = clv.simulate_bgnbd(3000, r=0.5, alpha=20, a=0.8, b=2.5, T=(50, 400), seed=7)
    p = np.array(params)
    ll, grad = clv.bgnbd_log_likelihood(p, x, t_x, T, gradient=True)
    assert np.isfinite(ll)
    fd = _finite_diff(lambda q: clv.bgnbd_log_likelihood(q, x, t_x, T), p)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6 * abs(ll))


@pytest.mark.parametrize("params", [(6.25, 3.74, 15.44), (0.7, 1.3, 2.0), (20.0, 9.0, 100.0)])
def test_gamma_gamma_analytic_gradient_matches_finite_differences(params: tuple[float, ...]) -> None:
    x, _, _ = clv.simulate_bgnbd(3000, r=0.5, alpha=20, a=0.8, b=2.5, T=(50, 400), seed=8)
    m = clv.simulate_gamma_gamma(x, p=6, q=4, gamma=15, seed=9)
    p = np.array(params)
    ll, grad = clv.gamma_gamma_log_likelihood(p, x, m, gradient=True)
    fd = _finite_diff(lambda q: clv.gamma_gamma_log_likelihood(q, x, m), p)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6 * abs(ll))


def test_weights_equal_repeated_rows() -> None:
    x, t_x, T = clv.simulate_bgnbd(400, r=0.5, alpha=20, a=0.8, b=2.5, T=(50, 400), seed=3, integer_days=True)
    w = np.random.default_rng(4).integers(0, 4, x.shape[0])
    rep = np.repeat(np.arange(x.shape[0]), w)
    p = [0.4, 15.0, 0.9, 3.0]
    assert clv.bgnbd_log_likelihood(p, x, t_x, T, w) == pytest.approx(
        clv.bgnbd_log_likelihood(p, x[rep], t_x[rep], T[rep]), rel=1e-12
    )


# ----------------------------------------------------------------------------- recovery


def test_bgnbd_parameter_recovery() -> None:
    true = {"r": 0.5, "alpha": 20.0, "a": 0.8, "b": 2.5}
    x, t_x, T = clv.simulate_bgnbd(20_000, **true, T=(200, 700), seed=20240601, integer_days=True)
    assert (t_x <= T).all() and (t_x[x == 0] == 0).all() and (t_x[x > 0] >= 1).all()
    fit = clv.fit_bgnbd(x, t_x, T)
    se = clv.bgnbd_standard_errors(fit, x, t_x, T)
    for name, value in true.items():
        est = getattr(fit, name)
        assert abs(est - value) <= max(3.0 * se[name], 0.15 * value), (name, est, se[name])
        assert se[name] < 0.2 * value


def test_gamma_gamma_parameter_recovery() -> None:
    x, _, _ = clv.simulate_bgnbd(20_000, r=0.5, alpha=20, a=0.8, b=2.5, T=(200, 700), seed=11)
    m = clv.simulate_gamma_gamma(x, p=6.0, q=4.0, gamma=15.0, seed=12)
    fit = clv.fit_gamma_gamma(x, m)
    assert fit.n_customers == int((x > 0).sum())
    for name, value in {"p": 6.0, "q": 4.0, "gamma": 15.0}.items():
        assert getattr(fit, name) == pytest.approx(value, rel=0.15), name


# ----------------------------------------------------------------- homogeneous limits (ridges)


def _bgnbd_ll_reference(params: tuple[float, ...], x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> float:
    """The BG/NBD log-likelihood in 50-digit arithmetic, straight from the paper's formula."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    r, alpha, a, b = (mp.mpf(v) for v in params)
    total = mp.mpf(0)
    for xi, ti, Ti in zip(x.tolist(), t_x.tolist(), T.tolist(), strict=True):
        xi, ti, Ti = mp.mpf(xi), mp.mpf(ti), mp.mpf(Ti)
        head = mp.loggamma(r + xi) - mp.loggamma(r) + r * mp.log(alpha)
        head += mp.log(mp.beta(a, b + xi)) - mp.log(mp.beta(a, b))
        tail = (alpha + Ti) ** -(r + xi)
        if xi > 0:
            tail += a / (b + xi - 1) * (alpha + ti) ** -(r + xi)
        total += head + mp.log(tail)
    return float(total)


def _gg_ll_reference(params: tuple[float, ...], x: np.ndarray, m: np.ndarray) -> float:
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    p, q, g = (mp.mpf(v) for v in params)
    total = mp.mpf(0)
    for xi, mi in zip(x.tolist(), m.tolist(), strict=True):
        xi, mi = mp.mpf(xi), mp.mpf(mi)
        total += (
            mp.loggamma(p * xi + q)
            - mp.loggamma(p * xi)
            - mp.loggamma(q)
            + q * mp.log(g)
            + (p * xi - 1) * mp.log(mi)
            + p * xi * mp.log(xi)
            - (p * xi + q) * mp.log(g + mi * xi)
        )
    return float(total)


@pytest.mark.parametrize(
    "params",
    [(0.6, 75.0, 1.6e8, 4.2e8), (5e7, 6e8, 0.5, 3.0), (1.2, 110.0, 3.5e8, 4.9e8), (0.243, 30.9, 0.793, 2.426)],
)
def test_bgnbd_likelihood_is_exact_on_the_homogeneous_ridges(params: tuple[float, ...]) -> None:
    # a, b -> inf (one dropout probability for all) and r, alpha -> inf (one purchase rate for all):
    # a difference of gammaln values there is rounding noise of ~1e-6 in the total, enough to decide
    # where the optimiser stops (and so the fit status) differently on another CPU / libm.
    x, t_x, T = clv.simulate_bgnbd(150, r=0.6, alpha=40, a=0.8, b=2.5, T=(30, 400), seed=31, integer_days=True)
    ll = clv.bgnbd_log_likelihood(params, x, t_x, T)
    assert ll == pytest.approx(_bgnbd_ll_reference(params, x, t_x, T), rel=1e-13, abs=1e-10)


@pytest.mark.parametrize("params", [(4.25, 4.8e8, 4.4e9), (4.25, 2e5, 1.8e6), (6.25, 3.74, 15.44)])
def test_gamma_gamma_likelihood_is_exact_on_the_homogeneous_ridge(params: tuple[float, ...]) -> None:
    x, _, _ = clv.simulate_bgnbd(300, r=0.5, alpha=20, a=0.8, b=2.5, T=(50, 400), seed=32)
    m = clv.simulate_gamma_gamma(x, p=6, q=4, gamma=15, seed=33)
    use = x > 0
    ll = clv.gamma_gamma_log_likelihood(params, x[use], m[use])
    assert ll == pytest.approx(_gg_ll_reference(params, x[use], m[use]), rel=1e-13, abs=1e-10)


def test_homogeneous_populations_fit_at_the_limit_whatever_the_rounding() -> None:
    # Everybody drops out with the same probability (a, b huge) and spends at the same rate (q,
    # gamma huge): the maximum likelihood fits are those limits, reached at the optimiser's box,
    # and a change of the input in the 12th digit changes neither the outcome nor the estimates.
    x, t_x, T = clv.simulate_bgnbd(400, r=1.2, alpha=110.0, a=4e9, b=6e9, T=(200, 500), seed=34, integer_days=True)
    fits = [clv.fit_bgnbd(x, t_x * k, T * k) for k in (1.0, 1.0 + 1e-12)]
    for fit in fits:
        assert fit.a / (fit.a + fit.b) == pytest.approx(0.4, abs=0.1) and fit.b > 1e8
    for name in ("r", "alpha"):
        assert getattr(fits[1], name) == pytest.approx(getattr(fits[0], name), rel=1e-6), name
    assert fits[1].a / (fits[1].a + fits[1].b) == pytest.approx(fits[0].a / (fits[0].a + fits[0].b), rel=1e-6)
    # The repeat buyers of test_thin_data's thirty_days shop: 1 or 2 repeat days, mean spends whose
    # spread is what Gamma(p) noise per purchase gives, so the spend rate is the same for everybody.
    reps = [(0, 0, 1, 2, 0)[i % 5] for i in range(100)]
    xs = np.array([k for k in reps if k], dtype=float)
    ms = np.array([np.mean([15.0 + (i * 3 + j) % 50 for j in range(1, k + 1)]) for i, k in enumerate(reps) if k])
    spend = [clv.fit_gamma_gamma(xs, ms * k) for k in (1.0, 1.0 + 1e-12)]
    for gg in spend:
        assert gg.q > 1e8 and gg.mean_spend == pytest.approx(float(ms.mean()), rel=0.05)
    assert spend[1].p == pytest.approx(spend[0].p, rel=1e-6)
    assert spend[1].mean_spend == pytest.approx(spend[0].mean_spend * (1.0 + 1e-12), rel=1e-6)


# ----------------------------------------------------------------------------- numerics


def _reference_quad(n: float, beta: float, a: float, u: float) -> float:
    """E_{p~Beta(a, β)}[(1 − (1+pu)^−n)/p] by adaptive quadrature with the algebraic weight."""

    def g(p: float) -> float:
        return -math.expm1(-n * math.log1p(p * u)) / p if p > 0 else n * u

    val, _ = integrate.quad(g, 0.0, 1.0, weight="alg", wvar=(a - 1.0, beta - 1.0), epsabs=0.0, epsrel=1e-12, limit=500)
    return val / math.exp(special.betaln(a, beta))


def _alive(n: float, beta: float, a: float, u: float) -> float:
    return float(alive_expectation(np.array([n]), np.array([beta]), a, np.array([u]))[0])


@pytest.mark.parametrize(
    ("n", "beta", "a", "u"),
    [
        (0.243, 2.426, 0.793, 0.5),
        (3.2, 5.0, 1.0, 2.0),
        (10.5, 12.0, 0.05, 0.3),
        (1.5, 0.1, 20.0, 8.0),
        (40.0, 41.0, 0.99, 1.2),
        (0.5, 2.0, 1.5, 30.0),
        (200.2, 202.0, 0.5, 0.05),
    ],
)
def test_alive_expectation_matches_quadrature(n: float, beta: float, a: float, u: float) -> None:
    assert _alive(n, beta, a, u) == pytest.approx(_reference_quad(n, beta, a, u), rel=1e-9)


def test_alive_expectation_matches_mpmath_on_extreme_grid() -> None:
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50

    def ref(n: float, beta: float, a: float, u: float) -> float:
        a_ = mp.mpf(1) + mp.mpf(10) ** -35 if a == 1.0 else mp.mpf(a)
        c = a_ + beta - 1
        return float(c / (a_ - 1) * (1 - mp.hyp2f1(n, a_ - 1, c, -mp.mpf(u))))

    cases = []
    for a, b in itertools.product((0.05, 0.99, 1.0, 1.5, 20.0), (0.1, 50.0)):
        for r, x, u in (
            (0.24, 0, 3650 / 30.9),
            (2.0, 5000, 365 / 5001),
            (2.0, 5000, 3650 / 2.0),
            (0.24, 0, 7300.0),
            (0.24, 3, 2000.0),
            (2.0, 100, 0.001),
        ):
            cases.append((r + x, b + x, a, u))
    for n, beta, a, u in cases:
        assert _alive(n, beta, a, u) == pytest.approx(ref(n, beta, a, u), rel=1e-9), (n, beta, a, u)


def test_robustness_grid_is_finite_and_monotone() -> None:
    xs, Ts = (0, 1, 2, 10, 100, 1000, 5000), (0.0, 1.0, 30.0, 365.0, 5000.0)
    rows = [(x, T * f, T) for x in xs for T in Ts for f in ((0.0,) if x == 0 else (0.0, 0.5, 1.0))]
    x, t_x, T = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    t = np.array([1e-9, 1.0, 90.0, 365.0, 3650.0])
    for a, b in itertools.product((0.05, 0.5, 0.99, 1.0, 1.5, 20.0), (0.1, 2.0, 50.0)):
        for r, alpha in ((0.05, 0.5), (0.243, 30.9), (3.0, 200.0)):
            fit = _fit(r, alpha, a, b)
            e = clv.expected_purchases(fit, t[:, None], x[None, :], t_x[None, :], T[None, :])
            assert np.isfinite(e).all() and (e >= 0).all(), (a, b, r, alpha)
            assert (np.diff(e, axis=0) >= -1e-9 * e[1:]).all()  # non-decreasing in t
            pa = clv.p_alive(fit, x, t_x, T)
            assert np.isfinite(pa).all() and ((pa >= 0) & (pa <= 1)).all()
            assert np.isfinite(clv.expected_next_purchase_days(fit, x, t_x, T)).all()
            assert np.isfinite(clv.expected_purchases_unconditional(fit, t)).all()
    # The a = 1 limit is continuous; a + b < 1 and x = 5000 are covered above.
    for a in (1.0 - 1e-9, 1.0, 1.0 + 1e-9):
        v = clv.expected_purchases(
            _fit(0.3, 20.0, a, 0.5), 365.0, [0.0, 4.0, 5000.0], [0.0, 100.0, 4900.0], [0.0, 200.0, 5000.0]
        )
        ref = clv.expected_purchases(
            _fit(0.3, 20.0, 1.0, 0.5), 365.0, [0.0, 4.0, 5000.0], [0.0, 100.0, 4900.0], [0.0, 200.0, 5000.0]
        )
        np.testing.assert_allclose(v, ref, rtol=1e-7)


def test_p_alive_and_next_purchase_semantics() -> None:
    fit = _fit(0.243, 30.9, 0.793, 2.426)
    assert clv.p_alive(fit, 0, 0, 300) == 1.0  # one-time buyers cannot have dropped out
    assert clv.p_alive(fit, 5000, 10, 5000) == 0.0  # stable, no overflow warning/NaN
    assert clv.p_alive(fit, 5, 300, 300) > clv.p_alive(fit, 5, 100, 300)
    assert clv.p_alive(fit, [1, 2], [3, 4], [5, 6]).shape == (2,)
    wait = clv.expected_next_purchase_days(fit, [0, 3], [0, 50], [100, 100])
    # P(no purchase within the median | alive) = 1/2.
    for w, x in zip(wait, (0, 3), strict=True):
        assert ((fit.alpha + 100) / (fit.alpha + 100 + w)) ** (fit.r + x) == pytest.approx(0.5)
    masked = clv.expected_next_purchase_days(fit, [3, 3], [99, 1], [100, 100], min_p_alive=0.5)
    assert np.isfinite(masked[0]) and np.isnan(masked[1])


# ----------------------------------------------------------------------------- CLV


def test_discounted_value_partial_month_and_no_discount() -> None:
    fit = _fit(0.5, 20.0, 0.8, 2.5)
    x, t_x, T = np.array([0.0, 3.0]), np.array([0.0, 80.0]), np.array([50.0, 100.0])
    e45 = clv.expected_purchases(fit, 45.0, x, t_x, T)
    np.testing.assert_allclose(clv.discounted_value(fit, x, t_x, T, 10.0, 45.0, 0.0, 0.4), 4.0 * e45, rtol=1e-12)
    # 45 days with 30-day steps: a full step [0, 30] and a partial one (30, 45].
    d = 0.12
    monthly = (1 + d) ** (1 / 12) - 1
    e30 = clv.expected_purchases(fit, 30.0, x, t_x, T)
    manual = 10.0 * (e30 / (1 + monthly) + (e45 - e30) / (1 + monthly) ** 1.5)
    np.testing.assert_allclose(clv.discounted_value(fit, x, t_x, T, 10.0, 45.0, d, step_days=30.0), manual, rtol=1e-12)
    # Default step (365.25/12 days) discounts continuously at (1 + annual)^(−t/365.25).
    v = clv.discounted_value(fit, x, t_x, T, [5.0, 7.0], 365.25, d)
    assert (v > 0).all() and (v < np.array([5.0, 7.0]) * clv.expected_purchases(fit, 365.25, x, t_x, T)).all()
    assert (clv.discounted_value(fit, x, t_x, T, 1.0, 0.0, d) == 0).all()


# ----------------------------------------------------------------------------- errors


def test_fit_errors_are_clear() -> None:
    x, t_x, T = clv.simulate_bgnbd(2000, r=0.5, alpha=20, a=0.8, b=2.5, T=(50, 400), seed=5)
    cases = [
        ((np.zeros(500), np.zeros(500), np.full(500, 100.0)), {}, "too few repeat buyers"),
        (
            (np.r_[np.ones(5), np.zeros(995)], np.r_[np.ones(5), np.zeros(995)], np.full(1000, 9.0)),
            {},
            "too few repeat buyers",
        ),
        ((x[:20], t_x[:20], T[:20]), {}, "too few customers"),
        ((np.r_[x[:-1], np.nan], t_x, T), {}, "NaN"),
        ((x, t_x, -T), {}, "negative"),
        ((x + 0.5, t_x, T), {}, "integer"),
        ((x, t_x + 1000.0, T), {}, "recency exceeds T"),
        ((x, t_x[:-1], T), {}, "same shape"),
        ((x, t_x, T), {"max_iter": 2}, "did not converge"),
    ]
    # Each failure says what kind it is (the warehouse turns it into clv_model_parameters.model_status).
    kinds = {
        "too few repeat buyers": "insufficient_data",
        "too few customers": "insufficient_data",
        "did not converge": "not_converged",
    }
    for args, kwargs, needle in cases:
        with pytest.raises(ClvFitError, match=needle) as info:
            clv.fit_bgnbd(*args, **kwargs)
        assert info.value.status == kinds.get(needle, "invalid_input"), needle
    with pytest.raises(ClvFitError, match="too few customers") as info:
        clv.fit_bgnbd(x[:20], t_x[:20], T[:20])
    assert info.value.facts == {"customers": 20.0, "min_customers": 30}
    # A population buying like clockwork has no heterogeneity / dropout to identify.
    Tc = np.arange(100.0, 600.0)
    with pytest.raises(ClvFitError, match="degenerate") as info:
        clv.fit_bgnbd(np.floor(Tc / 10), np.floor(Tc / 10) * 10, Tc)
    assert info.value.status == "degenerate" and info.value.facts["at_bound"]
    with pytest.raises(ClvFitError, match="too few repeat buyers with positive spend") as info:
        clv.fit_gamma_gamma(np.zeros(50), np.zeros(50))
    assert info.value.status == "insufficient_data"
    assert info.value.facts == {"spenders": 0.0, "min_customers": 10}
    with pytest.raises(ClvFitError, match="no variation") as info:
        clv.fit_gamma_gamma(np.ones(50), np.full(50, 3.0))
    assert info.value.status == "degenerate"
    with pytest.raises(ClvFitError, match="negative") as info:
        clv.fit_gamma_gamma(np.ones(50), -np.ones(50))
    assert info.value.status == "invalid_input"
    with pytest.raises(ValueError, match="unknown fit failure status"):
        ClvFitError("x", "broken")
    assert issubclass(ClvFitError, ValueError)
    with pytest.raises(ValueError, match="recency exceeds T"):
        clv.p_alive(_fit(0.2, 30, 0.8, 2.4), 2, 10, 5)


# ----------------------------------------------------------------------------- summaries


def test_summary_from_transactions_uses_distinct_days() -> None:
    ids = np.array(["a", "a", "a", "a", "b", "c", "c", "d"])
    dates = np.array(
        [
            "2024-01-01T10:00",
            "2024-01-01T18:00",
            "2024-01-11",
            "2024-02-01",
            "2024-01-20",
            "2024-01-05",
            "2024-03-05",
            "2024-03-10",
        ],
        dtype="datetime64[m]",
    )
    amounts = np.array([10.0, 5.0, 20.0, 99.0, 7.0, 3.0, 4.0, 1.0])
    s = clv.summary_from_transactions(ids, dates, "2024-01-31", amounts=amounts)
    assert list(s.customer_id) == ["a", "b", "c"]  # d starts after the end; later rows are ignored
    np.testing.assert_array_equal(s.frequency, [1, 0, 0])  # two rows on 1 Jan count once
    np.testing.assert_array_equal(s.recency, [10.0, 0.0, 0.0])
    np.testing.assert_array_equal(s.T, [30.0, 11.0, 26.0])
    assert s.monetary_value is not None
    np.testing.assert_array_equal(s.monetary_value, [20.0, 0.0, 0.0])  # first day excluded
    days = clv.summary_from_transactions([1, 1, 2], [0, 14, 7], 21, time_unit_days=7)
    np.testing.assert_array_equal(days.frequency, [1, 0])
    np.testing.assert_allclose(days.recency, [2.0, 0.0])
    np.testing.assert_allclose(days.T, [3.0, 2.0])
    assert days.monetary_value is None


def test_gamma_gamma_standard_errors_equal_lifetimes() -> None:
    lifetimes = pytest.importorskip("lifetimes")
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

    from lifecycle.clv.gamma_gamma import gamma_gamma_standard_errors

    data = load_cdnow_summary_data_with_monetary_value()
    data = data[data["frequency"] > 0]
    x, m = data["frequency"].to_numpy(float), data["monetary_value"].to_numpy(float)
    fit = clv.fit_gamma_gamma(x, m)
    ours = gamma_gamma_standard_errors(fit, x, m)
    reference = lifetimes.GammaGammaFitter().fit(data["frequency"], data["monetary_value"])
    assert ours is not None
    for name, theirs in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert ours[name] == pytest.approx(float(reference.standard_errors_[theirs]), rel=1e-5), name
