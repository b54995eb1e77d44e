"""Per-customer prediction intervals of the purchases and of the CLV over a horizon.

The point predictions of :mod:`lifecycle.clv.models` are expectations; a marketer also needs how
sure they are. The interval here is *predictive*: it holds the customer's actual number of
purchases (and value) over the horizon with probability ``level``, combining

1. **parameter uncertainty**: ``n_parameter_draws`` parameter vectors drawn from the asymptotic
   normal of the log-parameters, ``ln θ ~ N(ln θ̂, Σ)`` with ``Σ`` the inverse observed information
   (``PurchaseModel.log_covariance``; without it, or when it does not pin the parameters down, see
   :data:`MAX_LOG_STANDARD_ERROR`, θ̂ only);
2. **the purchase-count distribution** given the customer's history, simulated exactly with the
   conjugate posteriors of the models (the ``models`` docstring): alive at ``T`` with probability
   p_alive(θ); given alive, ``λ ~ Gamma(r+x, α+T)`` and

   * BG/NBD, ``p ~ Beta(a, b+x)``; MBG/NBD, ``p ~ Beta(a, b+x+1)``: purchases arrive as a Poisson
     process and after each one she leaves with probability ``p`` (that purchase counting), so the
     count over ``t`` is ``min(Poisson(λt), Geometric(p))``;
   * Pareto/NBD, ``μ ~ Gamma(s, β+T)``: she stays an exponential time ``τ ~ Exp(μ)``, so the count
     is ``Poisson(λ · min(τ, t))``;

   ``n_process_draws`` futures per parameter draw. p_alive(θ) of each draw is the first-order
   expansion of its log-odds in the log-parameters around θ̂ (forward differences: five model
   evaluations whatever the number of draws, which keeps Pareto/NBD affordable at a million
   customers); the rates' posteriors use the drawn parameters exactly;
3. for the CLV, the spend per purchase: the Gamma-Gamma posterior of the customer's spend rate,
   ``ν ~ Gamma(p·x + q, γ + x·m̄)`` for a repeat buyer with mean spend ``m̄``, the prior
   ``ν ~ Gamma(q, γ)`` otherwise, mean spend ``p/ν``. A future's value is
   ``margin · w · N · p/ν`` with ``w`` the customer's discount weight, the ratio of her discounted
   to her undiscounted expected purchases (:func:`lifecycle.clv.value.discounted_purchases`): the
   purchase times of a future are not simulated, their discounting is taken at its expectation.

The bounds are the ``(1-level)/2`` and ``(1+level)/2`` quantiles of the simulated futures
(``inverted_cdf``: values that occur, whole purchases for the count). The draws come from one
``numpy`` PCG64 stream seeded with ``seed``, in customer order, so the same inputs and seed give the
same intervals (the pipeline seeds it with the var ``clv_interval_seed`` and the as-of date).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lifecycle.clv.gamma_gamma import GammaGammaFit
from lifecycle.clv.inputs import FloatArray, check_score_rft, score_inputs
from lifecycle.clv.models import PurchaseModel

#: Patterns (customers) simulated together (bounds memory to chunk x draws x 8 bytes per array).
CHUNK_CUSTOMERS = 20_000


@dataclass(frozen=True)
class Intervals:
    """Lower and upper bounds per customer; the CLV ones are None without a spend model."""

    purchases_low: FloatArray
    purchases_high: FloatArray
    clv_low: FloatArray | None
    clv_high: FloatArray | None


#: The parameter draws need a covariance that pins every parameter down: a standard error of its
#: logarithm of at most this (the parameter known within a factor e). A fit near a limit of its
#: model (e.g. BG/NBD's b -> infinity on a small shop) has a huge or indefinite covariance; its
#: intervals then carry the purchase-count and spend uncertainty only.
MAX_LOG_STANDARD_ERROR = 1.0


def pins_down(log_cov: FloatArray) -> bool:
    """Whether ``log_cov`` is a usable covariance: positive semi-definite (to rounding) with every
    standard error of a log-parameter at most :data:`MAX_LOG_STANDARD_ERROR`."""
    eig = np.linalg.eigvalsh(log_cov)
    return bool(
        eig.min() >= -1e-9 * max(abs(eig.max()), 1e-300) and np.diag(log_cov).max() <= MAX_LOG_STANDARD_ERROR**2
    )


def parameter_draws(
    model: PurchaseModel, fit: Any, log_cov: ArrayLike | None, n_draws: int, rng: np.random.Generator
) -> list[Any]:
    """``n_draws`` fits with parameters from the asymptotic normal of the log-parameters (the
    fitted ones only when ``log_cov`` is None)."""
    if log_cov is None:
        return [fit] * n_draws
    cov = np.asarray(log_cov, dtype=np.float64)
    centre = model.log_params(fit)
    if cov.shape != (centre.shape[0], centre.shape[0]) or not np.isfinite(cov).all():
        raise ValueError(f"log_cov must be a finite {centre.shape[0]}x{centre.shape[0]} matrix")
    if not pins_down(cov):
        return [fit] * n_draws
    draws = rng.multivariate_normal(centre, cov, size=n_draws, method="eigh")
    return [model.with_params(fit, np.exp(d)) for d in draws]


#: Step of the forward differences of the log-odds of p_alive in the log-parameters.
_LOG_STEP = 1e-4
#: p_alive is clipped to [_P_FLOOR, 1 - _P_FLOOR] before taking log-odds (1 stays 1).
_P_FLOOR = 1e-15


def _log_odds(p: FloatArray) -> FloatArray:
    q = np.clip(p, _P_FLOOR, 1.0 - _P_FLOOR)
    return np.asarray(np.log(q) - np.log1p(-q), dtype=np.float64)


def alive_by_draw(
    model: PurchaseModel, fit: Any, fits: list[Any], x: FloatArray, t_x: FloatArray, T: FloatArray
) -> FloatArray:
    """p_alive of every customer under every parameter draw, shape (customers, draws): the fitted
    p_alive moved by the first-order change of its log-odds in the log-parameters (module
    docstring). Exactly the fitted p_alive when every draw is the fit itself."""
    base_p = model.p_alive(fit, x, t_x, T)
    centre = model.log_params(fit)
    offsets = np.stack([model.log_params(f) for f in fits]) - centre  # (draws, parameters)
    if not offsets.any():
        return np.repeat(base_p[:, None], len(fits), axis=1)
    base = _log_odds(base_p)
    slopes = np.empty((x.shape[0], centre.shape[0]))
    for j in range(centre.shape[0]):
        step = centre.copy()
        step[j] += _LOG_STEP
        slopes[:, j] = (_log_odds(model.p_alive(model.with_params(fit, np.exp(step)), x, t_x, T)) - base) / _LOG_STEP
    log_odds = base[:, None] + slopes @ offsets.T
    alive = 1.0 / (1.0 + np.exp(-log_odds))
    return np.asarray(np.where(base_p[:, None] >= 1.0, 1.0, alive), dtype=np.float64)


def _bounds(samples: FloatArray, lo_q: float, hi_q: float) -> tuple[FloatArray, FloatArray]:
    """The ``lo_q`` and ``hi_q`` quantiles of each row (``inverted_cdf``: the order statistics
    ``ceil(q·n)``), by partial sorting."""
    k = samples.shape[1]
    lo_i, hi_i = max(int(np.ceil(lo_q * k)) - 1, 0), max(int(np.ceil(hi_q * k)) - 1, 0)
    part = np.partition(samples, [lo_i, hi_i], axis=1)
    return part[:, lo_i].astype(np.float64), part[:, hi_i].astype(np.float64)


def _simulate_counts(
    model: PurchaseModel,
    fits: list[Any],
    alive: FloatArray,
    x: FloatArray,
    T: FloatArray,
    horizon: float,
    n_process: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Simulated purchase counts, shape (customers, parameter draws x process draws)."""
    n = x.shape[0]
    k = len(fits)
    shape = (n, k, n_process)
    par = {name: np.array([getattr(f, name) for f in fits])[None, :, None] for name in model.param_names}
    xx = x[:, None, None]
    TT = T[:, None, None]
    is_alive = rng.random(shape) < alive[:, :, None]
    lam = rng.gamma(par["r"] + xx, 1.0, size=shape) / (par["alpha"] + TT)
    if model.name == "pareto_nbd":
        mu = rng.gamma(np.broadcast_to(par["s"], shape), 1.0) / (par["beta"] + TT)
        stay = np.minimum(rng.exponential(1.0, size=shape) / mu, horizon)
        counts = rng.poisson(lam * stay)
    else:
        extra = 1.0 if model.name == "mbg_nbd" else 0.0
        p = rng.beta(np.broadcast_to(par["a"], shape), par["b"] + xx + extra)
        counts = np.minimum(rng.poisson(lam * horizon), rng.geometric(np.clip(p, 1e-300, 1.0)))
    return np.where(is_alive, counts, 0).reshape(n, k * n_process).astype(np.float64)


