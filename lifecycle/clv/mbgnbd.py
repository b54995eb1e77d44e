"""MBG/NBD (Batislam, Denizel & Filiztekin 2007): fit and scoring.

BG/NBD with one change: a customer may also drop out right after her *first* purchase (with the
same probability ``p ~ Beta(a, b)`` as after every repeat purchase), so a one-time buyer is not
alive with certainty; her ``p_alive`` is ``1 / (1 + a/b ((α+T)/α)^r)`` and falls as her silence
grows. Purchases while alive are Poisson with ``λ ~ Gamma(r, α)`` as in BG/NBD. Per customer::

    L = Γ(r+x) α^r / Γ(r) · B(a, b+x+1) / B(a, b) · (α+T)^-(r+x) · [1 + a/(b+x) ((α+T)/(α+t_x))^(r+x)]

evaluated like :mod:`lifecycle.clv.bgnbd`: the gamma and beta ratios as finite sums over ``k``
(``x`` is an integer), times relative to ``α`` as ``ln(1 + t/α)``, ``log(1 + e^δ)`` stably, on
the distinct ``(x, t_x, T)`` patterns with the analytic gradient. The conditional expectation is
BG/NBD's all-positive series (:func:`lifecycle.clv.series.alive_expectation`) with ``b`` replaced
by ``b + 1``: ``(a+b+x)/(a−1) [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))]``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

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

PARAM_NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class MbgNbdFit:
    """Maximum-likelihood MBG/NBD fit (``alpha`` and ``log_likelihood`` in the caller's time unit)."""

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
class _Patterns:
    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weight: FloatArray
    x_int: NDArray[np.intp]
    steps: FloatArray  # k = 0, 1, ..., max(x)

    def scaled(self, scale: float) -> _Patterns:
        return _Patterns(self.x, self.t_x / scale, self.T / scale, self.weight, self.x_int, self.steps)


def _patterns(x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> _Patterns:
    (px, ptx, pT), pw = distinct_patterns([x, t_x, T], w)
    steps = np.arange(float(px.max()) + 1.0 if px.shape[0] else 1.0)
    return _Patterns(px, ptx, pT, pw, px.astype(np.intp), steps)


def _ll(params: tuple[float, float, float, float], d: _Patterns, need_grad: bool) -> tuple[float, FloatArray]:
    """Total log-likelihood and (optionally) its gradient w.r.t. (r, alpha, a, b)."""
    r, alpha, a, b = params
    w = d.weight
    n = r + d.x
    rho_T = np.log1p(d.T / alpha)
    rho_tx = np.log1p(d.t_x / alpha)
    # lnΓ(r+x) − lnΓ(r) − x ln α and lnB(a, b+x+1) − lnB(a, b) as sums over k < x and k <= x.
    per_x = rising_sums(np.log((r + d.steps) / alpha), d.x_int) - rising_sums(np.log1p(a / (b + d.steps)), d.x_int + 1)
    delta = math.log(a) - np.log(b + d.x) + n * (rho_T - rho_tx)
    ll = dot(w, per_x - n * rho_T + np.logaddexp(0.0, delta))
    if not need_grad:
        return ll, np.empty(0)
    w4 = special.expit(delta)
    w3 = 1.0 - w4
    drho_T = -d.T / (alpha * (alpha + d.T))
    drho_tx = -d.t_x / (alpha * (alpha + d.t_x))
    g_r = dot(w, rising_sums(1.0 / (r + d.steps), d.x_int) - w3 * rho_T - w4 * rho_tx)
    g_alpha = dot(w, -d.x / alpha - n * (w3 * drho_T + w4 * drho_tx))
    g_a = dot(w, -rising_sums(1.0 / (a + b + d.steps), d.x_int + 1) + w4 / a)
    g_b = dot(w, rising_sums(a / ((b + d.steps) * (a + b + d.steps)), d.x_int + 1) - w4 / (b + d.x))
    return ll, np.array([g_r, g_alpha, g_a, g_b])


def mbgnbd_log_likelihood(
    params: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    gradient: bool = False,
) -> float | tuple[float, FloatArray]:
    """Total MBG/NBD log-likelihood at ``params = (r, alpha, a, b)``; with ``gradient=True`` also
    d ll / d(r, alpha, a, b)."""
    r, alpha, a, b = (float(v) for v in np.asarray(params, dtype=np.float64).reshape(4))
    x, t_x, TT = as_1d("frequency", frequency), as_1d("recency", recency), as_1d("T", T)
    check_rft(x, t_x, TT)
    w = check_weights(weights, x.shape[0])
    ll, g = _ll((r, alpha, a, b), _patterns(x, t_x, TT, w), gradient)
    return (ll, g) if gradient else ll


def fit_mbgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    min_customers: int = 30,
    min_repeat_buyers: int = 10,
    max_iter: int = 2000,
) -> MbgNbdFit:
    """Maximum-likelihood MBG/NBD fit (arguments as :func:`lifecycle.clv.bgnbd.fit_bgnbd`).

    Raises :class:`ClvFitError` on invalid input, too little data, no convergence or a parameter
    at the optimiser's box (``a, b -> inf`` together, one dropout probability for everybody, is
    accepted as BG/NBD accepts it).
    """
    started = time.perf_counter()
    x, t_x, TT = as_1d("frequency", frequency), as_1d("recency", recency), as_1d("T", T)
    check_rft(x, t_x, TT)
    w = check_weights(weights, x.shape[0])
    check_penalizer(penalizer)
    n_total = check_purchase_data("MBG/NBD", x, TT, w, min_customers=min_customers, min_repeat_buyers=min_repeat_buyers)
    data = _patterns(x, t_x, TT, w)
    scale = float(TT.max())
    sdata = data.scaled(scale)
    W = float(data.weight.sum())

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        p = np.exp(theta)
        ll, g = _ll((p[0], p[1], p[2], p[3]), sdata, True)
        return -ll / W + penalizer * float(theta @ theta), -g * p / W + 2.0 * penalizer * theta

    rate = float((w * x).sum()) / float((w * TT).sum()) * scale
    alpha0 = float(np.clip(1.0 / max(rate, 1e-6), 1e-3, 1e6))
    theta, iterations, message = minimise(objective, np.log(np.array([1.0, alpha0, 1.0, 1.0])), max_iter, "MBG/NBD")
    params = np.exp(theta)
    near = near_bound(theta)
    b_to_inf = bool(near[3] and theta[3] > 0)  # homogeneous dropout: a, b -> inf together
    near[3] &= not b_to_inf
    near[2] &= bool(theta[2] > 0) and not b_to_inf
    raise_if_at_bound("MBG/NBD", PARAM_NAMES, params, near | ~np.isfinite(params), (1,), scale, iterations)
    r, alpha, a, b = float(params[0]), float(params[1]) * scale, float(params[2]), float(params[3])
    ll, _ = _ll((r, alpha, a, b), data, False)
    check_finite_log_likelihood("MBG/NBD", ll, iterations)
    return MbgNbdFit(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=ll,
        n_customers=round(n_total),
        n_patterns=int(data.weight.shape[0]),
        converged=True,
        iterations=iterations,
        fit_seconds=time.perf_counter() - started,
        message=message,
    )


def mbgnbd_log_covariance(
    fit: MbgNbdFit,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> FloatArray:
    """Asymptotic covariance of the log-parameters from the observed information (analytic
    gradient, Hessian by central differences; :func:`lifecycle.clv.fitting.log_covariance`)."""
    x, t_x, TT = as_1d("frequency", frequency), as_1d("recency", recency), as_1d("T", T)
    check_rft(x, t_x, TT)
    data = _patterns(x, t_x, TT, check_weights(weights, x.shape[0]))
    theta = np.log([fit.r, fit.alpha, fit.a, fit.b])

    def grad(th: FloatArray) -> FloatArray:
        p = np.exp(th)
        _, g = _ll((p[0], p[1], p[2], p[3]), data, True)
        return g * p

    return log_covariance(grad, theta, "MBG/NBD")


def mbgnbd_standard_errors(
    fit: MbgNbdFit,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> dict[str, float]:
    """Asymptotic standard errors of (r, alpha, a, b): Hessian in the log-parameters by central
    differences of the analytic gradient, inverted, delta method back."""
    cov = mbgnbd_log_covariance(fit, frequency, recency, T, weights)
    return standard_errors_from_covariance(np.log([fit.r, fit.alpha, fit.a, fit.b]), cov, PARAM_NAMES)


def _log_odds_dead(fit: MbgNbdFit, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """``ln[a/(b+x) ((α+T)/(α+t_x))^(r+x)]`` for every customer (one-time buyers included)."""
    return np.asarray(
        math.log(fit.a) - np.log(fit.b + x) + (fit.r + x) * np.log1p((T - t_x) / (fit.alpha + t_x)), dtype=np.float64
    )


def mbgnbd_p_alive(fit: MbgNbdFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """P(alive at T | x, t_x, T) = 1 / (1 + a/(b+x) ((α+T)/(α+t_x))^(r+x))."""
    xx, tt, TT = score_inputs(x, t_x, T)
    check_score_rft(xx, tt, TT)
    return np.asarray(special.expit(-_log_odds_dead(fit, xx, tt, TT)), dtype=np.float64)


def mbgnbd_expected_purchases(fit: MbgNbdFit, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Conditional expected purchases in ``(T, T+t]``: ``P(alive) · S`` with BG/NBD's series at
    ``b + 1`` (computed once per distinct ``(x, T, t)``)."""
    tt, xx, txx, TT = score_inputs(t, x, t_x, T)
    check_score_rft(xx, txx, TT)
    if (~np.isfinite(tt)).any() or (tt < 0).any():
        raise ValueError("t must be finite and >= 0")
    pa = special.expit(-_log_odds_dead(fit, xx, txx, TT))
    triples, inv = np.unique(
        np.stack([xx.reshape(-1), TT.reshape(-1), tt.reshape(-1)], axis=1), axis=0, return_inverse=True
    )
    px, pT, pt = triples[:, 0], triples[:, 1], triples[:, 2]
    S = alive_expectation(fit.r + px, fit.b + 1.0 + px, fit.a, pt / (fit.alpha + pT))[inv.reshape(-1)]
    S = S.reshape(xx.shape)
    return np.asarray(pa * S, dtype=np.float64)


def mbgnbd_expected_purchases_unconditional(fit: MbgNbdFit, t: ArrayLike) -> FloatArray:
    """E[X(t)] for a new customer: ``b/(a−1) [1 − (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))]``, i.e.
    BG/NBD's series at ``b + 1`` times the chance ``b/(a+b)`` of surviving the first purchase."""
    tt = np.asarray(t, dtype=np.float64)
    if (~np.isfinite(tt)).any() or (tt < 0).any():
        raise ValueError("t must be finite and >= 0")
    ut, inv = codes(tt.reshape(-1))
    S = alive_expectation(np.full(ut.shape, fit.r), np.full(ut.shape, fit.b + 1.0), fit.a, ut / fit.alpha)
    return np.asarray(fit.b / (fit.a + fit.b) * S[inv].reshape(tt.shape), dtype=np.float64)
