"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987): fit and scoring.

While alive a customer buys as a Poisson process with rate ``λ ~ Gamma(r, α)``; her lifetime is
exponential with rate ``μ ~ Gamma(s, β)`` (shapes ``r``, ``s``; *rates* ``α``, ``β``), so she can
drop out at any moment, not only after a repeat purchase as under BG/NBD: a one-time buyer who has
not come back for a long time is probably gone. Inputs per customer are ``x`` (repeat purchases),
``t_x`` (time of the last purchase from the first) and ``T`` (time from the first purchase to the
end of the window), in any one time unit (the warehouse uses days).

Likelihood (Fader, Hardie & Lee 2005, "A note on deriving the Pareto/NBD model and related
expressions", equations 19-22)::

    L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^-(r+x) (β+T)^-s + s/(r+s+x) · A0 ]

with ``A0`` a difference of two Gauss hypergeometric terms ``2F1(r+s+x, b; r+s+x+1; z)``
(``b = s+1``, ``z = (α−β)/(α+t)`` when ``α ≥ β``; ``b = r+x``, ``z = (β−α)/(β+t)`` otherwise; ``t``
is ``t_x`` or ``T``). The second branch grows like ``(1−z)^-(r+x)`` and overflows for customers
with thousands of purchases, so both are evaluated after Euler's transformation
``2F1(a, b; a+1; z) = (1−z)^(1−b) 2F1(1, a+1−b; a+1; z)``: the right-hand series has positive
terms falling at least geometrically with ratio ``z``, its value lies in ``[1, 1/(1−z)]``, and its
logarithm is taken before any power is applied. Everything is relative to the first term (the
customer still alive at ``T``), so the likelihood is ``Σ_{k<x} ln((r+k)/α) − (r+x) ln(1+T/α)
− s ln(1+T/β) + ln(1 + e^D)`` with ``D`` the log-odds of having dropped out in ``(t_x, T]``,
which is also what ``p_alive`` needs.

The dropout integral ``∫_{t_x}^T (α+τ)^-(r+x) (β+τ)^-(s+1) dτ`` is cut at ``τ*``, where ``z`` falls
to 1/2: above it, the difference ``F(max(t_x, τ*)) − F(T)`` of the series tails ``F(t) = ∫_t^∞``; below
it, a Gauss-Legendre quadrature. ``F`` depends on ``(x, t)`` only and the quadrature over
``[t_x, τ*]`` on ``(x, t_x)`` only, so both are evaluated once per distinct pair (whole days: far
fewer than the patterns); a pattern wholly below ``τ*`` is ``Q(t_x, τ*) − Q(T, τ*)`` on pairs too,
unless that difference would cancel more than 4x (then a direct quadrature).

The fit runs on the distinct ``(x, t_x, T)`` patterns weighted by their counts with the optimiser
of :mod:`lifecycle.clv.fitting` on log-parameters, times divided by ``max(T)`` for conditioning.
The gradient is analytic: the series differentiated term by term, the quadrature's the
integrand's own derivatives averaged with its weights (the cut's dependence on the parameters
cancels between the two parts).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

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

PARAM_NAMES = ("r", "alpha", "s", "beta")
# The dropout integral: by its hypergeometric series where z <= SERIES_MAX_Z (τ >= τ*), else by quadrature
# on panels at distances [0, h, 2h, 4h, ..., 1/2, 1, 2, 3, ...] from the mode (h a power of two
# below 1/64 of the narrowest decay length), 8 Gauss-Legendre nodes each (the integrand's complex
# singularities lie >= π away from the real axis in y).
SERIES_MAX_Z = 0.5
SERIES_TERMS = 64
_SERIES_TOL = 2.0**-60  # a series row stops when its next term is below this part of its sum
_QUAD_CHUNK = 2048
_FIRST_PANEL_FRACTION = 64.0
# A quadrature integral taken as the difference of two (Q(t_x, τ*) − Q(T, τ*)) only where the
# difference is at least 1/_MAX_DIFFERENCE_LOSS of the larger: its relative error at most that factor.
_MAX_DIFFERENCE_LOSS = 4.0
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_GL_UNIT_NODES = (_GL_X + 1.0) / 2.0
_GL_UNIT_WEIGHTS = _GL_W / 2.0


