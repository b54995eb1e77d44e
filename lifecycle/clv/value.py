"""CLV = margin x expected spend per purchase x discounted expected purchases over a horizon."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lifecycle.clv.inputs import FloatArray, check_score_rft, score_inputs
from lifecycle.clv.models import PurchaseModel, model_of

#: Days per "month" step in :func:`discounted_value` (a Julian year / 12).
DAYS_PER_MONTH = 365.25 / 12.0


def discount_steps(
    horizon_days: float, annual_discount_rate: float, step_days: float = DAYS_PER_MONTH
) -> tuple[FloatArray, FloatArray]:
    """The step ends ``t_i = min(i · step_days, horizon_days)``, ``i = 1..ceil(horizon/step)``, and
    their discount factors ``(1 + d)^(−t_i / step_days)``, ``d = (1 + annual)^(1/12) − 1``."""
    if not (math.isfinite(horizon_days) and horizon_days >= 0):
        raise ValueError("horizon_days must be finite and >= 0")
    if not (math.isfinite(annual_discount_rate) and annual_discount_rate > -1):
        raise ValueError("annual_discount_rate must be finite and > -1")
    if not (math.isfinite(step_days) and step_days > 0):
        raise ValueError("step_days must be finite and > 0")
    n_steps = math.ceil(horizon_days / step_days - 1e-9) if horizon_days > 0 else 0
    edges = np.minimum(np.arange(1, n_steps + 1) * step_days, horizon_days)
    d = (1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0
    return edges, (1.0 + d) ** (-edges / step_days)


def discounted_purchases(
    model: PurchaseModel,
    fit: Any,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    horizon_days: float,
    annual_discount_rate: float,
    *,
    step_days: float = DAYS_PER_MONTH,
    p_alive_now: ArrayLike | None = None,
) -> FloatArray:
    """Discounted expected purchases over ``horizon_days`` of any purchase model (fit in days):
    ``P(alive) · Σ_i (A[t_i] − A[t_{i−1}]) (1 + d)^(−t_i / step_days)`` on the steps of
    :func:`discount_steps`, ``A`` the expectation given alive (``model.alive_expectation``).
    ``p_alive_now`` skips recomputing p_alive when the caller has it."""
    edges, disc = discount_steps(horizon_days, annual_discount_rate, step_days)
    xx, tt, TT = score_inputs(x, t_x, T)
    check_score_rft(xx, tt, TT)
    if edges.shape[0] == 0:
        return np.zeros(xx.shape)
    pa = model.p_alive(fit, xx, tt, TT) if p_alive_now is None else np.asarray(p_alive_now, dtype=np.float64)
    A = model.alive_expectation(fit, xx, TT, edges)  # (customers, steps)
    per = np.einsum("ij,j->i", np.diff(A, axis=1, prepend=0.0), disc).reshape(xx.shape)
    return np.asarray(pa * per, dtype=np.float64)


def discounted_value(
    fit: Any,
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
    """Discounted expected value over ``horizon_days`` of a purchase-model fit (in days).

    The horizon is cut into steps of ``step_days`` (default a Julian month, 365.25/12 =
    30.4375 days); the last step is partial when the horizon is not a whole number of steps.
    With ``t_i = min(i · step_days, horizon_days)``, ``i = 1..ceil(horizon/step)``::

        CLV = margin · spend · Σ_i (E[t_i] − E[t_{i−1}]) / (1 + d)^(t_i / step_days),
        d = (1 + annual_discount_rate)^(1/12) − 1      (monthly rate),

    where ``E[t]`` is the model's conditional expected purchases. Each step's purchases are
    discounted at the step's end (a partial last step at its fractional end). With the default step
    this equals discounting at ``(1 + annual)^(−t_i / 365.25)``. ``step_days=30`` with a monthly
    ``d`` and a horizon of 30·n days reproduces ``lifetimes``' ``customer_lifetime_value(freq="D",
    time=n)``.
    """
    xx, tt, TT, sp = score_inputs(x, t_x, T, spend_per_purchase)
    if (~np.isfinite(sp)).any():
        raise ValueError("spend_per_purchase contains NaN/infinite values")
    purchases = discounted_purchases(
        model_of(fit), fit, xx, tt, TT, horizon_days, annual_discount_rate, step_days=step_days
    )
    return np.asarray(margin_rate * sp * purchases, dtype=np.float64)
