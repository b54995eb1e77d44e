"""Arrow building blocks: fast string columns (timestamps, money, ids), spellings, row edits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle import schema
from lifecycle.generate.scales import DAY, EPOCH, LATE_DAYS, LATE_SHARE
from lifecycle.generate.streams import Rng

Columns = dict[str, pa.Array | pa.ChunkedArray]
Spellings = tuple[tuple[tuple[str, ...], tuple[float, ...]], ...]

_LUT_BASE_DAY = (dt.date(2015, 1, 1) - EPOCH).days
_DATE_LUT = np.frombuffer(
    "".join(
        str(d) for d in np.arange(np.datetime64("2015-01-01"), np.datetime64("2032-01-01"), dtype="datetime64[D]")
    ).encode(),
    dtype=np.uint8,
).reshape(-1, 10)
_TOD_LUT = np.frombuffer(
    "".join(f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)).encode(),
    dtype=np.uint8,
).reshape(-1, 8)


def from_matrix(mat: np.ndarray, lengths: np.ndarray | None = None) -> pa.Array:
    """A string array from rows of ASCII bytes; with lengths, row i is mat[i, :lengths[i]]."""
    n, w = mat.shape
    if lengths is None:
        offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
        data = np.ascontiguousarray(mat).ravel()
    else:
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        data = mat[np.arange(w)[None, :] < lengths[:, None]]
    if offsets[-1] < 2**31 - 1:
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data))
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data)).cast(pa.string())


def ts_strings(seconds: np.ndarray, fmt: np.ndarray, offset_min: np.ndarray | int) -> pa.Array:
    """UTC epoch seconds as raw timestamp strings.

    fmt 0: '2025-03-04T10:11:12Z'; 1: local time with its offset '2025-03-04 11:11:12+01:00';
    2: naive UTC '2025-03-04 10:11:12'.
    """
    seconds = np.asarray(seconds, dtype=np.int64)
    n = seconds.size
    fmt = np.broadcast_to(np.asarray(fmt, dtype=np.int8), (n,))
    off = np.broadcast_to(np.asarray(offset_min, dtype=np.int64), (n,))
    local = seconds + np.where(fmt == 1, off * 60, 0)
    days = local // DAY - _LUT_BASE_DAY
    days = np.clip(days, 0, len(_DATE_LUT) - 1)
    mat = np.empty((n, 25), dtype=np.uint8)
    mat[:, :10] = _DATE_LUT[days]
    mat[:, 10] = np.where(fmt == 0, ord("T"), ord(" "))
    mat[:, 11:19] = _TOD_LUT[local % DAY]
    mat[:, 19] = np.where(fmt == 0, ord("Z"), np.where(off < 0, ord("-"), ord("+")))
    a = np.abs(off)
    mat[:, 20:22] = _TOD_LUT[(a // 60) * 3600][:, 0:2]
    mat[:, 22] = ord(":")
    mat[:, 23:25] = _TOD_LUT[(a % 60) * 60][:, 3:5]
    lengths = np.array([20, 25, 19], dtype=np.int64)[fmt]
    if n == 0 or (lengths == lengths[0]).all():
        return from_matrix(np.ascontiguousarray(mat[:, : int(lengths[0]) if n else 19]))
    return from_matrix(mat, lengths)


def money_strings(cents: np.ndarray) -> pa.Array:
    """Non-negative integer cents as '1234.50'."""
    cents = np.asarray(cents, dtype=np.int64)
    whole = pc.cast(pa.array(cents // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), 2, "0")
    return pc.binary_join_element_wise(whole, frac, ".")


def id_strings(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """'C0000123'-style identifiers: a prefix and zero-padded numbers."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def row_numbers(chunk: int, n: int) -> np.ndarray:
    """Numbers 1..n of a chunk's orders, tickets, reviews, ...: ids stay unique across chunks."""
    return chunk * 100_000_000 + 1 + np.arange(n)


def row_ids(prefix: str, chunk: int, n: int) -> pa.Array:
    """'TK0000000001'-style ids of a chunk's n rows of a table."""
    return id_strings(prefix, row_numbers(chunk, n), 10)


def with_nulls(arr: pa.Array, null_mask: np.ndarray) -> pa.Array:
    if not null_mask.any():
        return arr
    return pc.if_else(pa.array(null_mask), pa.scalar(None, type=arr.type), arr)


def spellings(rng: Rng, cls: np.ndarray, variants: Spellings) -> pa.Array:
    """Per row, a raw spelling of its class drawn from that class's variants."""
    vocab: list[str] = []
    idx = np.zeros(cls.size, dtype=np.int64)
    u = rng.random(cls.size)
    for k, (names, probs) in enumerate(variants):
        pick = np.minimum(np.searchsorted(np.cumsum(probs) / sum(probs), u, side="right"), len(names) - 1)
        idx = np.where(cls == k, len(vocab) + pick, idx)
        vocab.extend(names)
    return pa.array(vocab, pa.string()).take(idx)


def loaded_us(rng: Rng, event_s: np.ndarray, *, min_delay: float = 600.0, late: bool = False) -> np.ndarray:
    """When each row landed: a little after its event (minutes to about a day), in microseconds.

    late: a share LATE_SHARE of the rows (event and order feeds) lands LATE_DAYS later still.
    """
    n = event_s.size
    delay = np.minimum(min_delay + rng.gamma(2.0, 2.5 * 3600.0, n), 30 * 3600.0).astype(np.int64)
    if late:
        extra = rng.uniform(LATE_DAYS[0] * DAY, LATE_DAYS[1] * DAY, n).astype(np.int64)
        delay += np.where(rng.random(n) < LATE_SHARE, extra, 0)
    return (event_s + delay) * 1_000_000 + rng.integers(0, 1_000_000, n)


def ts_array(us: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(us, dtype=np.int64).astype("datetime64[us]"), type=schema.TS)


def email_variant(emails: pa.Array, kind: np.ndarray) -> pa.Array:
    """The same addresses spelled differently: 0 capitalised, 1 upper case, 2 padded, 3 both."""
    cap = pc.utf8_capitalize(emails)
    upper = pc.utf8_upper(emails)
    padded = pc.binary_join_element_wise(" ", emails, "  ", "")
    padded_cap = pc.binary_join_element_wise("  ", cap, " ", "")
    return pc.choose(pa.array(kind.astype(np.int8)), cap, upper, padded, padded_cap)


def replace_rows(arr: pa.Array, rows: np.ndarray, values: pa.Array | Sequence[Any]) -> pa.Array:
    """arr with arr[rows[i]] = values[i]."""
    if len(rows) == 0:
        return arr
    order = np.argsort(rows, kind="stable")
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows] = True
    vals = values if isinstance(values, pa.Array) else pa.array(list(values), type=arr.type)
    return pc.replace_with_mask(arr, pa.array(mask), vals.cast(arr.type).take(order))


def pick(rng: Rng, options: Sequence[Any], n: int) -> list[Any]:
    return [options[i] for i in rng.integers(0, len(options), n)]


def flat(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def arrow_int(values: Sequence[int | None]) -> pa.Array:
    return pa.array(list(values), type=pa.int32())


def ascii_name(s: str) -> str:
    """Email-safe spelling of a name."""
    table = str.maketrans({"é": "e", "è": "e", "ê": "e", "ü": "ue", "ö": "oe", "ä": "ae", "ô": "o", "ç": "c"})
    return s.translate(table)