@dataclass(frozen=True)
class ParetoNbdFit:
    """Maximum-likelihood Pareto/NBD fit. ``alpha``, ``beta`` and ``log_likelihood`` are in the
    caller's time unit."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float
    n_customers: int
    n_patterns: int
    converged: bool
    iterations: int
    fit_seconds: float
    message: str

    @property
    def params(self) -> dict[str, float]:
        """``{"r", "alpha", "s", "beta"}``."""
        return {"r": self.r, "alpha": self.alpha, "s": self.s, "beta": self.beta}


@dataclass(frozen=True)
class _Patterns:
    """Distinct ``(x, t_x, T)`` patterns with their weights, and the distinct ``(x, t_x)`` pairs,
    ``(x, T)`` pairs and ``x`` values they are made of (``*_id``: each pattern's row there)."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    weight: FloatArray
    x_int: NDArray[np.intp]
    steps: FloatArray
    low_id: NDArray[np.intp]
    low_x: FloatArray
    low_t: FloatArray
    high_id: NDArray[np.intp]
    high_x: FloatArray
    high_t: FloatArray
    x_id: NDArray[np.intp]
    x_values: FloatArray

    def scaled(self, scale: float) -> _Patterns:
        return replace(
            self, t_x=self.t_x / scale, T=self.T / scale, low_t=self.low_t / scale, high_t=self.high_t / scale
        )


_Coded = tuple[FloatArray, NDArray[np.intp]]  # a column's distinct values and each row's index there


def _pairs(x: _Coded, t: _Coded) -> tuple[NDArray[np.intp], FloatArray, FloatArray]:
    """Distinct ``(x, t)`` rows: each row's index among them, and their ``x`` and ``t``."""
    (ux, cx), (ut, ct) = x, t
    _, first, inv = np.unique(cx * np.int64(ut.shape[0]) + ct, return_index=True, return_inverse=True)
    return inv.reshape(-1), ux[cx[first]], ut[ct[first]]


def _with_parts(
    x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray, coded: tuple[_Coded, _Coded, _Coded] | None = None
) -> _Patterns:
    """The patterns with their distinct pairs; ``coded``: the columns' :func:`codes` if known."""
    cx, ct, cT = coded if coded is not None else (codes(x), codes(t_x), codes(T))
    steps = np.arange(float(x.max()) if x.shape[0] else 0.0)
    return _Patterns(x, t_x, T, w, x.astype(np.intp), steps, *_pairs(cx, ct), *_pairs(cx, cT), cx[1], cx[0])


def _distinct_with_parts(x: FloatArray, t_x: FloatArray, T: FloatArray) -> tuple[_Patterns, NDArray[np.intp]]:
    """The distinct ``(x, t_x, T)`` rows with their pairs, and each input row's index among them
    (integer keys from each column's codes: a row sort of the float triples costs 5x more)."""
    (ux, cx), (ut, ct), (uT, cT) = codes(x), codes(t_x), codes(T)
    key = (cx.astype(np.int64) * ut.shape[0] + ct) * uT.shape[0] + cT
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    coded = ((ux, cx[first]), (ut, ct[first]), (uT, cT[first]))
    parts = _with_parts(x[first], t_x[first], T[first], np.ones(first.shape[0]), coded)
    return parts, inv.reshape(-1)


def _patterns(x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> _Patterns:
    (px, ptx, pT), pw = distinct_patterns([x, t_x, T], w)
    return _with_parts(px, ptx, pT, pw)


def _log1mexp(d: FloatArray) -> FloatArray:
    """``ln(1 − e^d)`` for ``d ≤ 0`` (−inf at 0), accurate on both sides of ``−ln 2``."""
    d = np.minimum(d, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(d > -math.log(2.0), np.log(-np.expm1(d)), np.log1p(-np.exp(d)))


def _series_sums(B: FloatArray, C: FloatArray, z: FloatArray, need_grad: bool) -> list[FloatArray]:
    """``S = Σ_k t_k`` (``t_0 = 1``, ``t_{k+1} = t_k z (B+k)/(C+k)``, ``C > B``, ``0 <= z <= 1/2``) and
    with ``need_grad`` ``Σ_k t_k Σ_{j<k} 1/(B+j)``, ``Σ_k t_k Σ_{j<k} 1/(C+j)`` and ``Σ_k k t_k / z``.

    A row stops once its next term (``t_k / z`` with the gradient) is below ``_SERIES_TOL`` of its
    ``S``: the term ratio is below ``z <= 1/2``, so all the rest is smaller still (checked every 8
    terms; at most ``SERIES_TERMS``)."""
    n = z.shape[0]
    out = [np.ones(n)] + ([np.zeros(n), np.zeros(n), np.zeros(n)] if need_grad else [])
    rows = np.arange(n)
    total, term = np.ones(n), np.ones(n)
    lead = term
    sum_b, sum_c, d_b, d_c, d_z = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    for k in range(SERIES_TERMS):
        if k and k % 8 == 0:
            done = ~(lead > _SERIES_TOL * total)
            if done.any():
                for target, acc in zip(out, (total, d_b, d_c, d_z), strict=False):
                    target[rows[done]] = acc[done]
                keep = ~done
                rows, B, C, z, total, term = rows[keep], B[keep], C[keep], z[keep], total[keep], term[keep]
                if need_grad:
                    sum_b, sum_c, d_b, d_c, d_z = sum_b[keep], sum_c[keep], d_b[keep], d_c[keep], d_z[keep]
                if not rows.shape[0]:
                    return out
        if not need_grad:
            term = term * (z * (B + k) / (C + k))
            total += term
            lead = term
            continue
        over_z = term * ((B + k) / (C + k))  # t_{k+1} / z
        sum_b += 1.0 / (B + k)
        sum_c += 1.0 / (C + k)
        d_z += (k + 1.0) * over_z
        term = over_z * z
        total += term
        d_b += term * sum_b
        d_c += term * sum_c
        lead = over_z
    for target, acc in zip(out, (total, d_b, d_c, d_z), strict=False):
        target[rows] = acc
    return out


def _log_tail_series(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t: FloatArray, need_grad: bool
) -> tuple[FloatArray, FloatArray]:
    """``ln F(t)``, ``F(t) = ∫_t^∞ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ``, where ``z = (hi−lo)/(hi+t) <= 1/2``
    (``hi``, ``lo`` = max, min of α, β), and with ``need_grad`` its derivatives d/d(r, α, s, β).

    ``F(t) = (hi+t)^-g 2F1(g, b; g+1; z) / g`` with ``g = r+s+x``, ``b = s+1`` (α ≥ β) or ``r+x``;
    by Euler ``2F1(g, b; g+1; z) = (1−z)^(1−b) S``, ``S = 2F1(1, B; C; z) = Σ_k z^k (B)_k/(C)_k``,
    ``B = g+1−b``, ``C = g+1``: positive terms with ratio below ``z`` (``SERIES_TERMS`` reach 1e-18),
    ``ln(1−z) = ln(lo+t) − ln(hi+t)``. The derivatives are the series' own, term by term:
    ``∂S/∂B = Σ_k t_k Σ_{j<k} 1/(B+j)``, ``∂S/∂C = −Σ_k t_k Σ_{j<k} 1/(C+j)``, ``∂S/∂z = Σ_k k t_k / z``."""
    hi_alpha = alpha >= beta
    hi, lo = (alpha, beta) if hi_alpha else (beta, alpha)
    g = r + s + x
    b = np.full_like(x, s + 1.0) if hi_alpha else r + x
    B, C = g + 1.0 - b, g + 1.0
    log_hi, log_lo = np.log(hi + t), np.log(lo + t)
    z = (hi - lo) / (hi + t)
    if not need_grad:
        (total,) = _series_sums(B, C, z, need_grad)
        value = -np.log(g) - g * log_hi + (1.0 - b) * (log_lo - log_hi) + np.log(total)
        return value, np.empty((0, 4))
    total, d_b, d_c, d_z = _series_sums(B, C, z, need_grad)
    d_b, d_c, d_z = d_b / total, -d_c / total, d_z / total  # d ln S / dB, dC, dz
    value = -np.log(g) - g * log_hi + (1.0 - b) * (log_lo - log_hi) + np.log(total)
    d_g = -1.0 / g - log_hi + d_b + d_c  # at fixed b, B = g+1-b and C = g+1 move with g
    d_bb = -(log_lo - log_hi) - d_b  # at fixed g
    d_hi = -(g + 1.0 - b) / (hi + t) + d_z * (lo + t) / (hi + t) ** 2
    d_lo = (1.0 - b) / (lo + t) - d_z / (hi + t)
    grad = np.empty((x.shape[0], 4))
    # r enters g (and b when α < β); s enters g (and b when α >= β).
    grad[:, 0] = d_g if hi_alpha else d_g + d_bb
    grad[:, 2] = d_g + d_bb if hi_alpha else d_g
    grad[:, 1], grad[:, 3] = (d_hi, d_lo) if hi_alpha else (d_lo, d_hi)
    return value, grad


def _log_integral_quadrature(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, t_x: FloatArray, T: FloatArray, need_grad: bool
) -> tuple[FloatArray, FloatArray]:
    """The same integral by quadrature in ``y = ln(min(α, β) + τ)``, where the log-integrand
    ``Λ(y) = y − (r+x) ln(α+τ) − (s+1) ln(β+τ)`` is concave: its mode is at ``t_x`` or (α < β,
    r + x < 1) in closed form, and panels grow geometrically away from it on both sides, so a
    peak as narrow as 1/(r+x) and a flat tail over a huge tenure are integrated alike.

    With ``need_grad`` also returns d/d(r, α, s, β) of the logarithm: the integrand's own
    derivatives (at fixed τ) averaged with the quadrature's normalised weights."""
    lo = min(alpha, beta)
    da, db = alpha - lo, beta - lo
    y1, y2 = np.log(lo + t_x), np.log(lo + T)
    mode = y1.copy()
    if alpha < beta:
        rho = (1.0 - r - x) / (s + 1.0)
        inner = rho > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            y_star = np.log(rho * db / (1.0 - rho))
        mode = np.where(inner, np.clip(y_star, y1, y2), y1)

    out = np.empty_like(x)
    grad = np.empty((x.shape[0], 4)) if need_grad else np.empty((0, 4))
    # Chunks of similar x (the finest panel follows the chunk's largest x); a side of the mode
    # that is empty throughout a chunk (the mode at t_x: the usual case) gets no nodes.
    order = np.argsort(x, kind="stable")
    for start in range(0, x.shape[0], _QUAD_CHUNK):
        sl = order[start : start + _QUAD_CHUNK]
        m, xx = mode[sl], x[sl]
        sides = [(length, sign) for length, sign in ((m - y1[sl], -1.0), (y2[sl] - m, 1.0)) if length.max() > 0]
        # Panel edges in distance from the mode (units of y): geometric up to 1, then unit steps up
        # to the longest side of the chunk; clipped to each side's length (empty panels weigh 0).
        # The first panel is 1/64 of the narrowest decay length 1/|Λ'| <= 1/(r+x+s+2) of the chunk.
        longest = max((float(np.max(length)) for length, _ in sides), default=0.0)
        finest = math.ceil(math.log2(_FIRST_PANEL_FRACTION * (r + s + 2.0 + float(np.max(xx)))))
        geometric = np.concatenate([[0.0], 2.0 ** np.arange(-finest, 1)])
        edges = np.concatenate([geometric, np.arange(2.0, math.ceil(longest) + 1.0)])
        ys, logws = [], []
        for length, sign in sides:
            clipped = np.minimum(edges[None, :], length[:, None])
            lo_d, width = clipped[:, :-1, None], np.diff(clipped, axis=1)[:, :, None]
            nodes = m[:, None, None] + sign * (lo_d + width * _GL_UNIT_NODES[None, None, :])
            ys.append(nodes.reshape(xx.shape[0], -1))
            with np.errstate(divide="ignore"):
                logws.append(np.log(width * _GL_UNIT_WEIGHTS[None, None, :]).reshape(xx.shape[0], -1))
        y = np.concatenate(ys, axis=1)
        e = np.exp(-y)
        log_a = y + np.log1p(da * e)  # ln(α+τ)
        log_b = y + np.log1p(db * e)  # ln(β+τ)
        terms = y - (r + xx[:, None]) * log_a - (s + 1.0) * log_b + np.concatenate(logws, axis=1)
        peak = terms.max(axis=1)
        total = peak + np.log(np.exp(terms - peak[:, None]).sum(axis=1))
        out[sl] = total
        if need_grad:
            w = np.exp(terms - total[:, None])
            grad[sl, 0] = -np.einsum("ij,ij->i", w, log_a)
            grad[sl, 1] = -(r + xx) * np.einsum("ij,ij->i", w, np.exp(-log_a))
            grad[sl, 2] = -np.einsum("ij,ij->i", w, log_b)
            grad[sl, 3] = -(s + 1.0) * np.einsum("ij,ij->i", w, np.exp(-log_b))
    return out, grad


def _split_point(alpha: float, beta: float) -> float:
    """``τ*`` where ``z(τ) = (hi−lo)/(hi+τ)`` falls to ``SERIES_MAX_Z``: the series serves ``τ >= τ*``,
    the quadrature ``τ < τ*`` (+inf: quadrature throughout)."""
    hi, lo = max(alpha, beta), min(alpha, beta)
    return (hi - lo) / SERIES_MAX_Z - hi if SERIES_MAX_Z > 0 else math.inf


def _rows(ids: NDArray[np.intp], size: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The distinct values of ``ids`` (in ``range(size)``) and each id's position among them."""
    used = np.zeros(size, dtype=bool)
    used[ids] = True
    rows = np.flatnonzero(used)
    position = np.zeros(size, dtype=np.intp)
    position[rows] = np.arange(rows.shape[0])
    return rows, position[ids]


def _log_difference(
    log_f: FloatArray, grad_f: FloatArray, lower: NDArray[np.intp], upper: NDArray[np.intp], need_grad: bool
) -> tuple[FloatArray, FloatArray]:
    """``ln(F_l − F_u)`` from ``ln F`` at rows ``lower`` > ``upper`` (the integral between two ends
    from two integrals to a common far end), and with ``need_grad`` its derivatives
    ``d ln F_l + (d ln F_l − d ln F_u) / (e^gap − 1)``, ``gap = ln F_l − ln F_u``."""
    log_low = np.take(log_f, lower)
    gap = log_low - np.take(log_f, upper)
    value = log_low + _log1mexp(-gap)
    if not need_grad:
        return value, np.empty((0, 4))
    with np.errstate(divide="ignore", over="ignore"):  # gap 0: an empty part, given weight 0 by callers
        factor = np.where(gap > 0, 1.0 / np.expm1(gap), 0.0)
    g_low = np.take(grad_f, lower, axis=0)
    step = np.subtract(g_low, np.take(grad_f, upper, axis=0))
    step *= factor[:, None]
    g_low += step
    return value, g_low


def _log_integral(
    r: float, alpha: float, s: float, beta: float, d: _Patterns, live: NDArray[np.bool_], need_grad: bool
) -> tuple[FloatArray, FloatArray]:
    """``ln ∫_{t_x}^T (α+τ)^-(r+x) (β+τ)^-(s+1) dτ`` on the ``live`` patterns (``t_x < T``; any finite
    or −inf value elsewhere), and with ``need_grad`` its derivatives d/d(r, α, s, β).

    The range is cut at ``τ*`` (:func:`_split_point`): above it the integral is ``F(a) − F(T)`` by the
    series tails ``F`` (:func:`_log_tail_series`, ``a = max(t_x, τ*)``), below it a quadrature
    (:func:`_log_integral_quadrature`) on ``[t_x, min(T, τ*)]``; the two parts are positive and
    added in logs. ``F`` depends on ``(x, t)`` only and the lower quadrature ``[t_x, τ*]`` on
    ``(x, t_x)`` only, so each is evaluated once per distinct pair, not per pattern. The cut's own
    dependence on the parameters cancels between the parts (the integrand is continuous there), so
    both parts are differentiated at fixed ends."""
    split = _split_point(alpha, beta)
    t_x, T = d.t_x, d.T
    series_only = live & (t_x >= split)
    mixed = live & (t_x < split) & (split < T)
    quad_only = live & (split >= T)
    uses_series = series_only | mixed
    n = t_x.shape[0]
    log_int = np.zeros(n)
    grad = np.zeros((n, 4)) if need_grad else np.empty((0, 4))

    if uses_series.any():
        low_rows, low_pos = _rows(d.low_id[series_only], d.low_x.shape[0])
        high_rows, high_pos = _rows(d.high_id[uses_series], d.high_x.shape[0])
        x_rows, x_pos = _rows(d.x_id[mixed], d.x_values.shape[0])
        n_low, n_high = low_rows.shape[0], high_rows.shape[0]
        xs = np.concatenate([d.low_x[low_rows], d.high_x[high_rows], d.x_values[x_rows]])
        ts = np.concatenate([d.low_t[low_rows], d.high_t[high_rows], np.full(x_rows.shape[0], split)])
        tail, g_tail = _log_tail_series(r, alpha, s, beta, xs, ts, need_grad)
        # Row in (tail, g_tail) of each series pattern's lower end (t_x or τ*) and of its T; the
        # others point both at row 0 (an empty difference: −inf, overwritten or unused below).
        lower_at, upper_at = np.zeros(n, dtype=np.intp), np.zeros(n, dtype=np.intp)
        lower_at[series_only] = low_pos
        lower_at[mixed] = n_low + n_high + x_pos
        upper_at[uses_series] = n_low + high_pos
        log_int, grad = _log_difference(tail, g_tail, lower_at, upper_at, need_grad)

    if (mixed | quad_only).any():
        # Below τ*: Q(a, b) = ∫_a^b by quadrature. [t_x, τ*] per distinct (x, t_x) for the mixed
        # patterns; for those wholly below τ*, Q(t_x, T) = Q(t_x, τ*) − Q(T, τ*) on distinct pairs
        # too where that difference loses at most a factor _MAX_DIFFERENCE_LOSS of relative
        # accuracy, and a direct Q(t_x, T) on the rest (and when τ* is infinite).
        paired = quad_only & (split > T) if math.isfinite(split) else np.zeros_like(live)
        low_rows, low_pos = _rows(d.low_id[mixed | paired], d.low_x.shape[0])
        high_rows, high_pos = _rows(d.high_id[paired], d.high_x.shape[0])
        n_low = low_rows.shape[0]
        qx = np.concatenate([d.low_x[low_rows], d.high_x[high_rows]])
        qt = np.concatenate([d.low_t[low_rows], d.high_t[high_rows]])
        q, g_q = _log_integral_quadrature(r, alpha, s, beta, qx, qt, np.full(qx.shape[0], split), need_grad)
        low_at = np.zeros(n, dtype=np.intp)
        low_at[mixed | paired] = low_pos
        direct = quad_only.copy()
        if paired.any():
            lower, upper = low_at[paired], n_low + high_pos
            gap = q[lower] - q[upper]
            ok = gap > math.log(_MAX_DIFFERENCE_LOSS / (_MAX_DIFFERENCE_LOSS - 1.0))
            rows = np.flatnonzero(paired)[ok]
            direct[rows] = False
            log_int[rows], g_rows = _log_difference(q, g_q, lower[ok], upper[ok], need_grad)
            if need_grad:
                grad[rows] = g_rows
        if direct.any():
            log_int[direct], g_direct = _log_integral_quadrature(
                r, alpha, s, beta, d.x[direct], t_x[direct], T[direct], need_grad
            )
            if need_grad:
                grad[direct] = g_direct
        if mixed.any():  # the quadrature part and the series part, added
            rows = np.flatnonzero(mixed)
            at = np.take(low_at, rows)
            q_low = np.take(q, at)
            both = np.logaddexp(q_low, np.take(log_int, rows))
            log_int[rows] = both
            if need_grad:
                share = np.exp(q_low - both)[:, None]
                grad[rows] = share * np.take(g_q, at, axis=0) + (1.0 - share) * np.take(grad, rows, axis=0)
    return log_int, grad


def _log_odds_dead(
    r: float, alpha: float, s: float, beta: float, d: _Patterns, need_grad: bool = False
) -> tuple[FloatArray, FloatArray]:
    """``D = ln[s/(r+s+x) A0 (α+T)^(r+x) (β+T)^s]``: log-odds of having dropped out in ``(t_x, T]``
    (−inf where ``t_x = T``), and with ``need_grad`` its derivatives d/d(r, α, s, β) per pattern."""
    x, T = d.x, d.T
    live = d.t_x < T
    dead = ~live
    log_int, grad = _log_integral(r, alpha, s, beta, d, live, need_grad)
    log_a, log_b = np.log(alpha + T), np.log(beta + T)
    out = math.log(s) + log_int + (r + x) * log_a + s * log_b
    out[dead] = -np.inf
    if need_grad:
        grad[:, 0] += log_a
        grad[:, 1] += (r + x) / (alpha + T)
        grad[:, 2] += 1.0 / s + log_b
        grad[:, 3] += s / (beta + T)
        if dead.any():
            grad[dead] = 0.0
    return out, grad


def _ll_per_pattern(params: tuple[float, float, float, float], d: _Patterns) -> FloatArray:
    r, alpha, s, beta = params
    per_x = rising_sums(np.log((r + d.steps) / alpha), d.x_int)
    alive = -(r + d.x) * np.log1p(d.T / alpha) - s * np.log1p(d.T / beta)
    dead, _ = _log_odds_dead(r, alpha, s, beta, d)
    return np.asarray(per_x + alive + np.logaddexp(0.0, dead))


def _ll(params: tuple[float, float, float, float], d: _Patterns) -> float:
    return dot(d.weight, _ll_per_pattern(params, d))


def _ll_and_grad(params: tuple[float, float, float, float], d: _Patterns) -> tuple[float, FloatArray]:
    """Total log-likelihood and its gradient w.r.t. (r, alpha, s, beta)."""
    r, alpha, s, beta = params
    w = d.weight
    per_x = rising_sums(np.log((r + d.steps) / alpha), d.x_int)
    alive = -(r + d.x) * np.log1p(d.T / alpha) - s * np.log1p(d.T / beta)
    dead, g_dead = _log_odds_dead(r, alpha, s, beta, d, need_grad=True)
    ll = dot(w, per_x + alive + np.logaddexp(0.0, dead))
    share = w * special.expit(dead)  # weight of the dropout term in ln(1 + e^D)
    g = (
        np.array(
            [
                dot(w, rising_sums(1.0 / (r + d.steps), d.x_int) - np.log1p(d.T / alpha)),
                dot(w, -d.x / alpha + (r + d.x) * d.T / (alpha * (alpha + d.T))),
                dot(w, -np.log1p(d.T / beta)),
                dot(w, s * d.T / (beta * (beta + d.T))),
            ]
        )
        + share @ g_dead
    )
    return ll, g


def pareto_nbd_log_likelihood(
    params: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> float:
    """Total Pareto/NBD log-likelihood at ``params = (r, alpha, s, beta)`` (time unit of the inputs)."""
    r, alpha, s, beta = (float(v) for v in np.asarray(params, dtype=np.float64).reshape(4))
    x, t_x, TT = as_1d("frequency", frequency), as_1d("recency", recency), as_1d("T", T)
    check_rft(x, t_x, TT)
    w = check_weights(weights, x.shape[0])
    return _ll((r, alpha, s, beta), _patterns(x, t_x, TT, w))


def fit_pareto_nbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    min_customers: int = 30,
    min_repeat_buyers: int = 10,
    max_iter: int = 2000,
) -> ParetoNbdFit:
    """Maximum-likelihood Pareto/NBD fit (arguments as :func:`lifecycle.clv.bgnbd.fit_bgnbd`).

    Raises :class:`ClvFitError` on invalid input, too little data, no convergence or a solution at
    the optimiser's box (``r``/``alpha`` or ``s``/``beta`` running off together is the homogeneous
    limit of that rate, which the data cannot distinguish from a large finite shape: reported as
    degenerate like BG/NBD's ``r``, ``alpha``).
    """
    started = time.perf_counter()
    x, t_x, TT = as_1d("frequency", frequency), as_1d("recency", recency), as_1d("T", T)
    check_rft(x, t_x, TT)
    w = check_weights(weights, x.shape[0])
    check_penalizer(penalizer)
    n_total = check_purchase_data(
        "Pareto/NBD", x, TT, w, min_customers=min_customers, min_repeat_buyers=min_repeat_buyers
    )
    data = _patterns(x, t_x, TT, w)
    scale = float(TT.max())
    sdata = data.scaled(scale)
    W = float(data.weight.sum())

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        p = np.exp(theta)
        with np.errstate(all="ignore"):
            ll, g = _ll_and_grad((p[0], p[1], p[2], p[3]), sdata)
        return -ll / W + penalizer * float(theta @ theta), -g * p / W + 2.0 * penalizer * theta

    # Start: r = s = 1, alpha from the mean purchase rate, beta = 1 (a lifetime of about max(T)).
    rate = float((w * x).sum()) / float((w * TT).sum()) * scale
    alpha0 = float(np.clip(1.0 / max(rate, 1e-6), 1e-3, 1e6))
    theta0 = np.log(np.array([1.0, alpha0, 1.0, 1.0]))
    theta, iterations, message = minimise(objective, theta0, max_iter, "Pareto/NBD")
    params = np.exp(theta)
    near = near_bound(theta)
    raise_if_at_bound("Pareto/NBD", PARAM_NAMES, params, near | ~np.isfinite(params), (1, 3), scale, iterations)
    r, alpha, s, beta = float(params[0]), float(params[1]) * scale, float(params[2]), float(params[3]) * scale
    ll = _ll((r, alpha, s, beta), data)
    check_finite_log_likelihood("Pareto/NBD", ll, iterations)
    return ParetoNbdFit(
        r=r,
        alpha=alpha,
        s=s,
        beta=beta,
        log_likelihood=ll,
        n_customers=round(n_total),
        n_patterns=int(data.weight.shape[0]),
        converged=True,
        iterations=iterations,
        fit_seconds=time.perf_counter() - started,
        message=message,
    )


def pareto_nbd_log_covariance(
    fit: ParetoNbdFit,
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
    theta = np.log([fit.r, fit.alpha, fit.s, fit.beta])

    def grad(th: FloatArray) -> FloatArray:
        p = np.exp(th)
        with np.errstate(all="ignore"):
            _, g = _ll_and_grad((p[0], p[1], p[2], p[3]), data)
        return g * p

    return log_covariance(grad, theta, "Pareto/NBD")


def pareto_nbd_standard_errors(
    fit: ParetoNbdFit,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
) -> dict[str, float]:
    """Asymptotic standard errors of (r, alpha, s, beta) from the observed information
    (:func:`lifecycle.clv.fitting.standard_errors` on the analytic gradient)."""
    cov = pareto_nbd_log_covariance(fit, frequency, recency, T, weights)
    return standard_errors_from_covariance(np.log([fit.r, fit.alpha, fit.s, fit.beta]), cov, PARAM_NAMES)


def pareto_nbd_log_odds_dead(fit: ParetoNbdFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """``D``, the log-odds of having dropped out in ``(t_x, T]`` (−inf where ``t_x = T``), per
    customer, computed once per distinct (x, t_x, T): customers share patterns (whole days)."""
    xx, tt, TT = score_inputs(x, t_x, T)
    parts, inv = _distinct_with_parts(xx.reshape(-1), tt.reshape(-1), TT.reshape(-1))
    with np.errstate(all="ignore"):
        d, _ = _log_odds_dead(fit.r, fit.alpha, fit.s, fit.beta, parts)
    return np.asarray(d[inv], dtype=np.float64).reshape(xx.shape)


def pareto_nbd_p_alive(fit: ParetoNbdFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """P(alive at T | x, t_x, T) = 1 / (1 + e^D) (FHL 2005 note, equation 18), one-time buyers included."""
    xx, tt, TT = score_inputs(x, t_x, T)
    check_score_rft(xx, tt, TT)
    return np.asarray(special.expit(-pareto_nbd_log_odds_dead(fit, xx, tt, TT)), dtype=np.float64)


def _lifetime_integral(s: float, log_ratio: FloatArray) -> FloatArray:
    """``(1 − e^(−(s−1) L)) / (s − 1)``, ``L = ln((β+T+t)/(β+T))``; ``L`` itself at ``s = 1``."""
    if abs(s - 1.0) < 1e-12:
        return log_ratio
    return np.asarray(-np.expm1(-(s - 1.0) * log_ratio) / (s - 1.0), dtype=np.float64)


def pareto_nbd_expected_purchases(
    fit: ParetoNbdFit, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Conditional expected purchases in ``(T, T+t]`` (FHL 2005 note, equation 22)::

    P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)]
    """
    tt, xx, txx, TT = score_inputs(t, x, t_x, T)
    check_score_rft(xx, txx, TT)
    if (~np.isfinite(tt)).any() or (tt < 0).any():
        raise ValueError("t must be finite and >= 0")
    pa = pareto_nbd_p_alive(fit, xx, txx, TT)
    rate = (fit.r + xx) * (fit.beta + TT) / (fit.alpha + TT)
    return np.asarray(pa * rate * _lifetime_integral(fit.s, np.log1p(tt / (fit.beta + TT))), dtype=np.float64)


def pareto_nbd_expected_purchases_unconditional(fit: ParetoNbdFit, t: ArrayLike) -> FloatArray:
    """E[X(t)] for a new customer: ``r β / (α (s−1)) [1 − (β/(β+t))^(s−1)]`` (equation 17)."""
    tt = np.asarray(t, dtype=np.float64)
    if (~np.isfinite(tt)).any() or (tt < 0).any():
        raise ValueError("t must be finite and >= 0")
    return np.asarray(
        fit.r * fit.beta / fit.alpha * _lifetime_integral(fit.s, np.log1p(tt / fit.beta)), dtype=np.float64
    )
