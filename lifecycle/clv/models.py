"""The purchase models, once: BG/NBD, MBG/NBD and Pareto/NBD behind one interface.

Everything that treats the three alike (the model choice, the marts, the intervals, the
calibration) goes through :data:`PURCHASE_MODELS`, so a model is added here and nowhere else.
Each model gives, for a customer with ``x`` repeat purchases, last at ``t_x``, observed to ``T``:

* ``p_alive(fit, x, t_x, T)``: the probability she is still a customer at ``T``;
* ``alive_expectation(fit, x, T, t)``: expected purchases in ``(T, T+t]`` *given* she is alive
  at ``T`` (a matrix: customers x horizons ``t``), so that
  ``expected purchases = p_alive · alive_expectation`` and the discounted value needs p_alive once;
* ``log_covariance``: the asymptotic covariance of the log-parameters (observed information).

Given alive at ``T`` the posterior of the individual rates is conjugate in all three models
(used by :mod:`lifecycle.clv.intervals`): ``λ ~ Gamma(r+x, α+T)``; BG/NBD's dropout
``p ~ Beta(a, b+x)``, MBG/NBD's ``p ~ Beta(a, b+x+1)``; Pareto/NBD's dropout rate
``μ ~ Gamma(s, β+T)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lifecycle.clv import counts
from lifecycle.clv.bgnbd import (
    BgNbdFit,
    alive_expectation_pairs,
    bgnbd_log_covariance,
    fit_bgnbd,
    p_alive,
)
from lifecycle.clv.fitting import standard_errors_from_covariance
from lifecycle.clv.inputs import FloatArray, check_score_rft, score_inputs
from lifecycle.clv.mbgnbd import MbgNbdFit, fit_mbgnbd, mbgnbd_log_covariance, mbgnbd_p_alive
from lifecycle.clv.pareto_nbd import (
    ParetoNbdFit,
    fit_pareto_nbd,
    pareto_nbd_log_covariance,
    pareto_nbd_p_alive,
)

PurchaseFit = BgNbdFit | MbgNbdFit | ParetoNbdFit


def _bg_alive_expectation(fit: Any, x: FloatArray, T: FloatArray, t: FloatArray) -> FloatArray:
    S, inv = alive_expectation_pairs(fit, x, T, t)
    return np.asarray(S[inv], dtype=np.float64)


def _mbg_alive_expectation(fit: Any, x: FloatArray, T: FloatArray, t: FloatArray) -> FloatArray:
    # MBG/NBD's conditional expectation is BG/NBD's series at b + 1 (lifecycle.clv.mbgnbd).
    shifted = BgNbdFit(fit.r, fit.alpha, fit.a, fit.b + 1.0, 0.0, 0, 0, True, 0, 0.0, "")
    return _bg_alive_expectation(shifted, x, T, t)


def _pareto_alive_expectation(fit: Any, x: FloatArray, T: FloatArray, t: FloatArray) -> FloatArray:
    # (r+x)(β+T)/((α+T)(s−1)) [1 − ((β+T)/(β+T+t))^(s−1)]  (FHL 2005 note, equation 22, over p_alive)
    rate = ((fit.r + x) * (fit.beta + T) / (fit.alpha + T))[:, None]
    log_ratio = np.log1p(t[None, :] / (fit.beta + T)[:, None])
    if abs(fit.s - 1.0) < 1e-12:
        return np.asarray(rate * log_ratio, dtype=np.float64)
    return np.asarray(rate * -np.expm1(-(fit.s - 1.0) * log_ratio) / (fit.s - 1.0), dtype=np.float64)


@dataclass(frozen=True)
class PurchaseModel:
    """One purchase model: its name (the value of the dbt var ``clv_model``), label, parameter
    names and functions."""

    name: str
    label: str
    param_names: tuple[str, str, str, str]
    fit_type: type
    _fit: Callable[..., Any]
    _p_alive: Callable[..., FloatArray]
    _alive_expectation: Callable[[Any, FloatArray, FloatArray, FloatArray], FloatArray]
    _log_covariance: Callable[..., FloatArray]
    #: Whether a one-time buyer can have dropped out (BG/NBD: no, her p_alive is 1 by construction).
    one_time_buyers_can_drop_out: bool
    #: ``ln P(n purchases in (T, T+t] | alive at T)`` for 1-D ``(n, t, x, T)`` (:mod:`lifecycle.clv.counts`).
    _alive_log_pmf: Callable[[Any, FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]

    def fit(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, **kwargs: Any) -> Any:
        return self._fit(x, t_x, T, **kwargs)

    def params(self, fit: Any) -> dict[str, float]:
        return {name: float(getattr(fit, name)) for name in self.param_names}

    def log_params(self, fit: Any) -> FloatArray:
        return np.log(np.array([getattr(fit, name) for name in self.param_names], dtype=np.float64))

    def make_fit(
        self,
        params: dict[str, float],
        *,
        log_likelihood: float = 0.0,
        n_customers: int = 0,
        n_patterns: int = 0,
        iterations: int = 0,
        message: str = "given",
    ) -> Any:
        """A fit object from given parameter values (a stored fit, or one for a test)."""
        return self.fit_type(
            **{name: float(params[name]) for name in self.param_names},
            log_likelihood=log_likelihood,
            n_customers=n_customers,
            n_patterns=n_patterns,
            converged=True,
            iterations=iterations,
            fit_seconds=0.0,
            message=message,
        )

    def with_params(self, fit: Any, values: ArrayLike) -> Any:
        """A copy of ``fit`` with other parameter values (for sampling parameter uncertainty)."""
        v = np.asarray(values, dtype=np.float64)
        return self.fit_type(**{**fit.__dict__, **dict(zip(self.param_names, (float(e) for e in v), strict=True))})

    def p_alive(self, fit: Any, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
        return self._p_alive(fit, x, t_x, T)

    def alive_expectation(self, fit: Any, x: ArrayLike, T: ArrayLike, t: ArrayLike) -> FloatArray:
        """Expected purchases in ``(T, T+t]`` given alive at ``T``: shape (customers, len(t))."""
        xx, TT = (np.asarray(a, dtype=np.float64).reshape(-1) for a in np.broadcast_arrays(x, T))
        tt = np.atleast_1d(np.asarray(t, dtype=np.float64))
        if (~np.isfinite(tt)).any() or (tt < 0).any():
            raise ValueError("t must be finite and >= 0")
        return self._alive_expectation(fit, xx, TT, tt)

    def expected_purchases(self, fit: Any, t: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
        """Conditional expected purchases in ``(T, T+t]`` for one horizon ``t``."""
        xx, tx, TT = score_inputs(x, t_x, T)
        check_score_rft(xx, tx, TT)
        pa = self.p_alive(fit, xx, tx, TT)
        return np.asarray(pa * self.alive_expectation(fit, xx, TT, [t])[:, 0].reshape(xx.shape), dtype=np.float64)

    def log_covariance(self, fit: Any, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
        return self._log_covariance(fit, x, t_x, T)

    def standard_errors(self, fit: Any, cov: FloatArray) -> dict[str, float]:
        return standard_errors_from_covariance(self.log_params(fit), cov, self.param_names)

    def probability_of_purchases(self, fit: Any, n: ArrayLike, t: ArrayLike) -> FloatArray:
        """P(X(t) = n) for a new customer (repeat purchases in ``(0, t]``); ``n``, ``t`` broadcast
        (:mod:`lifecycle.clv.counts`)."""
        return counts.model_unconditional_pmf(self, fit, n, t)

    def conditional_probability_of_purchases(
        self, fit: Any, n: ArrayLike, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(exactly ``n`` purchases in ``(T, T+t]`` | x, t_x, T); all arguments broadcast."""
        return counts.model_conditional_pmf(self, fit, n, t, x, t_x, T)

    def conditional_probability_of_any_purchase(
        self, fit: Any, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """P(at least one purchase in ``(T, T+t]`` | x, t_x, T) = 1 − P(0), without cancellation."""
        return counts.model_any_purchase(self, fit, t, x, t_x, T)


PURCHASE_MODELS: dict[str, PurchaseModel] = {
    "bg_nbd": PurchaseModel(
        "bg_nbd",
        "BG/NBD",
        ("r", "alpha", "a", "b"),
        BgNbdFit,
        fit_bgnbd,
        p_alive,
        _bg_alive_expectation,
        bgnbd_log_covariance,
        one_time_buyers_can_drop_out=False,
        _alive_log_pmf=counts.bg_alive_log_pmf,
    ),
    "mbg_nbd": PurchaseModel(
        "mbg_nbd",
        "MBG/NBD",
        ("r", "alpha", "a", "b"),
        MbgNbdFit,
        fit_mbgnbd,
        mbgnbd_p_alive,
        _mbg_alive_expectation,
        mbgnbd_log_covariance,
        one_time_buyers_can_drop_out=True,
        _alive_log_pmf=counts.mbg_alive_log_pmf,
    ),
    "pareto_nbd": PurchaseModel(
        "pareto_nbd",
        "Pareto/NBD",
        ("r", "alpha", "s", "beta"),
        ParetoNbdFit,
        fit_pareto_nbd,
        pareto_nbd_p_alive,
        _pareto_alive_expectation,
        pareto_nbd_log_covariance,
        one_time_buyers_can_drop_out=True,
        _alive_log_pmf=counts.pareto_alive_log_pmf,
    ),
}


def model_of(fit: Any) -> PurchaseModel:
    """The :class:`PurchaseModel` of a fit object."""
    for model in PURCHASE_MODELS.values():
        if type(fit) is model.fit_type:
            return model
    raise TypeError(f"not a purchase-model fit: {type(fit).__name__}")
