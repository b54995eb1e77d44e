"""Input checks and array helpers shared by the CLV models (RFM summaries, weights, patterns)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lifecycle.clv.errors import ClvFitError

FloatArray = NDArray[np.float64]


def dot(a: FloatArray, b: FloatArray) -> float:
    """Σ a·b without BLAS: OpenBLAS threads ``ddot``/``dgemv`` on long vectors, which costs
    milliseconds of thread hand-off per call (10-50x slower fits) when the CPU is shared."""
    return float(np.einsum("i,i->", a, b))


def as_1d(name: str, values: ArrayLike, error: type[ValueError] = ClvFitError) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise error(f"{name} must be numeric: {exc}") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise error(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def check_rft(x: FloatArray, t_x: FloatArray, T: FloatArray, error: type[ValueError] = ClvFitError) -> None:
    """Validate (frequency, recency, T) arrays of equal shape."""
    if not (x.shape == t_x.shape == T.shape):
        raise error(f"frequency, recency and T must have the same shape: {x.shape}, {t_x.shape}, {T.shape}")
    for name, arr in (("frequency", x), ("recency", t_x), ("T", T)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise error(f"{name} contains {int(bad.sum())} NaN/infinite value(s)")
        if (arr < 0).any():
            raise error(f"{name} contains {int((arr < 0).sum())} negative value(s)")
    if (x != np.round(x)).any():
        raise error("frequency must be integer-valued (number of repeat purchase days)")
    over = t_x > T
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise error(f"recency exceeds T for {int(over.sum())} customer(s) (first: recency={t_x[i]}, T={T[i]})")
    zero_rec = (x == 0) & (t_x != 0)
    if zero_rec.any():
        raise error(f"recency must be 0 when frequency is 0 ({int(zero_rec.sum())} customer(s) violate it)")


def check_weights(weights: ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n)
    w = as_1d("weights", weights)
    if w.shape != (n,):
        raise ClvFitError(f"weights must have shape ({n},), got {w.shape}")
    if (~np.isfinite(w)).any() or (w < 0).any():
        raise ClvFitError("weights must be finite and non-negative")
    return w


def codes(values: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
    uniq, inv = np.unique(values, return_inverse=True)
    return uniq, inv.reshape(-1)


def distinct_patterns(columns: list[FloatArray], weights: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Distinct rows of the given columns with summed weights (rows with weight 0 dropped)."""
    keep = weights > 0
    cols = [c[keep] for c in columns]
    w = weights[keep]
    key = np.zeros(w.shape[0], dtype=np.int64)
    uniques: list[FloatArray] = []
    for c in cols:
        u, inv = codes(c)
        uniques.append(u)
        key = key * np.int64(u.shape[0]) + inv
    ukey, first, inv = np.unique(key, return_index=True, return_inverse=True)
    wsum = np.bincount(inv.reshape(-1), weights=w, minlength=ukey.shape[0])
    return [c[first] for c in cols], wsum


def score_inputs(*arrays: ArrayLike) -> tuple[FloatArray, ...]:
    out = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays))
    return tuple(np.array(o, dtype=np.float64) for o in out)


def check_score_rft(x: FloatArray, t_x: FloatArray, T: FloatArray) -> None:
    check_rft(x.reshape(-1), t_x.reshape(-1), T.reshape(-1), error=ValueError)


def rising_sums(terms: FloatArray, x_int: NDArray[np.intp]) -> FloatArray:
    """``Σ_{k<x} terms[k]`` for each ``x`` of ``x_int`` (0 for x = 0): prefix sums of the terms.

    With ``terms[k] = ln((r+k)/α)`` this is ``lnΓ(r+x) − lnΓ(r) − x ln α`` without the
    cancellation of two large ``lnΓ`` values (x is an integer count of repeat purchases)."""
    prefix = np.concatenate([np.zeros(1), np.cumsum(terms)])
    return prefix[x_int]
