"""When things happen: local times of day, the raw timestamp format mix, the data window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from lifecycle.generate.retailer import ONLINE_HOURS, STORE_HOURS, TS_FORMAT_P
from lifecycle.generate.scales import DAY, EPOCH, HORIZON_EXCL_S, START_S
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
    s = np.where(s >= HORIZON_EXCL_S, s - DAY, s)
    return np.where(s < START_S, s + DAY, s)


def in_time_order(s: np.ndarray, *columns: np.ndarray, keep: np.ndarray | None = None) -> list[np.ndarray]:
    """Times s and the columns of the same rows (only the kept ones), ordered by time (ties stay)."""
    if keep is not None:
        s, columns = s[keep], tuple(c[keep] for c in columns)
    order = np.argsort(s, kind="stable")
    return [s[order], *(c[order] for c in columns)]


def day_end_us(day: dt.date) -> int:
    """The first microsecond after a day (UTC)."""
    return ((day - EPOCH).days + 1) * DAY * 1_000_000


@dataclass(frozen=True)
class Window:
    """The rows of the simulation a folder holds, by ``_loaded_at`` (epoch microseconds, UTC).

    A folder generated to an end date holds the rows loaded before ``until_us`` (the end of that
    day); an append writes those loaded from ``since_us`` on (the end of the folder's previous
    end date). ``first_us``: no row of the chunk exists before it (a cohort of future customers
    starts after END_DATE, so a folder up to END_DATE does not need to simulate it).
    """

    until_us: int
    since_us: int = 0
    first_us: int = 0

    def held(self, loaded_us: np.ndarray) -> np.ndarray:
        """Per row, whether the folder holds it (after the run)."""
        return (loaded_us >= self.first_us) & (loaded_us < self.until_us)

    def new(self, loaded_us: np.ndarray) -> np.ndarray:
        """Per row, whether this run writes it."""
        return self.held(loaded_us) & (loaded_us >= self.since_us)
