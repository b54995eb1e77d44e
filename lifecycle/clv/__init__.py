"""Customer-lifetime-value mathematics: BG/NBD, Gamma-Gamma and discounted CLV (numpy/scipy only).

The numerical core behind the CLV marts; a pure library: no dbt, no I/O. One module per model and
one per shared concern:

* :mod:`~lifecycle.clv.bgnbd`: the BG/NBD purchase model (Fader, Hardie & Lee 2005): likelihood,
  fit, standard errors, p_alive, expected purchases, time to the next purchase.
* :mod:`~lifecycle.clv.series`: the all-positive series of the BG/NBD conditional expectation
  (exact head, Euler-Maclaurin tail).
* :mod:`~lifecycle.clv.gamma_gamma`: the Gamma-Gamma spend model (Fader, Hardie & Lee 2005 "RFM
  and CLV"): mean spend per repeat purchase of customers with ``x >= 1``.
* :mod:`~lifecycle.clv.value`: CLV = margin x expected spend per purchase x discounted expected
  purchases over a horizon.
* :mod:`~lifecycle.clv.fitting`: the optimiser (L-BFGS-B on log-parameters) every model uses.
* :mod:`~lifecycle.clv.inputs`: input checks and pattern helpers; :mod:`~lifecycle.clv.errors`:
  :class:`ClvFitError`; :mod:`~lifecycle.clv.summary`: the RFM summary of a transaction log;
  :mod:`~lifecycle.clv.simulate`: simulated summaries.

* :mod:`~lifecycle.clv.pareto_nbd`: the Pareto/NBD purchase model (Schmittlein, Morrison &
  Colombo 1987; FHL 2005 note): likelihood (stable for thousands of purchases and huge tenures),
  fit, standard errors, p_alive (one-time buyers fade), expected purchases.

* :mod:`~lifecycle.clv.mbgnbd`: MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where a
  customer may also drop out after her first purchase; same layout, BG/NBD's series at ``b + 1``.
* :mod:`~lifecycle.clv.models`: the three purchase models behind one interface
  (``PURCHASE_MODELS``), which the marts, the model choice and the intervals use.
* :mod:`~lifecycle.clv.counts`: the probability of exactly n purchases in a period, unconditional
  and given a customer's history, for the three models.
* :mod:`~lifecycle.clv.intervals`: per-customer prediction intervals of purchases and CLV
  (parameter draws from the asymptotic normal, exact posterior simulation of the count).

A new purchase model is a new module beside ``bgnbd.py``: its fit result, its likelihood and
``fit_*`` built on :func:`~lifecycle.clv.fitting.minimise` and the checks of
:mod:`~lifecycle.clv.inputs`, and its scoring functions.

Public API (all scoring functions are vectorised and broadcast their array arguments)::

    fit_bgnbd(frequency, recency, T, *, weights=None, penalizer=0.0, min_customers=30,
              min_repeat_buyers=10, min_repeat_share=0.01, max_iter=2000) -> BgNbdFit
    bgnbd_log_likelihood(params, frequency, recency, T, weights=None, *, gradient=False)
    bgnbd_standard_errors(fit, frequency, recency, T, weights=None) -> dict[str, float]
    p_alive(fit, x, t_x, T) -> ndarray
    expected_purchases(fit, t, x, t_x, T) -> ndarray
    expected_purchases_unconditional(fit, t) -> ndarray
    expected_next_purchase_days(fit, x, t_x, T, *, quantile=0.5, min_p_alive=None) -> ndarray
    fit_gamma_gamma(frequency, monetary_value, *, weights=None, penalizer=0.0,
                    min_customers=10, max_iter=2000) -> GammaGammaFit
    gamma_gamma_log_likelihood(params, frequency, monetary_value, weights=None, *, gradient=False)
    conditional_expected_spend(fit, x, m) -> ndarray
    discounted_value(bgnbd, x, t_x, T, spend_per_purchase, horizon_days, annual_discount_rate,
                     margin_rate=1.0, *, step_days=365.25/12) -> ndarray
    simulate_bgnbd(n_customers, *, r, alpha, a, b, T, seed=None, integer_days=False)
    simulate_gamma_gamma(frequency, *, p, q, gamma, seed=None) -> ndarray
    summary_from_transactions(customer_ids, dates, observation_end, *, amounts=None,
                              observation_start=None, time_unit_days=1.0) -> RfmSummary

Weighted sums avoid BLAS (``einsum``, :func:`lifecycle.clv.inputs.dot`): threaded OpenBLAS
``ddot`` made fits 10-50x slower on a shared CPU.
"""

from __future__ import annotations

from lifecycle.clv.bgnbd import (
    BgNbdFit,
    bgnbd_log_likelihood,
    bgnbd_standard_errors,
    expected_next_purchase_days,
    expected_purchases,
    expected_purchases_unconditional,
    fit_bgnbd,
    p_alive,
)
from lifecycle.clv.errors import FIT_FAILURES, ClvFitError
from lifecycle.clv.gamma_gamma import (
    GammaGammaFit,
    conditional_expected_spend,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from lifecycle.clv.inputs import FloatArray
from lifecycle.clv.simulate import simulate_bgnbd, simulate_gamma_gamma
from lifecycle.clv.summary import RfmSummary, summary_from_transactions
from lifecycle.clv.value import DAYS_PER_MONTH, discounted_value

__all__ = [
    "DAYS_PER_MONTH",
    "FIT_FAILURES",
    "BgNbdFit",
    "ClvFitError",
    "FloatArray",
    "GammaGammaFit",
    "RfmSummary",
    "bgnbd_log_likelihood",
    "bgnbd_standard_errors",
    "conditional_expected_spend",
    "discounted_value",
    "expected_next_purchase_days",
    "expected_purchases",
    "expected_purchases_unconditional",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "p_alive",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
    "summary_from_transactions",
]
