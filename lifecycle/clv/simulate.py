"""Simulated BG/NBD and Pareto/NBD summaries and Gamma-Gamma spend (tests and benchmarks)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lifecycle.clv.inputs import FloatArray


def simulate_bgnbd(
    n_customers: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: float | ArrayLike | tuple[float, float],
    seed: int | np.random.Generator | None = None,
    integer_days: bool = False,
) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
    """Simulate BG/NBD summaries ``(frequency, recency, T)``.

    ``λ ~ Gamma(r, rate α)``, ``p ~ Beta(a, b)``; the customer would make ``N ~ Poisson(λT)``
    repeat purchases in (0, T] and drops out after her ``J``-th, ``J ~ Geometric(p)``, so
    ``x = min(N, J)`` and ``t_x`` is the x-th of N uniform order statistics (``T · Beta(x, N−x+1)``).
    ``T`` is a scalar, an array of length ``n_customers`` or a ``(low, high)`` uniform range.
    ``integer_days=True`` draws integer T and puts ``t_x`` on whole days (randomised rounding, as in
    a warehouse with daily granularity; several purchases on one day are not merged, a negligible
    effect for λ ≪ 1/day).
    """
    rng = np.random.default_rng(seed)
    if isinstance(T, tuple):
        lo, hi = T
        TT = (
            rng.integers(int(lo), int(hi) + 1, n_customers).astype(np.float64)
            if integer_days
            else rng.uniform(lo, hi, n_customers)
        )
    else:
        TT = np.broadcast_to(np.asarray(T, dtype=np.float64), (n_customers,)).copy()
        if integer_days:
            TT = np.floor(TT)
    lam = rng.gamma(r, 1.0 / alpha, n_customers)
    p = rng.beta(a, b, n_customers)
    N = rng.poisson(lam * TT)
    J = rng.geometric(np.clip(p, 1e-300, 1.0))
    x = np.minimum(N, J).astype(np.int64)
    t_x = np.zeros(n_customers)
    rep = x > 0
    t_x[rep] = TT[rep] * rng.beta(x[rep].astype(np.float64), (N[rep] - x[rep] + 1).astype(np.float64))
    if integer_days:
        # Calendar days: the first purchase happens at a uniform time of its day, so a purchase
        # at continuous time s falls on day floor(φ + s) (unbiased); a same-day repeat is moved
        # to the next day so that t_x >= 1 for repeat buyers.
        phi = rng.uniform(0.0, 1.0, n_customers)
        t_x = np.where(rep, np.clip(np.floor(phi + t_x), 1.0, np.maximum(TT, 1.0)), 0.0)
    return x, t_x, TT


def simulate_pareto_nbd(
    n_customers: int,
    *,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    T: float | ArrayLike | tuple[float, float],
    seed: int | np.random.Generator | None = None,
) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
    """Simulate Pareto/NBD summaries ``(frequency, recency, T)`` in continuous time.

    ``λ ~ Gamma(r, rate α)``, ``μ ~ Gamma(s, rate β)``, lifetime ``τ ~ Exp(μ)``; the customer
    buys ``x ~ Poisson(λ min(τ, T))`` times after the first purchase and ``t_x`` is the largest of
    ``x`` uniform times on ``(0, min(τ, T))`` (``min(τ, T) · Beta(x, 1)``). ``T`` as in
    :func:`simulate_bgnbd`.
    """
    rng = np.random.default_rng(seed)
    if isinstance(T, tuple):
        TT = rng.uniform(T[0], T[1], n_customers)
    else:
        TT = np.broadcast_to(np.asarray(T, dtype=np.float64), (n_customers,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n_customers)
    mu = rng.gamma(s, 1.0 / beta, n_customers)
    active = np.minimum(rng.exponential(1.0, n_customers) / np.maximum(mu, 1e-300), TT)
    x = rng.poisson(lam * active).astype(np.int64)
    t_x = np.zeros(n_customers)
    rep = x > 0
    t_x[rep] = active[rep] * rng.beta(x[rep].astype(np.float64), 1.0)
    return x, t_x, TT


def simulate_gamma_gamma(
    frequency: ArrayLike,
    *,
    p: float,
    q: float,
    gamma: float,
    seed: int | np.random.Generator | None = None,
) -> FloatArray:
    """Mean spend per repeat purchase under Gamma-Gamma: ``ν ~ Gamma(q, rate γ)``, each purchase
    ``z ~ Gamma(p, rate ν)``, so the mean of ``x`` purchases is ``Gamma(p x, rate ν x)``; 0 for
    ``x = 0``."""
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(q, 1.0 / gamma, x.shape)
    out = np.zeros(x.shape)
    rep = x > 0
    out[rep] = rng.gamma(p * x[rep], 1.0 / (nu[rep] * x[rep]))
    return out
