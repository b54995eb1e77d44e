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
            res = optimize.minimize(
                objective, theta, jac=True, method="L-BFGS-B", bounds=bounds, options=opts
            )
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
