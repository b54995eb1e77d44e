"""Why a CLV fit failed: :class:`ClvFitError` and its statuses (:data:`FIT_FAILURES`)."""

from __future__ import annotations

from typing import Any

#: Why a fit failed (:attr:`ClvFitError.status`). ``invalid_input`` is a caller's bug (NaN,
#: negative or inconsistent summaries); the other three are properties of the data.
FIT_FAILURES = ("invalid_input", "insufficient_data", "not_converged", "degenerate")


class ClvFitError(ValueError):
    """A CLV model could not be fitted; the message names the cause (bad input, too few
    customers or repeat buyers, no convergence, degenerate parameters).

    ``status`` is one of :data:`FIT_FAILURES`; ``facts`` holds the numbers behind the failure
    (e.g. ``customers``, ``repeat_buyers`` and the threshold they missed, ``iterations``, the
    parameters that ran to a bound) so that a caller can explain it in its own words.
    """

    def __init__(self, message: str, status: str = "invalid_input", facts: dict[str, Any] | None = None) -> None:
        if status not in FIT_FAILURES:
            raise ValueError(f"unknown fit failure status {status!r}")
        super().__init__(message)
        self.status = status
        self.facts: dict[str, Any] = dict(facts or {})
