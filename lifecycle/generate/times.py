"""When things happen: local times of day, the raw timestamp format mix, the data window."""

from __future__ import annotations

import numpy as np

from lifecycle.generate.retailer import ONLINE_HOURS, STORE_HOURS, TS_FORMAT_P
from lifecycle.generate.scales import DAY, END_EXCL_S, START_S
from lifecycle.generate.streams import Rng, choice


def time_of_day(rng: Rng, n: int, store: np.ndarray | bool) -> np.ndarray:
    """Local seconds of day: store opening hours or online activity hours."""
    online = choice(rng, n, ONLINE_HOURS)
    instore = choice(rng, n, STORE_HOURS)
    hour = np.where(store, instore, online)
    return hour * 3600 + rng.integers(0, 3600, n)


def ts_formats(rng: Rng, table: str, n: int) -> np.ndarray:
    """The raw timestamp format of each of n rows of a table (see :func:`arrays.ts_strings`)."""
    return choice(rng, n, TS_FORMAT_P[table]).astype(np.int8)


def clip_to_window(s: np.ndarray) -> np.ndarray:
    """Epoch seconds moved by a day where they fall just outside the data's window."""
    s = np.where(s >= END_EXCL_S, s - DAY, s)
    return np.where(s < START_S, s + DAY, s)


def in_time_order(s: np.ndarray, *columns: np.ndarray, keep: np.ndarray | None = None) -> list[np.ndarray]:
    """Times s and the columns of the same rows (only the kept ones), ordered by time (ties stay)."""
    if keep is not None:
        s, columns = s[keep], tuple(c[keep] for c in columns)
    order = np.argsort(s, kind="stable")
    return [s[order], *(c[order] for c in columns)]
