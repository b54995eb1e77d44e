"""Gamma-Gamma (Fader, Hardie & Lee 2005 "RFM and CLV"; Fader & Hardie 2013 note): the mean spend
per repeat purchase ``m`` of customers with ``x >= 1``: fit and conditional expected spend."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from lifecycle.clv.errors import ClvFitError
from lifecycle.clv.fitting import (
    check_penalizer,
    log_covariance,
    minimise,
    near_bound,
    standard_errors_from_covariance,
)
from lifecycle.clv.inputs import FloatArray, as_1d, check_weights, codes, dot, score_inputs


@dataclass(frozen=True)
class GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma spend fit (``q > 1`` by construction)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int
    converged: bool
    iterations: int
    fit_seconds: float
    message: str

    @property
    def params(self) -> dict[str, float]:
        """``{"p", "q", "gamma"}``."""
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def mean_spend(self) -> float:
        """Population mean spend per purchase ``p γ / (q - 1)``."""
        return self.p * self.gamma / (self.q - 1.0)


@dataclass(frozen=True)
class _GgData:
    x_values: FloatArray
    x_weight: FloatArray
    pat_x_index: NDArray[np.intp]
    pat_x: FloatArray
    pat_m: FloatArray
    pat_logm: FloatArray
    pat_logx: FloatArray
    weight: FloatArray
    total_weight: float


def _gg_data(x: FloatArray, m: FloatArray, w: FloatArray) -> _GgData:
    # Spend is continuous, so (x, m) rows are almost all distinct: no pattern de-duplication
    # (it would cost a sort for nothing); the gamma-function terms are aggregated per distinct x.
    keep = w > 0
    px, pm, pw = x[keep], m[keep], w[keep]
    xv, xi = codes(px)
    return _GgData(
        x_values=xv,
        x_weight=np.bincount(xi, weights=pw, minlength=xv.shape[0]),
        pat_x_index=xi,
        pat_x=px,
        pat_m=pm,
        pat_logm=np.log(pm),
        pat_logx=np.log(px),
        weight=pw,
        total_weight=float(pw.sum()),
    )


# Above this q, lnΓ(q+s) − lnΓ(q) and ψ(q+s) − ψ(q) come from Stirling's series (error below
# 1e-17 there) instead of differences of two gammaln/digamma values, which cancel as q grows.
_STIRLING_Q = 100.0
# Stirling's series: lnΓ(z) = (z − ½) ln z − z + ½ ln 2π + Σ_k _LG[k] z^-(2k+1);
# ψ(z) = ln z − 1/(2z) − Σ_k _PSI[k] z^-(2k+2).
_LG = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680)
_PSI = (1 / 12, -1 / 120, 1 / 252, -1 / 240)


def _gamma_shift(q: float, s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``D = lnΓ(q+s) − lnΓ(q) − s ln q`` with ``dD/ds = ψ(q+s) − ln q`` and
    ``ψ(q+s) − ψ(q)``, accurate for large ``q`` too (where the spend population is homogeneous,
    q, γ → ∞ at a fixed γ/q, the plain differences are rounding noise of ~1e-16·q ln q)."""
    if q < _STIRLING_Q:
        lq = math.log(q)
        psi_qs = special.digamma(q + s)
        return special.gammaln(q + s) - special.gammaln(q) - s * lq, psi_qs - lq, psi_qs - special.digamma(q)
    z = q + s
    l1 = np.log1p(s / q)
    d = (z - 0.5) * l1 - s
    psi_shift = l1 - 0.5 / z
    psi_diff = l1 + 0.5 * s / (q * z)
    for k, (c_lg, c_psi) in enumerate(zip(_LG, _PSI, strict=True)):
        d = d + c_lg * (z ** -(2 * k + 1) - q ** -(2 * k + 1))
        psi_shift = psi_shift - c_psi * z ** -(2 * k + 2)
        psi_diff = psi_diff - c_psi * (z ** -(2 * k + 2) - q ** -(2 * k + 2))
    return d, psi_shift, psi_diff