def purchase_intervals(
    model: PurchaseModel,
    fit: Any,
    log_cov: ArrayLike | None,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    horizon_days: float,
    *,
    spend: GammaGammaFit | None = None,
    mean_spend: ArrayLike | None = None,
    discount_weight: ArrayLike | None = None,
    margin_rate: ArrayLike = 1.0,
    level: float = 0.8,
    n_parameter_draws: int = 50,
    n_process_draws: int = 4,
    seed: int | list[int] = 0,
) -> Intervals:
    """The ``level`` prediction interval of each customer's purchases over ``horizon_days`` and,
    with ``spend`` (Gamma-Gamma) and ``mean_spend`` (m̄, NaN or <= 0 for no repeat spend), of her
    value (module docstring). ``discount_weight`` and ``margin_rate`` broadcast per customer
    (default 1: undiscounted revenue)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n_parameter_draws < 1 or n_process_draws < 1:
        raise ValueError("n_parameter_draws and n_process_draws must be at least 1")
    if not np.isfinite(horizon_days) or horizon_days < 0:
        raise ValueError("horizon_days must be finite and >= 0")
    xx, tt, TT = (a.reshape(-1) for a in score_inputs(x, t_x, T))
    check_score_rft(xx, tt, TT)
    n = xx.shape[0]
    if spend is not None and mean_spend is None:
        raise ValueError("mean_spend is required with a spend model")
    weight = np.broadcast_to(np.asarray(1.0 if discount_weight is None else discount_weight, dtype=float), (n,))
    margin = np.broadcast_to(np.asarray(margin_rate, dtype=float), (n,))
    m = None if mean_spend is None else np.broadcast_to(np.asarray(mean_spend, dtype=float), (n,))
    rng = np.random.Generator(np.random.PCG64(seed))
    fits = parameter_draws(model, fit, log_cov, n_parameter_draws, rng)
    # p_alive per parameter draw, once per distinct (x, t_x, T) pattern.
    patterns, inv = np.unique(np.stack([xx, tt, TT], axis=1), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    alive_patterns = alive_by_draw(model, fit, fits, patterns[:, 0], patterns[:, 1], patterns[:, 2])
    lo_q, hi_q = (1.0 - level) / 2.0, (1.0 + level) / 2.0
    out = {name: np.empty(n) for name in ("p_lo", "p_hi", "c_lo", "c_hi")}
    # The futures of a purchase pattern are simulated once and shared by the customers who have it
    # (their counts depend on nothing else); the spend is drawn per customer.
    n_patterns = patterns.shape[0]
    futures = len(fits) * n_process_draws
    counts = np.empty((n_patterns, futures), dtype=np.uint16)
    p_lo, p_hi = np.empty(n_patterns), np.empty(n_patterns)
    for start in range(0, n_patterns, CHUNK_CUSTOMERS):
        sl = slice(start, min(start + CHUNK_CUSTOMERS, n_patterns))
        chunk = _simulate_counts(
            model, fits, alive_patterns[sl], patterns[sl, 0], patterns[sl, 2], float(horizon_days), n_process_draws, rng
        )
        counts[sl] = np.minimum(chunk, np.iinfo(np.uint16).max)
        p_lo[sl], p_hi[sl] = _bounds(chunk, lo_q, hi_q)
    out["p_lo"], out["p_hi"] = p_lo[inv], p_hi[inv]
    if spend is not None and m is not None:
        for start in range(0, n, CHUNK_CUSTOMERS):
            sl = slice(start, min(start + CHUNK_CUSTOMERS, n))
            own = counts[inv[sl]].astype(np.float64)
            has = (xx[sl] >= 1) & np.isfinite(m[sl]) & (m[sl] > 0)
            shape_nu = np.where(has, spend.p * xx[sl] + spend.q, spend.q)[:, None]
            rate_nu = np.where(has, spend.gamma + xx[sl] * np.where(has, m[sl], 0.0), spend.gamma)[:, None]
            nu = rng.gamma(np.broadcast_to(shape_nu, own.shape), 1.0) / rate_nu
            value = (margin[sl] * weight[sl])[:, None] * own * (spend.p / nu)
            out["c_lo"][sl], out["c_hi"][sl] = _bounds(value, lo_q, hi_q)
    with_spend = spend is not None
    return Intervals(out["p_lo"], out["p_hi"], out["c_lo"] if with_spend else None, out["c_hi"] if with_spend else None)
