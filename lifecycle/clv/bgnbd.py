"""BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): fit and scoring.

While alive a customer buys as a Poisson process with rate ``λ ~ Gamma(r, α)`` (shape ``r``,
*rate* ``α``); after every *repeat* purchase she drops out with probability ``p ~ Beta(a, b)``.
Inputs per customer are the RFM summary ``x`` (frequency = number of repeat purchases, i.e.
distinct purchase days minus one), ``t_x`` (recency = time of the last purchase, measured from the
first one) and ``T`` (tenure = time from the first purchase to the end of the observation window).
Any time unit works; the warehouse uses days. ``α`` is expressed in that unit.

The likelihood is evaluated in log space (the gamma and beta function ratios as finite sums over
``k < x``, times relative to ``α`` as ``ln(1 + t/α)``, so that it stays exact as ``r, α → ∞`` or
``a, b → ∞``, and a stable ``log(exp(A) + exp(B))``) and fitted on the *distinct* ``(x, t_x, T)``
patterns weighted by their counts; per-``x`` terms are aggregated over distinct ``x`` values and the
logarithms over distinct time values, so one likelihood evaluation costs a handful of vector
operations over the patterns. The optimiser (:func:`lifecycle.clv.fitting.minimise`) works on the
logarithms of the parameters with the analytic gradient; times are divided internally by
``max(T)`` for conditioning (``α`` is rescaled back and the log-likelihood is reported in the
caller's unit). The conditional expectation is the series of :mod:`lifecycle.clv.series`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from lifecycle.clv.errors import ClvFitError
from lifecycle.clv.fitting import (
    check_finite_log_likelihood,
    check_penalizer,
    check_purchase_data,
    log_covariance,
    minimise,
    near_bound,
    raise_if_at_bound,
    standard_errors_from_covariance,
)
from lifecycle.clv.inputs import (
    FloatArray,
    as_1d,
    check_rft,
    check_score_rft,
    check_weights,
    codes,
    distinct_patterns,
    dot,
    rising_sums,
    score_inputs,
)
from lifecycle.clv.series import alive_expectation


@dataclass(frozen=True)
class BgNbdFit:
    """Maximum-likelihood BG/NBD fit. ``alpha`` and ``log_likelihood`` are in the caller's time
    unit (``log_likelihood`` is the total over customers, a density in that unit)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    n_patterns: int
    converged: bool
    iterations: int
    fit_seconds: float
    message: str

    @property
    def params(self) -> dict[str, float]:
        """``{"r", "alpha", "a", "b"}``."""
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True)
class _BgNbdData:
    """Distinct patterns, split into one-time buyers (x = 0) and repeat buyers."""

    x_values: FloatArray  # distinct x
    x_weight: FloatArray  # total weight per distinct x
    times: FloatArray  # distinct time values (T and t_x)
    zero_t_index: NDArray[np.intp]
    zero_weight: FloatArray
    rep_x: FloatArray
    rep_t_index: NDArray[np.intp]
    rep_tx_index: NDArray[np.intp]
    rep_weight: FloatArray
    x_int: NDArray[np.intp]  # distinct x as indices into the prefix sums of rising_sums
    steps: FloatArray  # k = 0, 1, ..., max(x) - 1
    total_weight: float
    repeat_weight: float
    sum_wx: float
    n_patterns: int

    def scaled(self, scale: float) -> _BgNbdData:
        return _BgNbdData(
            self.x_values,
            self.x_weight,
            self.times / scale,
            self.zero_t_index,
            self.zero_weight,
            self.rep_x,
            self.rep_t_index,
            self.rep_tx_index,
            self.rep_weight,
            self.x_int,
            self.steps,
            self.total_weight,
            self.repeat_weight,
            self.sum_wx,
            self.n_patterns,
        )