def _gg_ll(params: tuple[float, float, float], d: _GgData, need_grad: bool) -> tuple[float, FloatArray]:
    """Total log-likelihood and its gradient w.r.t. (p, q, γ) on pattern data.

    Per customer, with s = p x: lnΓ(s+q) − lnΓ(s) − lnΓ(q) + q ln γ + (s−1) ln m + s ln x
    − (s+q) ln(γ + m x), evaluated as D(q, s) − lnΓ(s) + (s−1) ln m + s ln x
    − q ln(1 + m x/γ) − s (ln(γ + m x) − ln q) (:func:`_gamma_shift`): no term of size q ln q
    is left to cancel when q and γ grow together.
    """
    p, q, g = params
    xv, xw = d.x_values, d.x_weight
    s_u = p * xv
    shift, dshift_ds, psi_diff = _gamma_shift(q, s_u)
    ll = dot(xw, shift - special.gammaln(s_u))
    s = p * d.pat_x
    mx = d.pat_m * d.pat_x
    l1 = np.log1p(mx / g)
    lgm_q = np.log(g + mx) - math.log(q)
    ll = float(ll + dot(d.weight, (s - 1.0) * d.pat_logm + s * d.pat_logx - q * l1 - s * lgm_q))
    if not need_grad:
        return ll, np.empty(0)
    g_p = dot(xw, xv * (dshift_ds - special.digamma(s_u))) + dot(d.weight, d.pat_x * (d.pat_logm + d.pat_logx - lgm_q))
    g_q = dot(xw, psi_diff) - dot(d.weight, l1)
    g_g = dot(d.weight, (q * mx / g - s) / (g + mx))
    return ll, np.array([g_p, g_q, g_g])


def _check_gg_inputs(x: FloatArray, m: FloatArray, error: type[ValueError] = ClvFitError) -> None:
    if x.shape != m.shape:
        raise error(f"frequency and monetary_value must have the same shape: {x.shape}, {m.shape}")
    for name, arr in (("frequency", x), ("monetary_value", m)):
        if (~np.isfinite(arr)).any():
            raise error(f"{name} contains NaN/infinite values")
        if (arr < 0).any():
            raise error(f"{name} contains negative values")
    if (x != np.round(x)).any():
        raise error("frequency must be integer-valued")


