"""The probability of exactly n purchases in a period, for the three purchase models.

Unconditional (a new customer, first purchase at 0, ``X(t)`` repeat purchases in ``(0, t]``):

* **BG/NBD** (Fader, Hardie & Lee 2005, equation 8), with ``NB(n; r, p)`` the negative binomial
  pmf at ``p = α/(α+t)`` (the Poisson count over ``t`` mixed over ``λ ~ Gamma(r, α)``)::

      P(X(t)=n) = B(a, b+n)/B(a, b) · NB(n; r, p) + [n>0] B(a+1, b+n−1)/B(a, b) · P(NB(r, p) >= n)

  (still alive after the n-th purchase and no further one, or dropped out right after the n-th);
* **MBG/NBD**: she leaves right after her first purchase with probability ``a/(a+b)``, otherwise
  she follows BG/NBD with ``b+1``: ``a/(a+b) [n=0] + b/(a+b) · BG(n; r, α, a, b+1)``;
* **Pareto/NBD**: she stays an exponential time ``τ`` with ``μ ~ Gamma(s, β)``::

      P(X(t)=n) = (β/(β+t))^s NB(n; r, α/(α+t)) + ∫_0^t s/(β+u) (β/(β+u))^s NB(n; r, α/(α+u)) du

  (Gauss-Legendre on ``u``, 64 nodes on ``[0, t]``, the integrand is smooth).

Conditional on a customer's history (``x`` repeat purchases, last at ``t_x``, observed to ``T``):
with probability ``1 − p_alive`` she has left (no purchase), otherwise the future is the same
process with the posterior parameters, ``r+x`` and ``α+T`` for the purchase rate and BG/NBD
``b+x``, MBG/NBD ``b+x+1`` (given alive, the time-0 dropout is behind her), Pareto/NBD ``β+T``::

    P(N(T, T+t] = n) = (1 − p_alive) [n=0] + p_alive · P_alive(n)

with ``P_alive`` the BG/NBD (for both BG/NBD and MBG/NBD) or the Pareto/NBD form above.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from lifecycle.clv.inputs import FloatArray, check_score_rft, score_inputs

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)


def _bg_pmf(n: FloatArray, t: FloatArray, r: FloatArray, alpha: FloatArray, a: float, b: FloatArray) -> FloatArray:
    """BG/NBD's P(X(t) = n) (module docstring), elementwise."""
    p = alpha / (alpha + t)
    base = special.betaln(a, b)
    stay = np.exp(special.betaln(a, b + n) - base) * stats.nbinom.pmf(n, r, p)
    drop = np.where(
        n > 0,
        np.exp(special.betaln(a + 1.0, np.maximum(b + n - 1.0, 1e-300)) - base) * stats.nbinom.sf(n - 1, r, p),
        0.0,
    )
    return np.asarray(stay + drop, dtype=np.float64)


def _pareto_pmf(
    n: FloatArray, t: FloatArray, r: FloatArray, alpha: FloatArray, s: float, beta: FloatArray
) -> FloatArray:
    """Pareto/NBD's P(X(t) = n) (module docstring), elementwise."""
    stays = (beta / (beta + t)) ** s * stats.nbinom.pmf(n, r, alpha / (alpha + t))
    u = ((_NODES + 1.0) / 2.0) * t[..., None]
    w = (_WEIGHTS / 2.0) * t[..., None]
    bb, aa = beta[..., None], alpha[..., None]
    leaves = s / (bb + u) * (bb / (bb + u)) ** s * stats.nbinom.pmf(n[..., None], r[..., None], aa / (aa + u))
    return np.asarray(stays + (leaves * w).sum(axis=-1), dtype=np.float64)


def _check_counts(n: FloatArray, t: FloatArray) -> None:
    if (~np.isfinite(n)).any() or (n < 0).any() or (n != np.floor(n)).any():
        raise ValueError("n must be whole numbers >= 0")
    if (~np.isfinite(t)).any() or (t < 0).any():
        raise ValueError("t must be finite and >= 0")


def probability_of_purchases(model_name: str, fit: Any, n: ArrayLike, t: ArrayLike) -> FloatArray:
    """Unconditional P(X(t) = n) of a new customer under ``fit`` (broadcast over n and t)."""
    nn, tt = score_inputs(n, t)
    _check_counts(nn, tt)
    r, alpha = np.full(nn.shape, fit.r), np.full(nn.shape, fit.alpha)
    if model_name == "pareto_nbd":
        return _pareto_pmf(nn, tt, r, alpha, fit.s, np.full(nn.shape, fit.beta))
    if model_name == "mbg_nbd":
        leave = fit.a / (fit.a + fit.b)
        bg = _bg_pmf(nn, tt, r, alpha, fit.a, np.full(nn.shape, fit.b + 1.0))
        return np.asarray(leave * (nn == 0) + (1.0 - leave) * bg, dtype=np.float64)
    return _bg_pmf(nn, tt, r, alpha, fit.a, np.full(nn.shape, fit.b))


def conditional_probability_of_purchases(
    model_name: str,
    fit: Any,
    p_alive: FloatArray,
    n: ArrayLike,
    t: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """P(exactly n purchases in (T, T+t] | x, t_x, T) given the customers' ``p_alive`` (module
    docstring; broadcast over every argument)."""
    nn, tt, xx, txx, TT, pa = score_inputs(n, t, x, t_x, T, p_alive)
    _check_counts(nn, tt)
    check_score_rft(xx.reshape(-1), txx.reshape(-1), TT.reshape(-1))
    r, alpha = fit.r + xx, fit.alpha + TT
    if model_name == "pareto_nbd":
        alive = _pareto_pmf(nn, tt, r, alpha, fit.s, fit.beta + TT)
    else:
        alive = _bg_pmf(nn, tt, r, alpha, fit.a, fit.b + xx + (1.0 if model_name == "mbg_nbd" else 0.0))
    return np.asarray((1.0 - pa) * (nn == 0) + pa * alive, dtype=np.float64)
