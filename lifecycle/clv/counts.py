"""The probability of exactly ``n`` purchases in a period, for the three purchase models.

For a customer alive at ``T`` with ``x`` repeat purchases the individual rates have conjugate
posteriors (:mod:`lifecycle.clv.models`): ``λ ~ Gamma(R, A)`` with ``R = r+x``, ``A = α+T``, and

* BG/NBD, MBG/NBD: ``p ~ Beta(a, b')``, ``b' = b+x`` (BG) or ``b+x+1`` (MBG); she buys as a
  Poisson(λ) process and drops out after each purchase with probability ``p`` (the purchase
  counting), so with ``NB(n; R, q) = Γ(R+n)/(Γ(R) n!) q^R (1−q)^n``, ``q = A/(A+t)``::

      P(n | alive) = B(a, b'+n)/B(a, b') NB(n; R, q) + [n ≥ 1] B(a+1, b'+n−1)/B(a, b') P(N ≥ n),

  ``P(N ≥ n) = I_{1−q}(n, R)`` (regularised incomplete beta; no ``1 − Σ`` cancellation). This is
  FHL 2005's equation 8 with updated parameters.
* Pareto/NBD: ``μ ~ Gamma(s, B)``, ``B = β+T``, lifetime ``Exp(μ)`` from ``T``::

      P(n | alive) = (B/(B+t))^s NB(n; R, A/(A+t)) + ∫_0^t s/(B+τ) (B/(B+τ))^s NB(n; R, A/(A+τ)) dτ.

  For ``n = 0`` the integral is the likelihood's dropout integral (between ``T`` and ``T+t``),
  evaluated by :mod:`lifecycle.clv.pareto_nbd`'s stable machinery (no scipy ``hyp2f1``). For
  ``n ≥ 1`` it is a quadrature in ``y = ln τ``, where the log-integrand
  ``(n+1) y − (R+n) ln(A+e^y) − (s+1) ln(B+e^y)`` is concave with its mode at the positive root
  of a quadratic: 16 equal panels on each side of the mode, out to where the integrand has fallen
  by ``e^-45`` (found by bisection), 8 Gauss-Legendre nodes each.

Then ``P(exactly n in (T, T+t] | x, t_x, T) = (1 − p_alive)[n = 0] + p_alive P(n | alive)``, and
the unconditional PMF of a new customer (first purchase at 0, repeat purchases in ``(0, t]``) is
the same at ``x = t_x = T = 0`` (p_alive 1 for BG/NBD and Pareto/NBD; ``b/(a+b)`` for MBG/NBD,
whose customer may drop out right after the first purchase).

Every model's ``P(n | alive)`` is registered on its :class:`~lifecycle.clv.models.PurchaseModel`
(``_alive_log_pmf``); the functions here dispatch through the registry and evaluate once per
distinct ``(n, t, x, t_x, T)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from lifecycle.clv.inputs import FloatArray, check_score_rft, codes, score_inputs
from lifecycle.clv.pareto_nbd import pareto_nbd_log_odds_dead

if TYPE_CHECKING:
    from lifecycle.clv.models import PurchaseModel

_DROP = 45.0  # quadrature range: where the integrand has fallen by e^-45 from its mode
_PANELS = 16  # equal panels on each side of the mode
_CHUNK = 4096
_BISECTIONS = 60
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_UNIT_NODES = (_GL_X + 1.0) / 2.0
_UNIT_WEIGHTS = _GL_W / 2.0


def _log_nb(n: FloatArray, R: FloatArray, A: FloatArray, t: FloatArray) -> FloatArray:
    """``ln NB(n; R, A/(A+t))`` (0 at ``t = n = 0``, −inf at ``t = 0 < n``)."""
    with np.errstate(divide="ignore"):
        log_t = np.log(t)
    return np.asarray(
        special.gammaln(R + n)
        - special.gammaln(R)
        - special.gammaln(n + 1.0)
        - R * np.log1p(t / A)
        + np.where(n > 0, n * (log_t - np.log(A + t)), 0.0),
        dtype=np.float64,
    )


def _geometric_log_pmf(
    n: FloatArray, t: FloatArray, R: FloatArray, A: FloatArray, a: float, b: FloatArray
) -> FloatArray:
    """``ln P(n | alive)`` of the BG/NBD process with ``λ ~ Gamma(R, A)``, ``p ~ Beta(a, b)``."""
    first = special.betaln(a, b + n) - special.betaln(a, b) + _log_nb(n, R, A, t)
    out = np.asarray(first, dtype=np.float64).copy()
    rep = (n >= 1) & (t > 0)
    if rep.any():
        nr, br = n[rep], b[rep]
        with np.errstate(divide="ignore"):
            tail = np.log(special.betainc(nr, R[rep], t[rep] / (A[rep] + t[rep])))
        second = special.betaln(a + 1.0, br + nr - 1.0) - special.betaln(a, br) + tail
        out[rep] = np.logaddexp(out[rep], second)
    return out


def bg_alive_log_pmf(fit: Any, n: FloatArray, t: FloatArray, x: FloatArray, T: FloatArray) -> FloatArray:
    """BG/NBD: ``ln P(n in (T, T+t] | alive at T)``, posterior ``(r+x, α+T, a, b+x)``."""
    return _geometric_log_pmf(n, t, fit.r + x, fit.alpha + T, fit.a, fit.b + x)


def mbg_alive_log_pmf(fit: Any, n: FloatArray, t: FloatArray, x: FloatArray, T: FloatArray) -> FloatArray:
    """MBG/NBD: ``ln P(n in (T, T+t] | alive at T)``, posterior ``(r+x, α+T, a, b+x+1)``."""
    return _geometric_log_pmf(n, t, fit.r + x, fit.alpha + T, fit.a, fit.b + x + 1.0)


def _log_integrand(
    y: FloatArray, k: FloatArray, c1: FloatArray, c2: float, lA: FloatArray, lB: FloatArray
) -> FloatArray:
    """``k y − c1 ln(A+e^y) − c2 ln(B+e^y)`` (concave in ``y``); arrays broadcast row-wise."""
    return np.asarray(k * y - c1 * np.logaddexp(lA, y) - c2 * np.logaddexp(lB, y), dtype=np.float64)


def _solve_drop(lo: FloatArray, hi: FloatArray, target: FloatArray, rising: bool, args: tuple[Any, ...]) -> FloatArray:
    """The point of ``[lo, hi]`` where the concave log-integrand crosses ``target`` (bisection; it is
    increasing on the bracket when ``rising``)."""
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        above = _log_integrand(mid, *args) >= target
        if rising:
            hi = np.where(above, mid, hi)
            lo = np.where(above, lo, mid)
        else:
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
    return 0.5 * (lo + hi)


def _log_tau_integral(
    n: FloatArray, R: FloatArray, A: FloatArray, B: FloatArray, s: float, t: FloatArray
) -> FloatArray:
    """``ln ∫_0^t τ^n (A+τ)^-(R+n) (B+τ)^-(s+1) dτ`` for ``t > 0``, by quadrature in ``y = ln τ``."""
    k, c1, c2 = n + 1.0, R + n, s + 1.0
    lA, lB, top = np.log(A), np.log(B), np.log(t)
    # Mode: k (A+u)(B+u) = c1 u (B+u) + c2 u (A+u), i.e. (R+s) u² + q u − k A B = 0, u = e^y.
    q = c1 * B + c2 * A - k * (A + B)
    disc = np.sqrt(q * q + 4.0 * (R + s) * k * A * B)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(q > 0, 2.0 * k * A * B / (q + disc), (disc - q) / (2.0 * (R + s)))
    mode = np.minimum(np.log(u), top)
    args = (k, c1, c2, lA, lB)
    peak = _log_integrand(mode, *args)
    target = peak - _DROP
    # Below min(ln A, ln B) the slope is close to n+1 >= 1, so the drop is reached within this bracket.
    floor = np.minimum(mode, np.minimum(lA, lB)) - 1.5 * _DROP - 10.0
    lo = np.where(
        _log_integrand(floor, *args) >= target, floor, _solve_drop(floor, mode, target, rising=True, args=args)
    )
    hi = np.where(_log_integrand(top, *args) >= target, top, _solve_drop(mode, top, target, rising=False, args=args))
    out = np.empty_like(n)
    for start in range(0, n.shape[0], _CHUNK):
        sl = slice(start, start + _CHUNK)
        parts = []
        for left, right in ((lo[sl], mode[sl]), (mode[sl], hi[sl])):
            width = (right - left) / _PANELS
            offsets = np.arange(_PANELS)[:, None] + _UNIT_NODES[None, :]  # (panels, nodes)
            y = left[:, None] + width[:, None] * offsets.reshape(1, -1)
            with np.errstate(divide="ignore"):
                log_w = np.log(width)[:, None] + np.log(np.tile(_UNIT_WEIGHTS, _PANELS))[None, :]
            terms = _log_integrand(y, *(a[sl, None] for a in (k, c1)), c2, lA[sl, None], lB[sl, None]) + log_w
            parts.append(terms)
        terms = np.concatenate(parts, axis=1)
        out[sl] = special.logsumexp(terms, axis=1)
    return out


def pareto_alive_log_pmf(fit: Any, n: FloatArray, t: FloatArray, x: FloatArray, T: FloatArray) -> FloatArray:
    """Pareto/NBD: ``ln P(n in (T, T+t] | alive at T)`` (module docstring)."""
    R, A, B, s = fit.r + x, fit.alpha + T, fit.beta + T, fit.s
    out = -s * np.log1p(t / B) + _log_nb(n, R, A, t)  # still alive at T+t
    none = (n == 0) & (t > 0)
    if none.any():
        # s ∫ ... = e^D (A/(A+t))^R (B/(B+t))^s, D the log-odds of dropping out in (T, T+t].
        d = pareto_nbd_log_odds_dead(fit, x[none], T[none], T[none] + t[none])
        out[none] = out[none] + np.logaddexp(0.0, d)
    some = (n >= 1) & (t > 0)
    if some.any():
        nn, Rn, An, Bn = n[some], R[some], A[some], B[some]
        log_dropped = (
            math.log(s)
            + s * np.log(Bn)
            + Rn * np.log(An)
            + special.gammaln(Rn + nn)
            - special.gammaln(Rn)
            - special.gammaln(nn + 1.0)
            + _log_tau_integral(nn, Rn, An, Bn, s, t[some])
        )
        out[some] = np.logaddexp(out[some], log_dropped)
    return np.asarray(out, dtype=np.float64)


def _distinct_rows(columns: list[FloatArray]) -> tuple[list[FloatArray], NDArray[np.intp]]:
    """Distinct rows of equal-length columns and the row → distinct-row index."""
    key = np.zeros(columns[0].shape[0], dtype=np.int64)
    span = 1
    for c in columns:
        if c.shape[0] == 0 or c.min() == c.max():  # a broadcast scalar: nothing to sort
            continue
        low, high = float(c.min()), float(c.max())
        if high - low < 2**24 and (c == np.floor(c)).all():  # whole days or counts: no sort
            inv, size = (c - low).astype(np.int64), int(high - low) + 1
        else:
            u, inv = codes(c)
            size = u.shape[0]
        if span * size >= 2**62:  # compact the key before it could overflow
            _, compact = np.unique(key, return_inverse=True)
            key, span = compact.reshape(-1).astype(np.int64), int(compact.max()) + 1
        key = key * np.int64(size) + inv
        span *= size
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return [c[first] for c in columns], inverse.reshape(-1)


def _check_n_t(n: FloatArray, t: FloatArray) -> None:
    if (~np.isfinite(n)).any() or (n < 0).any() or (n != np.round(n)).any():
        raise ValueError("n must be non-negative integers")
    if (~np.isfinite(t)).any() or (t < 0).any():
        raise ValueError("t must be finite and >= 0")


def model_conditional_pmf(
    model: PurchaseModel, fit: Any, n: ArrayLike, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """``(1 − p_alive)[n = 0] + p_alive P(n | alive)`` under ``model``; arguments broadcast."""
    nn, tt, xx, txx, TT = score_inputs(n, t, x, t_x, T)
    check_score_rft(xx, txx, TT)
    _check_n_t(nn, tt)
    shape = nn.shape
    (pn, pt, px, ptx, pT), inv = _distinct_rows([a.reshape(-1) for a in (nn, tt, xx, txx, TT)])
    pa = model.p_alive(fit, px, ptx, pT)
    with np.errstate(over="ignore"):
        alive = np.exp(model._alive_log_pmf(fit, pn, pt, px, pT))
    prob = np.where(pn == 0, 1.0 - pa, 0.0) + pa * alive
    return np.asarray(prob[inv].reshape(shape), dtype=np.float64)


def model_any_purchase(
    model: PurchaseModel, fit: Any, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """``P(at least one purchase in (T, T+t]) = p_alive (1 − P(0 | alive))`` (no cancellation)."""
    tt, xx, txx, TT = score_inputs(t, x, t_x, T)
    check_score_rft(xx, txx, TT)
    _check_n_t(np.zeros(1), tt)
    shape = xx.shape
    (pt, px, ptx, pT), inv = _distinct_rows([a.reshape(-1) for a in (tt, xx, txx, TT)])
    pa = model.p_alive(fit, px, ptx, pT)
    prob = pa * -np.expm1(model._alive_log_pmf(fit, np.zeros_like(pt), pt, px, pT))
    return np.asarray(prob[inv].reshape(shape), dtype=np.float64)


def model_unconditional_pmf(model: PurchaseModel, fit: Any, n: ArrayLike, t: ArrayLike) -> FloatArray:
    """``P(X(t) = n)`` for a new customer: the conditional PMF at ``x = t_x = T = 0``."""
    return model_conditional_pmf(model, fit, n, t, 0.0, 0.0, 0.0)


def probability_of_purchases(fit: Any, n: ArrayLike, t: ArrayLike) -> FloatArray:
    """Unconditional ``P(X(t) = n)``: a new customer's repeat purchases in ``(0, t]``; ``n`` and ``t``
    broadcast."""
    from lifecycle.clv.models import model_of  # models imports this module's kernels

    return model_of(fit).probability_of_purchases(fit, n, t)


def conditional_probability_of_purchases(
    fit: Any, n: ArrayLike, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """``P(exactly n purchases in (T, T+t] | x, t_x, T)``; all arguments broadcast."""
    from lifecycle.clv.models import model_of

    return model_of(fit).conditional_probability_of_purchases(fit, n, t, x, t_x, T)


def conditional_probability_of_any_purchase(
    fit: Any, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """``P(at least one purchase in (T, T+t] | x, t_x, T) = 1 − P(0)``; all arguments broadcast."""
    from lifecycle.clv.models import model_of

    return model_of(fit).conditional_probability_of_any_purchase(fit, t, x, t_x, T)