def gamma_gamma_log_likelihood(
    params: ArrayLike,
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
    *,
    gradient: bool = False,
) -> float | tuple[float, FloatArray]:
    """Total Gamma-Gamma log-likelihood at ``params = (p, q, gamma)`` over customers with
    ``x >= 1`` and ``m > 0``; with ``gradient=True`` also the analytic gradient."""
    p, q, g = (float(v) for v in np.asarray(params, dtype=np.float64).reshape(3))
    x, m = as_1d("frequency", frequency), as_1d("monetary_value", monetary_value)
    _check_gg_inputs(x, m)
    w = check_weights(weights, x.shape[0])
    use = (x >= 1) & (m > 0)
    ll, gr = _gg_ll((p, q, g), _gg_data(x[use], m[use], w[use]), gradient)
    return (ll, gr) if gradient else ll


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    min_customers: int = 10,
    max_iter: int = 2000,
) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit of mean repeat spend.

    Only customers with ``frequency >= 1`` and ``monetary_value > 0`` enter the likelihood (others
    are ignored, not rejected). Parametrisation ``p = e^θ1, q = 1 + e^θ2, γ = e^θ3`` keeps
    ``q > 1`` so the conditional mean exists; spend is divided internally by its weighted mean.
    ``penalizer`` adds ``penalizer * |θ|^2`` to the mean negative log-likelihood (default 0).
    """
    started = time.perf_counter()
    x, m = as_1d("frequency", frequency), as_1d("monetary_value", monetary_value)
    _check_gg_inputs(x, m)
    w = check_weights(weights, x.shape[0])
    check_penalizer(penalizer)
    use = (x >= 1) & (m > 0) & (w > 0)
    n_use = float(w[use].sum())
    if n_use < min_customers:
        raise ClvFitError(
            f"too few repeat buyers with positive spend to fit Gamma-Gamma: {n_use:g} < min_customers={min_customers}",
            "insufficient_data",
            {"spenders": n_use, "min_customers": min_customers},
        )
    xu, mu, wu = x[use], m[use], w[use]
    if np.unique(mu).shape[0] < 2:
        raise ClvFitError(
            "monetary_value has no variation among repeat buyers: Gamma-Gamma is not identified",
            "degenerate",
            {"spenders": n_use, "no_spend_variation": True},
        )
    scale = dot(wu, mu) / float(wu.sum())
    data = _gg_data(xu, mu, wu)
    sdata = _GgData(
        data.x_values,
        data.x_weight,
        data.pat_x_index,
        data.pat_x,
        data.pat_m / scale,
        data.pat_logm - math.log(scale),
        data.pat_logx,
        data.weight,
        data.total_weight,
    )
    W = data.total_weight

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        e = np.exp(theta)
        p, q, g = e[0], 1.0 + e[1], e[2]
        ll, gr = _gg_ll((p, q, g), sdata, True)
        f = -ll / W + penalizer * float(theta @ theta)
        return f, -gr * np.array([p, q - 1.0, g]) / W + 2.0 * penalizer * theta

    theta0 = np.zeros(3)  # p = 1, q = 2, γ = 1 → mean spend = 1 = scaled mean
    theta, iterations, message = minimise(objective, theta0, max_iter, "Gamma-Gamma")
    e = np.exp(theta)
    p, q, g = float(e[0]), 1.0 + float(e[1]), float(e[2]) * scale
    names = ("p", "q-1", "gamma")
    near = near_bound(theta)
    # q, γ -> inf together at a fixed γ/q is the limit where every customer's spend rate is the
    # same (the likelihood rises monotonically towards it and the box stops within ~1e-8 of it):
    # the maximum likelihood model, predicting the population mean spend for everybody, not a
    # degenerate one. q -> 1 (log(q-1) at the lower box) and p at the box stay degenerate; spend
    # that hardly varies is lifecycle.clv_status's DEGENERATE_MIN_SPEND_CV.
    q_to_inf = bool(near[1] and theta[1] > 0)
    near[1] &= not q_to_inf
    near[2] &= not (q_to_inf and theta[2] > 0)
    if near.any() or not all(math.isfinite(v) for v in (p, q, g)):
        at_bound = {names[i]: float(e[i]) for i in np.flatnonzero(near)}
        which = ", ".join(f"{k}={v:.4g}" for k, v in at_bound.items())
        raise ClvFitError(
            f"Gamma-Gamma fit is degenerate or non-finite: {which or (p, q, g)}",
            "degenerate",
            {"at_bound": at_bound, "iterations": iterations},
        )
    ll, _ = _gg_ll((p, q, g), data, False)
    return GammaGammaFit(
        p=p,
        q=q,
        gamma=g,
        log_likelihood=ll,
        n_customers=round(n_use),
        converged=True,  # minimise raised otherwise
        iterations=iterations,
        fit_seconds=time.perf_counter() - started,
        message=message,
    )


def conditional_expected_spend(fit: GammaGammaFit, x: ArrayLike, m: ArrayLike) -> FloatArray:
    """E[spend per purchase | x, m] = (γ + m x) p / (p x + q − 1); the population mean
    ``p γ / (q − 1)`` for ``x = 0`` (whatever ``m``)."""
    xx, mm = score_inputs(x, m)
    _check_gg_inputs(xx.reshape(-1), mm.reshape(-1), error=ValueError)
    val = (fit.gamma + mm * xx) * fit.p / (fit.p * xx + fit.q - 1.0)
    return np.asarray(np.where(xx > 0, val, fit.mean_spend), dtype=np.float64)


def gamma_gamma_standard_errors(
    fit: GammaGammaFit, frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
) -> dict[str, float] | None:
    """Asymptotic standard errors of (p, q, γ) from the observed information at the fit (the
    Hessian of the log-likelihood in ln p, ln q, ln γ by central differences of the analytic
    gradient, :func:`lifecycle.clv.fitting.log_covariance`, and the delta method); None when the
    information matrix is singular (e.g. q, γ -> infinity together: one spend rate for everybody)."""
    x, m = as_1d("frequency", frequency), as_1d("monetary_value", monetary_value)
    _check_gg_inputs(x, m)
    w = check_weights(weights, x.shape[0])
    use = (x >= 1) & (m > 0) & (w > 0)
    data = _gg_data(x[use], m[use], w[use])
    theta = np.log([fit.p, fit.q, fit.gamma])

    def grad(th: FloatArray) -> FloatArray:
        p = np.exp(th)
        _, g = _gg_ll((p[0], p[1], p[2]), data, True)
        return np.asarray(g * p, dtype=np.float64)

    try:
        cov = log_covariance(grad, theta, "Gamma-Gamma")
    except ClvFitError:
        return None
    if not np.isfinite(cov).all() or (np.diag(cov) < 0).any():
        return None
    return standard_errors_from_covariance(theta, cov, ("p", "q", "gamma"))
