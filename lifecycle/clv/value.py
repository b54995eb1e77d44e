"""CLV = margin x expected spend per purchase x discounted expected purchases over a horizon."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from lifecycle.clv.bgnbd import BgNbdFit, alive_expectation_pairs, log_odds_dead
from lifecycle.clv.inputs import FloatArray, check_score_rft, score_inputs

#: Days per "month" step in :func:`discounted_value` (a Julian year / 12).
DAYS_PER_MONTH = 365.25 / 12.0


def discounted_value(
    bgnbd: BgNbdFit,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    spend_per_purchase: ArrayLike,
    horizon_days: float,
    annual_discount_rate: float,
    margin_rate: float = 1.0,
    *,
    step_days: float = DAYS_PER_MONTH,
) -> FloatArray:
    """Discounted expected value over ``horizon_days`` (the BG/NBD fit must be in days).

    The horizon is cut into steps of ``step_days`` (default a Julian month, 365.25/12 =
    30.4375 days); the last step is partial when the horizon is not a whole number of steps.
    With ``t_i = min(i · step_days, horizon_days)``, ``i = 1..ceil(horizon/step)``::

        CLV = margin · spend · Σ_i (E[t_i] − E[t_{i−1}]) / (1 + d)^(t_i / step_days),
        d = (1 + annual_discount_rate)^(1/12) − 1      (monthly rate),

    where ``E[t]`` is :func:`expected_purchases`. Each step's purchases are discounted at the
    step's end (a partial last step at its fractional end). With the default step this equals
    discounting at ``(1 + annual)^(−t_i / 365.25)``. ``step_days=30`` with a monthly ``d`` and a
    horizon of 30·n days reproduces ``lifetimes``' ``customer_lifetime_value(freq="D", time=n)``.
    """
    if not (math.isfinite(horizon_days) and horizon_days >= 0):
        raise ValueError("horizon_days must be finite and >= 0")
    if not (math.isfinite(annual_discount_rate) and annual_discount_rate > -1):
        raise ValueError("annual_discount_rate must be finite and > -1")
    if not (math.isfinite(step_days) and step_days > 0):
        raise ValueError("step_days must be finite and > 0")
    xx, tt, TT, sp = score_inputs(x, t_x, T, spend_per_purchase)
    check_score_rft(xx, tt, TT)
    if (~np.isfinite(sp)).any():
        raise ValueError("spend_per_purchase contains NaN/infinite values")
    if horizon_days == 0:
        return np.zeros(xx.shape)
    n_steps = math.ceil(horizon_days / step_days - 1e-9)
    edges = np.minimum(np.arange(1, n_steps + 1) * step_days, horizon_days)
    d = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
    disc = (1.0 + d) ** (-edges / step_days)
    pa = special.expit(-log_odds_dead(bgnbd, xx, tt, TT))
    S_p, inv = alive_expectation_pairs(bgnbd, xx, TT, edges)  # (pairs, n_steps)
    per_pair = np.einsum("ij,j->i", np.diff(S_p, axis=1, prepend=0.0), disc)
    return np.asarray(margin_rate * sp * pa * per_pair[inv].reshape(xx.shape), dtype=np.float64)