def _bgnbd_data(x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> _BgNbdData:
    (px, ptx, pT), pw = distinct_patterns([x, t_x, T], w)
    x_values, x_inv = codes(px)
    x_weight = np.bincount(x_inv, weights=pw, minlength=x_values.shape[0])
    times, t_inv = codes(np.concatenate([pT, ptx]))
    T_idx, tx_idx = t_inv[: pT.shape[0]], t_inv[pT.shape[0] :]
    zero = px == 0
    rep = ~zero
    return _BgNbdData(
        x_values=x_values,
        x_weight=x_weight,
        times=times,
        zero_t_index=T_idx[zero],
        zero_weight=pw[zero],
        rep_x=px[rep],
        rep_t_index=T_idx[rep],
        rep_tx_index=tx_idx[rep],
        rep_weight=pw[rep],
        x_int=x_values.astype(np.intp),
        steps=np.arange(float(x_values.max()) if x_values.shape[0] else 0.0),
        total_weight=float(pw.sum()),
        repeat_weight=float(pw[rep].sum()),
        sum_wx=float((pw * px).sum()),
        n_patterns=int(pw.shape[0]),
    )


def _bgnbd_ll(params: tuple[float, float, float, float], d: _BgNbdData, need_grad: bool) -> tuple[float, FloatArray]:
    """Total log-likelihood and its gradient w.r.t. (r, alpha, a, b) on pattern data."""
    r, alpha, a, b = params
    xw = d.x_weight
    ab = a + b
    # Per customer: lnΓ(r+x) − lnΓ(r) + r ln α + lnB(a, b+x) − lnB(a, b), then −r ln(α+T) for a
    # one-time buyer and logaddexp(−n ln(α+T), ln a − ln(b+x−1) − n ln(α+t_x)) (n = r+x) for a
    # repeat buyer. Written with ρ(t) = ln(1 + t/α) = ln(α+t) − ln α and, x being an integer, the
    # finite sums lnΓ(r+x) − lnΓ(r) − x ln α = Σ_{k<x} ln((r+k)/α) and
    # lnB(a, b+x) − lnB(a, b) = −Σ_{k<x} ln(1 + a/(b+k)): no two terms of size r ln α or b ln b
    # are left to cancel. They would on the ridges r, α → ∞ (one purchase rate for everybody) and
    # a, b → ∞ (one dropout probability for everybody), where the rounding noise of the plain
    # formula (~1e-16·b ln b per customer, libm-dependent) decided where the optimiser stopped.
    per_x = rising_sums(np.log((r + d.steps) / alpha), d.x_int) - rising_sums(np.log1p(a / (b + d.steps)), d.x_int)
    ll = dot(xw, per_x)
    rho = np.log1p(d.times / alpha)
    # One-time buyers: −r ρ(T).
    R3z = rho[d.zero_t_index]
    ll -= r * dot(d.zero_weight, R3z)
    # Repeat buyers: −n ρ(T) + logaddexp(0, ln a − ln(b+x−1) − n (ρ(t_x) − ρ(T))).
    n = r + d.rep_x
    R3 = rho[d.rep_t_index]
    R4 = rho[d.rep_tx_index]
    lbx = np.log(b + d.rep_x - 1.0)
    dlt = math.log(a) - lbx - n * (R4 - R3)
    lse = -n * R3 + np.logaddexp(0.0, dlt)
    wr = d.rep_weight
    ll += dot(wr, lse)
    if not need_grad:
        return ll, np.empty(0)
    w4 = special.expit(dlt)
    w3 = 1.0 - w4
    # dρ(t)/dα = −t / (α (α+t)).
    drho = -d.times / (alpha * (alpha + d.times))
    # ψ(r+x) − ψ(r), ψ(a+b) − ψ(a+b+x) and ψ(b+x) − ψ(b) + ψ(a+b) − ψ(a+b+x) as the same sums.
    psi_r_diff = rising_sums(1.0 / (r + d.steps), d.x_int)
    psi_ab_diff = -rising_sums(1.0 / (ab + d.steps), d.x_int)
    psi_b_diff = rising_sums(a / ((b + d.steps) * (ab + d.steps)), d.x_int)
    g_r = dot(xw, psi_r_diff) - dot(d.zero_weight, R3z) - dot(wr, w3 * R3 + w4 * R4)
    g_alpha = (
        -d.sum_wx / alpha
        - r * dot(d.zero_weight, drho[d.zero_t_index])
        - dot(wr, n * (w3 * drho[d.rep_t_index] + w4 * drho[d.rep_tx_index]))
    )
    g_a = dot(xw, psi_ab_diff) + dot(wr, w4) / a
    g_b = dot(xw, psi_b_diff) - dot(wr, w4 / (b + d.rep_x - 1.0))
    return ll, np.array([g_r, g_alpha, g_a, g_b])


def bgnbd_log_likelihood(
    params: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    gradient: bool = False,
) -> float | tuple[float, FloatArray]:
    """Total BG/NBD log-likelihood at ``params = (r, alpha, a, b)`` (time unit of the inputs).

    With ``gradient=True`` returns ``(ll, dll/d(r, alpha, a, b))`` (the analytic gradient that the
    optimiser uses, exposed for testing).
    """
    r, alpha, a, b = (float(v) for v in np.asarray(params, dtype=np.float64).reshape(4))
    x, t_x, TT = as_1d("frequency", frequency), as_1d("recency", recency), as_1d("T", T)
    check_rft(x, t_x, TT)
    w = check_weights(weights, x.shape[0])
    ll, g = _bgnbd_ll((r, alpha, a, b), _bgnbd_data(x, t_x, TT, w), gradient)
    return (ll, g) if gradient else ll


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    min_customers: int = 30,
    min_repeat_buyers: int = 10,
    min_repeat_share: float = 0.01,
    max_iter: int = 2000,
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit.

    Parameters
    ----------
    frequency, recency, T
        Per-customer ``x`` (repeat purchase days), ``t_x`` and ``T`` in one time unit (days in the
        warehouse). ``t_x = 0`` when ``x = 0``; ``t_x <= T``.
    weights
        Optional non-negative counts per row (e.g. a pre-aggregated pattern table).
    penalizer
        L2 penalty ``penalizer * sum(log(params)**2)`` added to the mean negative log-likelihood,
        with ``alpha`` measured in units of ``max(T)``. Default 0 (pure MLE).
    min_customers, min_repeat_buyers, min_repeat_share
        Data sufficiency rules; violations raise :class:`ClvFitError`.

    Raises
    ------
    ClvFitError
        Invalid input, too few customers or repeat buyers, no convergence, or a degenerate /
        non-finite solution.
    """
    started = time.perf_counter()
    x, t_x, TT = as_1d("frequency", frequency), as_1d("recency", recency), as_1d("T", T)
    check_rft(x, t_x, TT)
    w = check_weights(weights, x.shape[0])
    check_penalizer(penalizer)
    n_total = check_purchase_data(
        "BG/NBD",
        x,
        TT,
        w,
        min_customers=min_customers,
        min_repeat_buyers=min_repeat_buyers,
        min_repeat_share=min_repeat_share,
    )

    data = _bgnbd_data(x, t_x, TT, w)
    scale = float(TT.max())
    sdata = data.scaled(scale)
    W = data.total_weight

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        p = np.exp(theta)
        ll, g = _bgnbd_ll((p[0], p[1], p[2], p[3]), sdata, True)
        f = -ll / W + penalizer * float(theta @ theta)
        return f, -g * p / W + 2.0 * penalizer * theta

    # Start: r = 1, a = 1, b = 1 and alpha matching the mean purchase rate r/alpha.
    rate = data.sum_wx / float((w * TT).sum()) * scale
    alpha0 = float(np.clip(1.0 / max(rate, 1e-6), 1e-3, 1e6))
    theta0 = np.log(np.array([1.0, alpha0, 1.0, 1.0]))
    theta, iterations, message = minimise(objective, theta0, max_iter, "BG/NBD")
    params = np.exp(theta)
    names = ("r", "alpha", "a", "b")
    if not np.all(np.isfinite(params)) or (params <= 0).any():
        raise ClvFitError(
            f"BG/NBD fit produced non-finite parameters: {dict(zip(names, params, strict=True))}",
            "degenerate",
            {"iterations": iterations},
        )
    near = near_bound(theta)
    # The dropout Beta(a, b) running to the box is not degenerate by itself: a -> 0 or b -> inf
    # leaves a mean dropout a/(a+b) -> 0 (nobody churns), which lifecycle.clv_status judges
    # (DEGENERATE_MAX_DROPOUT), and a, b -> inf together at a fixed a/(a+b) is the limit where every
    # customer drops out with the same probability: the likelihood rises monotonically towards it
    # and the box stops within ~1e-8 of it, so that is the maximum likelihood model. a -> inf with b
    # finite or b -> 0 (dropout -> 1) and r or alpha at the box stay degenerate.
    b_to_inf = bool(near[3] and theta[3] > 0)
    near[3] &= not b_to_inf
    near[2] &= bool(theta[2] > 0) and not b_to_inf
    raise_if_at_bound("BG/NBD", names, params, near, (1,), scale, iterations)
    r, alpha, a, b = float(params[0]), float(params[1]) * scale, float(params[2]), float(params[3])
    ll, _ = _bgnbd_ll((r, alpha, a, b), data, False)
    check_finite_log_likelihood("BG/NBD", ll, iterations)
    return BgNbdFit(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=ll,
        n_customers=round(n_total),
        n_patterns=data.n_patterns,
        converged=True,  # minimise raised otherwise
        iterations=iterations,
        fit_seconds=time.perf_counter() - started,
        message=message,
    )


def bgnbd_log_covariance(
    fit: BgNbdFit,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> FloatArray:
    """Asymptotic covariance of the log-parameters from the observed information (analytic
    gradient, Hessian by central differences; :func:`lifecycle.clv.fitting.log_covariance`)."""
    x, t_x, TT = as_1d("frequency", frequency), as_1d("recency", recency), as_1d("T", T)
    check_rft(x, t_x, TT)
    data = _bgnbd_data(x, t_x, TT, check_weights(weights, x.shape[0]))
    theta = np.log([fit.r, fit.alpha, fit.a, fit.b])

    def grad(th: FloatArray) -> FloatArray:
        p = np.exp(th)
        _, g = _bgnbd_ll((p[0], p[1], p[2], p[3]), data, True)
        return g * p

    return log_covariance(grad, theta, "BG/NBD")


def bgnbd_standard_errors(
    fit: BgNbdFit,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> dict[str, float]:
    """Asymptotic standard errors of (r, alpha, a, b) from the observed information.

    The Hessian of the log-likelihood w.r.t. the log-parameters is obtained by central differences
    of the analytic gradient; the delta method maps it back (``se(θ) = θ · se(log θ)``).
    """
    cov = bgnbd_log_covariance(fit, frequency, recency, T, weights)
    return standard_errors_from_covariance(np.log([fit.r, fit.alpha, fit.a, fit.b]), cov, ("r", "alpha", "a", "b"))


def log_odds_dead(fit: BgNbdFit, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """ln[ a/(b+x−1) ((α+T)/(α+t_x))^(r+x) ] for x > 0 (−inf for x = 0)."""
    rep = x > 0
    out = np.full(x.shape, -np.inf)
    xr, txr, Tr = x[rep], t_x[rep], T[rep]
    out[rep] = math.log(fit.a) - np.log(fit.b + xr - 1.0) + (fit.r + xr) * np.log1p((Tr - txr) / (fit.alpha + txr))
    return out


def p_alive(fit: BgNbdFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """P(customer alive at T | x, t_x, T) = 1 / (1 + [x>0] a/(b+x−1) ((α+T)/(α+t_x))^(r+x)).

    Evaluated as ``expit(−log_odds)`` in log space; one-time buyers (x = 0) are alive with
    probability 1 under BG/NBD (dropout can only happen right after a repeat purchase).
    """
    xx, tt, TT = score_inputs(x, t_x, T)
    check_score_rft(xx, tt, TT)
    return np.asarray(special.expit(-log_odds_dead(fit, xx, tt, TT)), dtype=np.float64)


def _pair_codes(x: FloatArray, T: FloatArray) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    """Distinct (x, T) pairs of two equal-shape arrays and the inverse index (flat)."""
    ux, ix = codes(x.reshape(-1))
    uT, iT = codes(T.reshape(-1))
    key = ix.astype(np.int64) * np.int64(uT.shape[0]) + iT
    ukey, inv = np.unique(key, return_inverse=True)
    return ux[ukey // uT.shape[0]], uT[ukey % uT.shape[0]], inv.reshape(-1)


def alive_expectation_pairs(
    fit: BgNbdFit, x: FloatArray, T: FloatArray, t: FloatArray
) -> tuple[FloatArray, NDArray[np.intp]]:
    """S on the grid (distinct (x, T) pair) x (horizon in 1-D ``t``), and the customer → pair index."""
    px, pT, inv = _pair_codes(x, T)
    gx = np.repeat(px, t.shape[0])
    gu = (t[None, :] / (fit.alpha + pT[:, None])).reshape(-1)
    S = alive_expectation(fit.r + gx, fit.b + gx, fit.a, gu).reshape(px.shape[0], t.shape[0])
    return S, inv


def expected_purchases(fit: BgNbdFit, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Conditional expected number of (repeat) purchases in (T, T+t] (equation 10 of FHL 2005).

    ``E = P(alive) · S`` with ``S`` the all-positive series described in the module docstring
    (equal to ``(a+b+x−1)/(a−1) [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))]``).
    ``t`` broadcasts against the customer arrays; it is in the fit's time unit.
    """
    tt, xx, txx, TT = score_inputs(t, x, t_x, T)
    check_score_rft(xx, txx, TT)
    if (~np.isfinite(tt)).any() or (tt < 0).any():
        raise ValueError("t must be finite and >= 0")
    pa = special.expit(-log_odds_dead(fit, xx, txx, TT))
    flat_t = tt.reshape(-1)
    if flat_t.size and (flat_t == flat_t[0]).all():  # one horizon (the usual case)
        S_p, inv = alive_expectation_pairs(fit, xx, TT, flat_t[:1])
        S = S_p[inv, 0].reshape(xx.shape)
    else:  # per-customer horizons: distinct (x, T, t) triples
        ut, it = codes(flat_t)
        px, pT, inv = _pair_codes(xx, TT)
        key = inv.astype(np.int64) * np.int64(ut.shape[0]) + it
        ukey, kinv = np.unique(key, return_inverse=True)
        gp, gt = ukey // ut.shape[0], ut[ukey % ut.shape[0]]
        S_u = alive_expectation(fit.r + px[gp], fit.b + px[gp], fit.a, gt / (fit.alpha + pT[gp]))
        S = S_u[kinv.reshape(-1)].reshape(xx.shape)
    return np.asarray(pa * S, dtype=np.float64)


def expected_purchases_unconditional(fit: BgNbdFit, t: ArrayLike) -> FloatArray:
    """E[X(t)]: expected repeat purchases in (0, t] for a new customer (first purchase at 0).

    Equals ``(a+b−1)/(a−1) [1 − (α/(α+t))^r 2F1(r, b; a+b−1; t/(α+t))]``.
    """
    tt = np.asarray(t, dtype=np.float64)
    if (~np.isfinite(tt)).any() or (tt < 0).any():
        raise ValueError("t must be finite and >= 0")
    flat = tt.reshape(-1)
    ut, inv = np.unique(flat, return_inverse=True)
    S = alive_expectation(np.full(ut.shape, fit.r), np.full(ut.shape, fit.b), fit.a, ut / fit.alpha)
    return S[inv.reshape(-1)].reshape(tt.shape)


def expected_next_purchase_days(
    fit: BgNbdFit,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    quantile: float = 0.5,
    min_p_alive: float | None = None,
) -> FloatArray:
    """Waiting time to the next purchase *given the customer is alive* (fit's time unit).

    Given alive at T, the next purchase arrives at rate λ with posterior λ ~ Gamma(r+x, α+T), so
    ``P(no purchase in (T, T+t] | alive) = ((α+T)/(α+T+t))^(r+x)`` (a Lomax law). The returned
    value is its ``quantile`` (default: the median), ``(α+T)((1−q)^(−1/(r+x)) − 1)``. Where
    ``p_alive < min_p_alive`` the result is NaN (the mart reports NULL); the threshold is the
    caller's decision.
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError("quantile must be in (0, 1)")
    xx, tt, TT = score_inputs(x, t_x, T)
    check_score_rft(xx, tt, TT)
    wait = (fit.alpha + TT) * np.expm1(-math.log1p(-quantile) / (fit.r + xx))
    if min_p_alive is not None:
        pa = special.expit(-log_odds_dead(fit, xx, tt, TT))
        wait = np.where(pa < min_p_alive, np.nan, wait)
    return np.asarray(wait, dtype=np.float64)
