"""Daily marketing spend per paid channel: one table for the whole run, scaled to the customer base."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lifecycle.generate.arrays import Columns, money_strings, ts_array
from lifecycle.generate.chunk import Sink, emit
from lifecycle.generate.context import Context
from lifecycle.generate.defects import Stats, inject
from lifecycle.generate.retailer import PAID_CHANNEL_DAILY_USD, PAID_CHANNELS
from lifecycle.generate.scales import DAY, N_DAYS, START_DATE, START_S
from lifecycle.generate.streams import SHARED, stream
from lifecycle.generate.times import Window

SPEND_CHUNK = 10**6  # the defect streams' chunk key of the spend table (no chunk of customers has it)


def marketing_spend(ctx: Context, n_customers: int, sink: Sink, window: Window) -> Stats:
    """The spend table with its defects, handed to the sink; what was injected into the rows held."""
    rng = stream(ctx.seed, SHARED, 1)
    days = np.arange(N_DAYS)
    day_s = START_S + days * DAY
    k = len(PAID_CHANNELS)
    d = np.repeat(days, k)
    ch = np.tile(np.arange(k), N_DAYS)
    scale = n_customers / 1_000_000
    growth = 1.0 + 0.2 * d / 365.0
    usd = PAID_CHANNEL_DAILY_USD[ch] * scale * ctx.calendar.season[d] ** 1.3 * growth * rng.lognormal(0, 0.2, d.size)
    cents = np.round(usd * 100).astype(np.int64)
    dates = pa.array((np.datetime64(START_DATE.isoformat()) + d).astype(str))
    loaded = (day_s[d] + DAY + rng.integers(2 * 3600, 6 * 3600, d.size)) * 1_000_000 + rng.integers(0, 10**6, d.size)
    cols: Columns = {
        "spend_date": dates,
        "channel": pa.array(PAID_CHANNELS).take(ch),
        "currency": pa.array(["USD"] * d.size),
        "amount": money_strings(cents),
        "_loaded_at": ts_array(loaded),
    }
    done = inject("marketing_spend", cols, np.ones(d.size, dtype=bool), ctx.dirty, ctx.seed, SPEND_CHUNK, window)
    emit(sink, "marketing_spend", done.columns, window)
    return done.stats
