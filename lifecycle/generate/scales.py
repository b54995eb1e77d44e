"""The data set's fixed frame: its dates, its scales and the rates of the injected defects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

GENERATOR_VERSION = "2.0.0"

START_DATE = dt.date(2023, 10, 1)
END_DATE = dt.date(2026, 9, 30)  # the default end date: the last day of today's data set
HORIZON_DATE = dt.date(2027, 3, 31)  # the simulation runs to here whatever the end date; the latest end date
SCALES: dict[str, int] = {"demo": 5_000, "s": 50_000, "m": 300_000, "l": 1_000_000}
CHUNK_CUSTOMERS = 50_000  # customers per chunk: one part file per table, about 0.7 GB of memory

DAY = 86_400
EPOCH = dt.date(1970, 1, 1)
START_S = (START_DATE - EPOCH).days * DAY
END_EXCL_S = (END_DATE - EPOCH).days * DAY + DAY  # first second after the default end date
HORIZON_EXCL_S = (HORIZON_DATE - EPOCH).days * DAY + DAY  # first second after the simulated time
N_DAYS = (HORIZON_DATE - START_DATE).days + 1  # days simulated
HISTORY_DAYS = (END_DATE - START_DATE).days + 1  # the customers of a scale sign up in these days (or before)
LATE_SHARE = 0.003  # event and order rows the feed delivers LATE_DAYS late (with an order's lines)
LATE_DAYS = (2.0, 10.0)
PRE_WINDOW_DAYS = 2100  # the oldest CRM records signed up this many days before the start


@dataclass(frozen=True)
class DirtyRates:
    """Shares of rows (per table the defect applies to) that get one injected defect.

    ``test_account`` is the share of buyers that are QA test accounts, ``duplicate_person`` the
    share of customers registered twice (a second CRM record whose email differs only in case
    or padding), ``email_variant`` the share of help-desk tickets and NPS answers written with a
    differently cased or padded email. ``redelivered`` is the share of the event and order rows
    loaded after 18:00 UTC that the next day's export sends again, unchanged (overlapping export
    windows; order feeds overlap more, see :data:`lifecycle.generate.defects.REDELIVERY_FACTOR`).
    ``messy_amount`` rows carry valid but untidy money strings ('$1,234.50', 'USD 45.10',
    '£ 7.99') that staging must parse.
    """

    duplicate_exact: float = 0.004
    duplicate_reloaded: float = 0.004
    unparseable_timestamp: float = 0.003
    future_timestamp: float = 0.002
    invalid_amount: float = 0.003
    messy_amount: float = 0.01
    invalid_quantity: float = 0.003
    unknown_currency: float = 0.002
    missing_key: float = 0.002
    orphan_line: float = 0.002
    unknown_customer: float = 0.003
    invalid_rating: float = 0.005
    invalid_score: float = 0.005
    test_account: float = 0.002
    duplicate_person: float = 0.005
    email_variant: float = 0.05
    redelivered: float = 0.1

    @classmethod
    def none(cls) -> DirtyRates:
        """Clean data: nothing injected."""
        return cls(**{f.name: 0.0 for f in fields(cls)})
