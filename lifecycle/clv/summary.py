"""The per-customer RFM summary of a transaction log (distinct purchase days)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lifecycle.clv.inputs import FloatArray


@dataclass(frozen=True)
class RfmSummary:
    """Per-customer RFM summary built from distinct purchase days (see
    :func:`summary_from_transactions`)."""

    customer_id: NDArray[Any]
    frequency: NDArray[np.int64]
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray | None


def _to_day_numbers(name: str, values: ArrayLike) -> NDArray[np.int64]:
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64) or arr.dtype.kind in "OUS":
        try:
            days = arr.astype("datetime64[D]")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} cannot be converted to dates: {exc}") from exc
        if np.isnat(days).any():
            raise ValueError(f"{name} contains missing dates")
        return days.astype(np.int64)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        if (~np.isfinite(arr)).any() or (arr != np.floor(arr)).any():
            raise ValueError(f"{name} must be whole day numbers")
        return arr.astype(np.int64)
    raise ValueError(f"{name} must be datetime64 values, date strings or integer day numbers")


def summary_from_transactions(
    customer_ids: ArrayLike,
    dates: ArrayLike,
    observation_end: Any,
    *,
    amounts: ArrayLike | None = None,
    observation_start: Any | None = None,
    time_unit_days: float = 1.0,
) -> RfmSummary:
    """RFM summary from a transaction log using *distinct purchase days*.

    Transactions after ``observation_end`` (and before ``observation_start`` if given) are ignored.
    Per customer with at least one purchase day in the window: ``frequency`` = distinct days − 1,
    ``recency`` = last day − first day, ``T`` = observation_end − first day, all divided by
    ``time_unit_days`` (7 for weeks). ``monetary_value`` (if ``amounts`` is given) is the mean of
    the per-day spend totals over the repeat days (first day excluded), 0 for one-time buyers.
    Dates are ``datetime64`` (any resolution, floored to the day), ISO strings or integer day
    numbers; ``observation_end`` uses the same convention.
    """
    cid = np.asarray(customer_ids)
    days = _to_day_numbers("dates", dates)
    if cid.shape != days.shape or cid.ndim != 1:
        raise ValueError("customer_ids and dates must be one-dimensional and of equal length")
    end = int(_to_day_numbers("observation_end", np.asarray([observation_end]))[0])
    keep = days <= end
    if observation_start is not None:
        keep &= days >= int(_to_day_numbers("observation_start", np.asarray([observation_start]))[0])
    amt = None
    if amounts is not None:
        amt = np.asarray(amounts, dtype=np.float64)
        if amt.shape != days.shape or (~np.isfinite(amt)).any():
            raise ValueError("amounts must be finite and match dates in length")
        amt = amt[keep]
    cid, days = cid[keep], days[keep]
    ucid, cinv = np.unique(cid, return_inverse=True)
    cinv = cinv.reshape(-1)
    order = np.lexsort((days, cinv))
    c_s, d_s = cinv[order], days[order]
    new = np.ones(c_s.shape[0], dtype=bool)
    new[1:] = (c_s[1:] != c_s[:-1]) | (d_s[1:] != d_s[:-1])
    starts = np.flatnonzero(new)
    pc, pd = c_s[starts], d_s[starts]  # distinct (customer, day), sorted by customer then day
    n_c = ucid.shape[0]
    n_days = np.bincount(pc, minlength=n_c)
    first = np.full(n_c, np.iinfo(np.int64).max)
    last = np.full(n_c, np.iinfo(np.int64).min)
    np.minimum.at(first, pc, pd)
    np.maximum.at(last, pc, pd)
    freq = (n_days - 1).astype(np.int64)
    rec = (last - first).astype(np.float64) / time_unit_days
    TT = (end - first).astype(np.float64) / time_unit_days
    mon: FloatArray | None = None
    if amt is not None:
        day_tot = np.add.reduceat(amt[order], starts) if starts.size else np.zeros(0)
        is_first = np.ones(pc.shape[0], dtype=bool)
        is_first[1:] = pc[1:] != pc[:-1]
        rep_sum = np.bincount(pc[~is_first], weights=day_tot[~is_first], minlength=n_c)
        with np.errstate(invalid="ignore", divide="ignore"):
            mon = np.where(freq > 0, rep_sum / np.maximum(freq, 1), 0.0)
    return RfmSummary(customer_id=ucid, frequency=freq, recency=rec, T=TT, monetary_value=mon)
