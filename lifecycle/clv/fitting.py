"""What every CLV model is fitted with: the penalizer check, L-BFGS-B on the log-parameters (one
restart) and the test for parameters that ran to the optimiser's box."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from lifecycle.clv.errors import ClvFitError
from lifecycle.clv.inputs import FloatArray

# Optimiser box on the log-parameters (internal, time-scaled units). A solution within
# ``DEGENERATE_MARGIN`` of the box is reported as degenerate.
LOG_BOUND = 20.0
DEGENERATE_MARGIN = 0.5
# Gradient threshold (mean log-likelihood per customer, log-parameters) accepted as converged
# when L-BFGS-B stops on a line-search/precision condition.
_GRAD_ACCEPT = 1e-5


def check_penalizer(penalizer: float) -> None:
    """The L2 penalty of a fit must be finite and >= 0 (:class:`ClvFitError` otherwise)."""
    if not math.isfinite(penalizer) or penalizer < 0:
        raise ClvFitError(f"penalizer must be finite and >= 0, got {penalizer}")


def near_bound(theta: FloatArray) -> NDArray[np.bool_]:
    """Which log-parameters lie within ``DEGENERATE_MARGIN`` of the optimiser's box (degenerate,
    except for the limits each model accepts: the homogeneous dropout of BG/NBD, b -> inf, and
    the homogeneous spend rate of Gamma-Gamma, q, γ -> inf)."""
    return np.abs(theta) > LOG_BOUND - DEGENERATE_MARGIN


def minimise(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    theta0: FloatArray,
    max_iter: int,
    what: str,
) -> tuple[FloatArray, int, str]:
    """L-BFGS-B with one restart; returns (theta, iterations, message).

    Raises :class:`ClvFitError` (``not_converged``) when the likelihood becomes non-finite or the
    optimiser does not converge; ``what`` names the model in the message.
    """
    bounds = [(-LOG_BOUND, LOG_BOUND)] * theta0.shape[0]
    opts = {"maxiter": max_iter, "maxcor": 20, "ftol": 1e-15, "gtol": 1e-10}
    theta = theta0
    iterations = 0
    message = ""
    for _attempt in range(2):
        with np.errstate(all="ignore"):
            res = optimize.minimize(objective, theta, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
        iterations += int(res.nit)
        theta = np.asarray(res.x, dtype=np.float64)
        fun, grad = objective(theta)
        if not np.isfinite(fun) or not np.all(np.isfinite(grad)):
            raise ClvFitError(
                f"{what}: the likelihood became non-finite during optimisation ({res.message})",
                "not_converged",
                {"iterations": iterations},
            )
        # Projected gradient (components pushing against an active bound do not count).
        proj = grad.copy()
        at_lo = (theta <= -LOG_BOUND + 1e-12) & (grad > 0)
        at_hi = (theta >= LOG_BOUND - 1e-12) & (grad < 0)
        proj[at_lo | at_hi] = 0.0
        gmax = float(np.max(np.abs(proj)))
        message = f"{res.message} (|grad|max={gmax:.2e}, {iterations} iterations)"
        if res.success or gmax <= _GRAD_ACCEPT:
            return theta, iterations, message
    raise ClvFitError(f"{what} optimiser did not converge: {message}", "not_converged", {"iterations": iterations})


def check_purchase_data(
    what: str,
    x: FloatArray,
    T: FloatArray,
    w: FloatArray,
    *,
    min_customers: int,
    min_repeat_buyers: int,
    min_repeat_share: float = 0.0,
) -> float:
    """The data-sufficiency rules every purchase model (BG/NBD, MBG/NBD, Pareto/NBD) fits under:
    :class:`ClvFitError` (``insufficient_data``, with the facts :mod:`lifecycle.clv_status` words)
    when they fail; the number of customers (total weight) otherwise."""
    n_total = float(w.sum())
    if n_total < min_customers:
        raise ClvFitError(
            f"too few customers to fit {what}: {n_total:g} < min_customers={min_customers}",
            "insufficient_data",
            {"customers": n_total, "min_customers": min_customers},
        )
    n_rep = float(w[x > 0].sum())
    if n_rep < min_repeat_buyers or n_rep < min_repeat_share * n_total:
        share = f" and {100.0 * min_repeat_share:g}%" if min_repeat_share > 0 else ""
        raise ClvFitError(
            f"too few repeat buyers to fit {what}: {n_rep:g} of {n_total:g} customers "
            f"({100.0 * n_rep / n_total:.2f}%) have frequency > 0; need at least {min_repeat_buyers}{share}",
            "insufficient_data",
            {
                "customers": n_total,
                "repeat_buyers": n_rep,
                "min_repeat_buyers": min_repeat_buyers,
                "min_repeat_share": min_repeat_share,
            },
        )
    if float((w * T).sum()) <= 0:
        raise ClvFitError(
            "all customers have T = 0: no observation time to fit on", "insufficient_data", {"customers": n_total}
        )
    return n_total


def log_covariance(log_gradient: Callable[[FloatArray], FloatArray], theta: FloatArray, what: str) -> FloatArray:
    """Asymptotic covariance of the log-parameters ``theta`` from the observed information: the
    Hessian of the log-likelihood by central differences of its gradient ``log_gradient``
    (d ll / d theta), symmetrised and inverted (:class:`ClvFitError` when singular)."""
    k = theta.shape[0]
    h = 1e-5
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        H[:, i] = (log_gradient(theta + e) - log_gradient(theta - e)) / (2 * h)
    H = 0.5 * (H + H.T)
    try:
        cov = np.linalg.inv(-H)
    except np.linalg.LinAlgError as exc:
        raise ClvFitError(f"{what} information matrix is singular; no standard errors ({exc})") from exc
    return np.asarray(0.5 * (cov + cov.T), dtype=np.float64)


def standard_errors_from_covariance(theta: FloatArray, cov: FloatArray, names: tuple[str, ...]) -> dict[str, float]:
    """Standard errors of the parameters ``exp(theta)`` by the delta method (``se(θ) = θ · se(log θ)``)."""
    se = np.exp(theta) * np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return dict(zip(names, (float(v) for v in se), strict=True))


def standard_errors(
    log_gradient: Callable[[FloatArray], FloatArray], theta: FloatArray, names: tuple[str, ...], what: str
) -> dict[str, float]:
    """Asymptotic standard errors from the observed information (:func:`log_covariance`), mapped
    back by the delta method."""
    return standard_errors_from_covariance(theta, log_covariance(log_gradient, theta, what), names)


def raise_if_at_bound(
    what: str,
    names: tuple[str, ...],
    params: FloatArray,
    near: NDArray[np.bool_],
    rate_indices: tuple[int, ...],
    scale: float,
    iterations: int,
) -> None:
    """:class:`ClvFitError` (``degenerate``) naming the parameters flagged in ``near`` and their
    values in the caller's time unit (``rate_indices``: the parameters fitted in units of ``scale``)."""
    if not near.any():
        return
    at_bound = {names[i]: float(params[i] * (scale if i in rate_indices else 1.0)) for i in np.flatnonzero(near)}
    which = ", ".join(f"{k}={v:.4g}" for k, v in at_bound.items())
    raise ClvFitError(
        f"{what} fit is degenerate: parameter(s) {which} ran to the boundary (the data does not pin it down)",
        "degenerate",
        {"at_bound": at_bound, "iterations": iterations},
    )


def check_finite_log_likelihood(what: str, log_likelihood: float, iterations: int) -> None:
    """:class:`ClvFitError` (``degenerate``) when the log-likelihood at the solution is not finite."""
    if not math.isfinite(log_likelihood):
        raise ClvFitError(
            f"{what} log-likelihood is not finite at the solution", "degenerate", {"iterations": iterations}
        )
