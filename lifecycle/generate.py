"""Generate a realistic raw retail data set as Parquet, following the landing contract.

``generate(scale, seed, out)`` writes every table of :data:`lifecycle.schema.RAW_TABLES` to
``<out>/<table>/part-NNNNN.parquet`` (one part per chunk of customers) and ``<out>/_manifest.json``.

The data describes a mid-size omnichannel retailer from 2023-10-01 to 2026-09-30:

* CRM customers in six countries (currency follows the country), about a quarter of them
  prospects who never buy, some with a later record version (moved city, changed consent).
* Purchasing follows a BG/NBD-like process: each buyer has a purchase rate ``λ ~ Gamma(r, α)``
  and drops out after each purchase with probability ``p ~ Beta(a, b)``; the calendar is bent by
  seasonality (Black Friday, a December peak, a summer bump) through a time change. Spend varies
  by customer (price tier, basket size) and by order. Each buyer has a channel habit (online
  only, store only, omnichannel), favourite categories, a deal-seeking streak and a return
  propensity. Online orders land in the shop tables, store purchases in the POS tables (with
  the loyalty card when the shopper has one, anonymous otherwise, plus walk-in shoppers).
* Interactions: clickstream sessions (anonymous until a login in the session), email campaigns
  (opens track engagement and fade after a customer lapses), help-desk tickets and reviews
  (more tickets, worse ratings after returns), NPS answers, referrals, loyalty-card store visits,
  daily marketing spend and a few privacy requests.

Dirty rows are injected at the rates of :class:`DirtyRates`, each with exactly one defect, so the
reason staging gives it is known in advance; the manifest records what was injected and
:func:`expected_quarantine` turns it into the row counts the quarantine mart should show.

Everything is vectorised with numpy / pyarrow and processed in chunks of customers, each chunk
with its own random streams seeded from ``(seed, chunk)``: the same scale and seed give the same
data, whatever the machine and however many worker processes run.

The manifest (``_manifest.json``, sorted keys, also returned by :func:`generate`):

* ``scale``, ``seed``, ``n_customers``, ``chunk_customers``, ``start_date``, ``end_date``,
  ``generator_version``, ``dirty_rates`` (the :class:`DirtyRates` used);
* ``tables``: ``{table: {"rows": n, "files": n}}``, raw rows as written (duplicates included);
* ``injected``: ``{table: {reason: n}}``, rows given each defect (quarantine reason codes),
  including the orders of test accounts (``test_account``), orders of unknown customers and
  orphan lines;
* ``lines_of_quarantined_orders``: ``{lines table: {"parent_quarantined": n, "orphan_line": n}}``,
  clean lines whose order is dropped (an order that lost its key leaves its lines orphaned);
* ``expected_quarantine``: the two above added up, as :func:`expected_quarantine` returns them;
* ``duplicates``: ``{table: {"duplicate_exact": n, "duplicate_reloaded": n}}``, extra raw rows
  staging drops (exact copies, and re-loads of the same key with a later ``_loaded_at``);
* ``messy_amounts``: ``{table: n}``, rows with a valid but untidy money string;
* ``test_account_customer_ids``, ``test_account_order_ids`` (shop order and POS transaction ids);
* ``identity_groups``: emails of CRM customers written in more than one way (case, padding)
  across CRM, help desk and NPS; ``merged_crm_records``: customers registered twice whose two
  CRM records resolve to one person by email.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from lifecycle import paths, schema

GENERATOR_VERSION = "1.0.0"

START_DATE = dt.date(2023, 10, 1)
END_DATE = dt.date(2026, 9, 30)  # the data's last day
SCALES: dict[str, int] = {"demo": 5_000, "s": 50_000, "m": 300_000, "l": 1_000_000}
CHUNK_CUSTOMERS = 50_000  # customers per chunk: one part file per table, about 0.7 GB of memory

DAY = 86_400
_EPOCH = dt.date(1970, 1, 1)
START_S = (START_DATE - _EPOCH).days * DAY
END_EXCL_S = (END_DATE - _EPOCH).days * DAY + DAY  # first second after the last day
N_DAYS = (END_DATE - START_DATE).days + 1
PRE_WINDOW_DAYS = 2100  # the oldest CRM records signed up this many days before the start

Rng = np.random.Generator
Columns = dict[str, pa.Array | pa.ChunkedArray]
Sink = Callable[[str, pa.Table], None]

# ---------------------------------------------------------------------------------------------
# Dirty-data configuration
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirtyRates:
    """Shares of rows (per table the defect applies to) that get one injected defect.

    ``test_account`` is the share of buyers that are QA test accounts, ``duplicate_person`` the
    share of customers registered twice (a second CRM record whose email differs only in case
    or padding), ``email_variant`` the share of help-desk tickets and NPS answers written with a
    differently cased or padded email. ``messy_amount`` rows carry valid but untidy money strings
    ('$1,234.50', 'USD 45.10', '£ 7.99') that staging must parse.
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

    @classmethod
    def none(cls) -> DirtyRates:
        """Clean data: nothing injected."""
        return cls(**{f.name: 0.0 for f in fields(cls)})


# Row-level defects each raw table can carry, in the order rows are assigned to them. The
# intermediate-layer reasons (unknown_customer, orphan_line) are injected like row defects;
# test_account comes from the test customers' own orders.
ROW_DEFECTS: dict[str, tuple[str, ...]] = {
    "crm_customers": ("missing_key", "unparseable_timestamp", "future_timestamp"),
    "shop_orders": (
        "missing_key",
        "unparseable_timestamp",
        "future_timestamp",
        "unknown_currency",
        "invalid_amount",
        "unknown_customer",
    ),
    "shop_order_lines": ("missing_key", "invalid_quantity", "invalid_amount", "orphan_line"),
    "pos_transactions": (
        "missing_key",
        "unparseable_timestamp",
        "future_timestamp",
        "unknown_currency",
        "invalid_amount",
    ),
    "pos_transaction_lines": ("missing_key", "invalid_quantity", "invalid_amount", "orphan_line"),
    "web_events": ("missing_key", "unparseable_timestamp", "future_timestamp"),
    "email_events": ("missing_key", "unparseable_timestamp", "future_timestamp"),
    "support_tickets": ("missing_key", "unparseable_timestamp", "future_timestamp"),
    "product_reviews": ("missing_key", "unparseable_timestamp", "future_timestamp", "invalid_rating"),
    "nps_responses": ("missing_key", "unparseable_timestamp", "future_timestamp", "invalid_score"),
    "referrals": ("missing_key", "unparseable_timestamp", "future_timestamp"),
    "store_visits": ("missing_key", "unparseable_timestamp", "future_timestamp"),
    "marketing_spend": (
        "missing_key",
        "unparseable_timestamp",
        "future_timestamp",
        "unknown_currency",
        "invalid_amount",
    ),
    "privacy_requests": ("missing_key", "unparseable_timestamp", "future_timestamp"),
}
MONEY_TABLES: tuple[str, ...] = (
    "shop_orders",
    "shop_order_lines",
    "pos_transactions",
    "pos_transaction_lines",
    "marketing_spend",
)
# Random-stream keys: fixed numbers, so that editing the contract's tuples never moves the data.
_TABLE_INDEX: dict[str, int] = {
    "crm_customers": 0, "shop_orders": 1, "shop_order_lines": 2, "pos_transactions": 3,
    "pos_transaction_lines": 4, "web_events": 5, "email_events": 6, "support_tickets": 7,
    "product_reviews": 8, "nps_responses": 9, "referrals": 10, "store_visits": 11, "marketing_spend": 12,
    "privacy_requests": 13,
}  # fmt: skip
_REASON_INDEX: dict[str, int] = {
    "unparseable_timestamp": 0, "future_timestamp": 1, "invalid_amount": 2, "invalid_quantity": 3,
    "invalid_rating": 4, "invalid_score": 5, "unknown_currency": 6, "missing_key": 7, "orphan_line": 8,
    "unknown_customer": 9, "test_account": 10, "parent_quarantined": 11, "duplicate_exact": 12,
    "duplicate_reloaded": 13, "messy_amount": 14,
}  # fmt: skip

# Strings that DuckDB cannot cast to a timestamp (null is used too where staging treats it so).
BAD_TIMESTAMPS: tuple[str, ...] = (
    "N/A",
    "not recorded",
    "0000-00-00 00:00:00",
    "2024-02-30 10:00:00",
    "2025-13-01T08:00:00Z",
    "yesterday",
    "",
)
BAD_AMOUNTS: tuple[str, ...] = ("N/A", "12.3.4", "TBD", "--", "n/a", "1.2.3", "free?")
BAD_CURRENCIES: tuple[str, ...] = ("XYZ", "BTC", "ZZZ", "EURO", "")
BAD_QUANTITIES: tuple[int | None, ...] = (0, None)  # a negative quantity is a credit line, not a defect
BAD_RATINGS: tuple[int | None, ...] = (0, 6, 7, -1, None)
BAD_SCORES: tuple[int | None, ...] = (11, 12, -1, 100, None)
MISSING_KEYS: tuple[str | None, ...] = ("", None, "   ")

# ---------------------------------------------------------------------------------------------
# The retailer: countries, stores, catalogue, names
# ---------------------------------------------------------------------------------------------

# Codes used in the arrays below (the contract's vocabularies, in the order the code relies on).
CURRENCY_CODES: tuple[str, ...] = ("USD", "EUR", "GBP", "CAD", "AUD")
CATEGORY_CODES: tuple[str, ...] = (
    "apparel", "footwear", "accessories", "beauty", "home", "electronics", "sports", "kids",
)  # fmt: skip
ACQUISITION_CODES: tuple[str, ...] = (
    "organic_search", "paid_search", "paid_social", "email", "referral", "affiliate", "store", "direct",
)  # fmt: skip
WEB_EVENT_CODES: tuple[str, ...] = ("session_start", "page_view", "product_view", "add_to_cart", "login")
EMAIL_EVENT_CODES: tuple[str, ...] = ("send", "open", "click", "unsubscribe")
PRIVACY_REQUEST_CODES: tuple[str, ...] = ("erasure", "consent_withdrawal")
assert set(CATEGORY_CODES) == set(schema.CATEGORIES)
assert set(ACQUISITION_CODES) == set(schema.ACQUISITION_CHANNELS)
assert set(WEB_EVENT_CODES) == set(schema.WEB_EVENT_TYPES)
assert set(EMAIL_EVENT_CODES) == set(schema.EMAIL_EVENT_TYPES)
assert set(PRIVACY_REQUEST_CODES) == set(schema.PRIVACY_REQUEST_TYPES)

COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "FR", "CA", "AU")
COUNTRY_P = np.array([0.42, 0.20, 0.11, 0.08, 0.11, 0.08])
COUNTRY_CURRENCY = np.array([CURRENCY_CODES.index(c) for c in ("USD", "GBP", "EUR", "EUR", "CAD", "AUD")])
COUNTRY_UTC_OFFSET_MIN = np.array([-300, 0, 60, 60, -300, 600])
COUNTRY_TAX = np.array([0.07, 0.20, 0.19, 0.20, 0.13, 0.10])
# Local price per USD of list price, standard shipping fee and free-shipping threshold (local).
CURRENCY_PRICE_FACTOR = np.array([1.0, 0.92, 0.79, 1.36, 1.52])  # USD EUR GBP CAD AUD
CURRENCY_SHIPPING_CENTS = np.array([499, 449, 399, 699, 799])
CURRENCY_FREE_SHIPPING_CENTS = np.array([5000, 4500, 4000, 7500, 8000])
CURRENCY_SYMBOL: tuple[str, ...] = ("$", "€", "£", "C$", "A$")

CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "US": (
        ("New York", "NY"),
        ("Los Angeles", "CA"),
        ("Chicago", "IL"),
        ("Houston", "TX"),
        ("Phoenix", "AZ"),
        ("Seattle", "WA"),
        ("Boston", "MA"),
        ("Atlanta", "GA"),
        ("Denver", "CO"),
        ("Miami", "FL"),
    ),
    "GB": (
        ("London", "England"),
        ("Manchester", "England"),
        ("Birmingham", "England"),
        ("Leeds", "England"),
        ("Glasgow", "Scotland"),
        ("Edinburgh", "Scotland"),
        ("Bristol", "England"),
        ("Cardiff", "Wales"),
    ),
    "DE": (
        ("Berlin", "Berlin"),
        ("Hamburg", "Hamburg"),
        ("München", "Bayern"),
        ("Köln", "Nordrhein-Westfalen"),
        ("Frankfurt am Main", "Hessen"),
        ("Stuttgart", "Baden-Württemberg"),
    ),
    "FR": (
        ("Paris", "Île-de-France"),
        ("Lyon", "Auvergne-Rhône-Alpes"),
        ("Marseille", "Provence-Alpes-Côte d'Azur"),
        ("Toulouse", "Occitanie"),
        ("Bordeaux", "Nouvelle-Aquitaine"),
        ("Lille", "Hauts-de-France"),
    ),
    "CA": (("Toronto", "ON"), ("Montréal", "QC"), ("Vancouver", "BC"), ("Calgary", "AB"), ("Ottawa", "ON")),
    "AU": (
        ("Sydney", "NSW"),
        ("Melbourne", "VIC"),
        ("Brisbane", "QLD"),
        ("Perth", "WA"),
        ("Adelaide", "SA"),
    ),
}
STORES_PER_COUNTRY = np.array([12, 6, 4, 3, 4, 3])

CATEGORY_P = np.array([0.24, 0.11, 0.12, 0.12, 0.12, 0.07, 0.11, 0.11])
CATEGORY_MEDIAN_USD = np.array([35.0, 75.0, 25.0, 18.0, 30.0, 90.0, 40.0, 20.0])
CATEGORY_COST_SHARE = np.array([0.42, 0.48, 0.35, 0.38, 0.50, 0.72, 0.50, 0.45])
CATEGORY_RETURN_RATE = np.array([0.10, 0.12, 0.04, 0.02, 0.04, 0.05, 0.05, 0.05])
SKUS_PER_CATEGORY = 400

# fmt: off
FIRST_NAMES_F: tuple[str, ...] = (
    "Emma", "Olivia", "Sophia", "Ava", "Isabella", "Mia", "Charlotte", "Amelia", "Harper", "Evelyn",
    "Abigail", "Emily", "Ella", "Grace", "Chloe", "Lily", "Hannah", "Zoe", "Nora", "Lucy", "Anna", "Sarah",
    "Laura", "Julia", "Lena", "Marie", "Léa", "Camille", "Manon", "Chloé", "Sofia", "Elena", "Maya", "Ruby",
    "Freya", "Isla", "Poppy", "Jessica", "Rachel", "Megan", "Natalie", "Priya", "Aisha", "Mei", "Yuki",
    "Fatima", "Ingrid", "Clara", "Johanna", "Amélie",
)
FIRST_NAMES_M: tuple[str, ...] = (
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry", "Alexander",
    "Jack", "Thomas", "George", "Harry", "Oscar", "Leo", "Daniel", "Matthew", "Samuel", "David", "Lukas",
    "Felix", "Paul", "Jonas", "Maximilian", "Louis", "Hugo", "Gabriel", "Arthur", "Jules", "Ethan", "Mason",
    "Logan", "Ryan", "Nathan", "Aaron", "Adam", "Omar", "Raj", "Kenji", "Mateo", "Diego", "Marco", "Luca",
    "Finn", "Callum", "Angus", "Connor", "Owen", "Michael",
)
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
    "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green",
    "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Evans", "Hughes", "Wood",
    "Edwards", "Turner", "Cooper", "Murphy", "Kelly", "Patel", "Khan", "Singh", "Nguyen", "Chen", "Wang",
    "Kim", "Tanaka", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Hoffmann", "Dubois", "Durand", "Lefèvre", "Moreau", "Laurent", "Simon", "Michel", "Bernard", "Petit",
    "Roux", "O'Brien", "MacDonald", "Fraser", "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard",
    "Wilson-Hart", "Novak", "Rossi", "Russo", "Ferrari", "Silva", "Santos", "Costa", "Larsen", "Jensen",
    "Nielsen", "Berg", "Lindqvist",
)
# fmt: on
GENERIC_DOMAINS: tuple[str, ...] = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com")
GENERIC_DOMAIN_P = np.array([0.48, 0.14, 0.16, 0.14, 0.08])
COUNTRY_DOMAINS: tuple[tuple[str, str], ...] = (
    ("aol.com", "comcast.net"),
    ("btinternet.com", "hotmail.co.uk"),
    ("web.de", "gmx.de"),
    ("orange.fr", "free.fr"),
    ("shaw.ca", "rogers.com"),
    ("bigpond.com", "optusnet.com.au"),
)
TEST_EMAIL_DOMAINS: tuple[str, ...] = ("test.example.com", "test.shop.internal")

ONLINE, STORE, OMNI = 0, 1, 2
HABIT_P = np.array([0.45, 0.30, 0.25])
PROSPECT_SHARE = 0.25
PRE_WINDOW_SHARE = 0.30
# Acquisition channel by habit (in the order of ACQUISITION_CODES:
# organic_search, paid_search, paid_social, email, referral, affiliate, store, direct).
ACQ_P = np.array(
    [
        [0.26, 0.20, 0.15, 0.05, 0.08, 0.07, 0.00, 0.19],
        [0.06, 0.03, 0.04, 0.01, 0.05, 0.01, 0.72, 0.08],
        [0.16, 0.12, 0.10, 0.04, 0.08, 0.04, 0.32, 0.14],
    ]
)

# BG/NBD-like purchase process (rates per day) and Gamma-Gamma-like spend heterogeneity.
PURCHASE_R, PURCHASE_ALPHA = 1.2, 66.0  # λ ~ Gamma(r, scale 1/α): mean ≈ one order per 55 days
DROPOUT_A, DROPOUT_B = 1.5, 7.5  # p ~ Beta(a, b): mean ≈ 0.17
MAX_PURCHASES = 300

# Hour-of-day weights (local time) for online activity and store opening hours.
ONLINE_HOURS = np.array(
    [
        1.0,
        0.6,
        0.4,
        0.3,
        0.3,
        0.4,
        0.8,
        1.5,
        2.0,
        2.3,
        2.5,
        2.6,
        2.8,
        2.7,
        2.6,
        2.6,
        2.7,
        3.0,
        3.4,
        3.8,
        4.0,
        3.7,
        2.8,
        1.8,
    ]
)
STORE_HOURS = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 1.5, 2.5, 3.0, 3.5, 3.2, 2.8, 2.8, 3.1, 3.5, 3.2, 2.2, 1.2, 0, 0, 0],
    dtype=float,
)

# Raw timestamp format mix per table: ('...T...Z', '... +HH:MM' local time, '...' naive UTC).
TS_FORMAT_P: dict[str, tuple[float, float, float]] = {
    "crm_customers": (0.5, 0.3, 0.2),
    "shop_orders": (0.75, 0.15, 0.10),
    "pos_transactions": (0.10, 0.75, 0.15),
    "web_events": (0.6, 0.0, 0.4),
    "email_events": (0.85, 0.05, 0.10),
    "support_tickets": (0.4, 0.4, 0.2),
    "product_reviews": (0.6, 0.2, 0.2),
    "nps_responses": (0.5, 0.3, 0.2),
    "referrals": (0.6, 0.2, 0.2),
    "store_visits": (0.10, 0.80, 0.10),
    "privacy_requests": (0.7, 0.2, 0.1),
}

SHOP_STATUS_VARIANTS: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...] = (
    (("completed", "delivered", "shipped", "Completed"), (0.5, 0.3, 0.15, 0.05)),
    (("cancelled", "canceled", "Cancelled"), (0.7, 0.2, 0.1)),
    (("returned", "refunded", "Returned"), (0.7, 0.2, 0.1)),
)
POS_STATUS_VARIANTS: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...] = (
    (("COMPLETE", "Complete", "complete", "COMPLETED"), (0.6, 0.2, 0.1, 0.1)),
    (("VOID", "Void", "VOIDED"), (0.7, 0.2, 0.1)),
    (("REFUNDED", "Refunded", "RETURNED"), (0.6, 0.2, 0.2)),
)
WEB_CHANNEL_VARIANTS: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...] = (
    (("web", "Web", "website", "mobile-web"), (0.7, 0.1, 0.1, 0.1)),
    (("app", "ios_app", "android_app", "App"), (0.4, 0.3, 0.25, 0.05)),
)
PLATFORM_VARIANTS: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...] = (
    (("web", "Web", "desktop-web", "mobile-web"), (0.6, 0.1, 0.15, 0.15)),
    (("app", "ios-app", "android-app", "iOS App"), (0.3, 0.35, 0.3, 0.05)),
)
GENDER_VARIANTS: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...] = (
    (("F", "f", "Female"), (0.85, 0.05, 0.10)),
    (("M", "m", "Male"), (0.85, 0.05, 0.10)),
    (("X",), (1.0,)),
)
TICKET_CHANNELS: tuple[str, ...] = ("email", "chat", "phone", "Email", "CHAT", "web form")
TICKET_CHANNEL_P = np.array([0.38, 0.30, 0.17, 0.06, 0.04, 0.05])
TICKET_TOPICS_RETURN: tuple[str, ...] = ("return", "refund", "Return request", "exchange")
TICKET_TOPICS_OTHER: tuple[str, ...] = (
    "delivery",
    "Delivery",
    "order status",
    "payment",
    "product question",
    "account",
    "",
    "discount code",
)
PAID_CHANNELS: tuple[str, ...] = ("paid_search", "paid_social", "affiliate", "email", "referral")
PAID_CHANNEL_DAILY_USD = np.array([9000.0, 6500.0, 2500.0, 600.0, 900.0])  # at 1M customers

# ---------------------------------------------------------------------------------------------
# Random streams
# ---------------------------------------------------------------------------------------------


def _rng(seed: int, *keys: int) -> Rng:
    """An independent, reproducible stream for (seed, *keys)."""
    return np.random.default_rng(np.random.SeedSequence([seed % (2**63), *keys]))


_BASE, _DIRTY_COUNT, _DIRTY_PICK, _DIRTY_VALUE, _SHARED = 1, 2, 3, 4, 5


def _choice(rng: Rng, n: int, p: np.ndarray | Sequence[float]) -> np.ndarray:
    """Indices drawn from a discrete distribution (inverse CDF, one uniform per draw)."""
    cdf = np.cumsum(np.asarray(p, dtype=float))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


def _within(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes laid end to end: the group of each item and its index in it."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(owner.size) - starts[owner]


# ---------------------------------------------------------------------------------------------
# Fast string building
# ---------------------------------------------------------------------------------------------

_LUT_BASE_DAY = (dt.date(2015, 1, 1) - _EPOCH).days
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


def _from_matrix(mat: np.ndarray, lengths: np.ndarray | None = None) -> pa.Array:
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


def _ts_strings(seconds: np.ndarray, fmt: np.ndarray, offset_min: np.ndarray | int) -> pa.Array:
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
        return _from_matrix(np.ascontiguousarray(mat[:, : int(lengths[0]) if n else 19]))
    return _from_matrix(mat, lengths)


def _money_strings(cents: np.ndarray) -> pa.Array:
    """Non-negative integer cents as '1234.50'."""
    cents = np.asarray(cents, dtype=np.int64)
    whole = pc.cast(pa.array(cents // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), 2, "0")
    return pc.binary_join_element_wise(whole, frac, ".")


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """'C0000123'-style identifiers: a prefix and zero-padded numbers."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _with_nulls(arr: pa.Array, null_mask: np.ndarray) -> pa.Array:
    if not null_mask.any():
        return arr
    return pc.if_else(pa.array(null_mask), pa.scalar(None, type=arr.type), arr)


def _variants(rng: Rng, cls: np.ndarray, variants: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...]) -> pa.Array:
    """Per row, a raw spelling of its class drawn from that class's variants."""
    vocab: list[str] = []
    idx = np.zeros(cls.size, dtype=np.int64)
    u = rng.random(cls.size)
    for k, (names, probs) in enumerate(variants):
        pick = np.minimum(np.searchsorted(np.cumsum(probs) / sum(probs), u, side="right"), len(names) - 1)
        idx = np.where(cls == k, len(vocab) + pick, idx)
        vocab.extend(names)
    return pa.array(vocab, pa.string()).take(idx)


def _loaded_us(rng: Rng, event_s: np.ndarray, *, min_delay: float = 600.0) -> np.ndarray:
    """When each row landed: a little after its event (minutes to about a day), in microseconds."""
    n = event_s.size
    delay = np.minimum(min_delay + rng.gamma(2.0, 2.5 * 3600.0, n), 30 * 3600.0).astype(np.int64)
    return (event_s + delay) * 1_000_000 + rng.integers(0, 1_000_000, n)


def _ts_array(us: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(us, dtype=np.int64).astype("datetime64[us]"), type=schema.TS)


def _email_variant(emails: pa.Array, kind: np.ndarray) -> pa.Array:
    """The same addresses spelled differently: 0 capitalised, 1 upper case, 2 padded, 3 both."""
    cap = pc.utf8_capitalize(emails)
    upper = pc.utf8_upper(emails)
    padded = pc.binary_join_element_wise(" ", emails, "  ", "")
    padded_cap = pc.binary_join_element_wise("  ", cap, " ", "")
    return pc.choose(pa.array(kind.astype(np.int8)), cap, upper, padded, padded_cap)


# ---------------------------------------------------------------------------------------------
# Calendar, catalogue and campaigns (shared by all chunks)
# ---------------------------------------------------------------------------------------------


def _black_friday(year: int) -> dt.date:
    nov1 = dt.date(year, 11, 1)
    first_thursday = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7)
    return first_thursday + dt.timedelta(days=22)


@dataclass(frozen=True)
class _Calendar:
    season: np.ndarray  # daily purchase-intensity multiplier, mean 1
    cum: np.ndarray  # cumulative intensity at day boundaries (N_DAYS + 1)
    acquisition: np.ndarray  # daily signup weights (sum 1)
    promo: np.ndarray  # bool: Black Friday week and after-Christmas sales
    month: np.ndarray  # month of each day (1-12)

    @staticmethod
    def build() -> _Calendar:
        days = np.arange(N_DAYS)
        dates = np.datetime64(START_DATE.isoformat()) + days
        month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
        weekday = (dates.astype(np.int64) - 4) % 7  # 0 = Monday
        s = np.ones(N_DAYS)
        promo = np.zeros(N_DAYS, dtype=bool)
        for year in range(START_DATE.year, END_DATE.year + 1):

            def offset(d: dt.date) -> np.ndarray:
                return days - (d - START_DATE).days

            bf = _black_friday(year)
            s += 0.9 * np.exp(-0.5 * (offset(dt.date(year, 12, 12)) / 13.0) ** 2)
            s += 1.3 * np.exp(-0.5 * (offset(bf) / 2.5) ** 2)
            s += 0.25 * np.exp(-0.5 * (offset(dt.date(year, 7, 5)) / 18.0) ** 2)
            promo |= (offset(bf) >= -3) & (offset(bf) <= 4)
            promo |= (offset(dt.date(year, 12, 26)) >= 0) & (offset(dt.date(year, 12, 31)) <= 0)
            xmas = offset(dt.date(year, 12, 25)) == 0
            s[xmas] *= 0.3
            s[offset(dt.date(year, 12, 26)) == 0] *= 1.6
        s *= np.where(np.isin(month, (1, 2)), 0.82, 1.0)
        s *= np.where(weekday >= 5, 1.12, 1.0)
        s /= s.mean()
        cum = np.concatenate([[0.0], np.cumsum(s)])
        acq = s * (1.0 + 0.25 * days / 365.0)
        return _Calendar(s, cum, acq / acq.sum(), promo, month)

    def to_intensity(self, t_days: np.ndarray) -> np.ndarray:
        return np.interp(t_days, np.arange(N_DAYS + 1), self.cum)

    def from_intensity(self, tau: np.ndarray) -> np.ndarray:
        return np.interp(tau, self.cum, np.arange(N_DAYS + 1))


@dataclass(frozen=True)
class _Catalogue:
    sku: pa.Array  # 'SKU-apparel-0123' per global sku index
    price_cents: np.ndarray  # (currency, sku) local list price
    price_str: pa.Array  # price strings, flattened currency-major
    cost: np.ndarray  # (currency, sku) local unit cost, NaN when unknown

    @staticmethod
    def build(rng: Rng) -> _Catalogue:
        n_cat = len(CATEGORY_CODES)
        names = [f"SKU-{c}-{i:04d}" for c in CATEGORY_CODES for i in range(SKUS_PER_CATEGORY)]
        usd = np.sort(
            CATEGORY_MEDIAN_USD[:, None] * np.exp(rng.normal(0.0, 0.65, (n_cat, SKUS_PER_CATEGORY))), axis=1
        ).ravel()
        local = usd[None, :] * CURRENCY_PRICE_FACTOR[:, None]
        cents = np.where(local < 10, np.floor(local) * 100 + 99, np.round(local) * 100 - 1).astype(np.int64)
        share = np.repeat(CATEGORY_COST_SHARE, SKUS_PER_CATEGORY) * np.exp(rng.normal(0, 0.12, usd.size))
        cost = np.round(cents / 100.0 * np.minimum(share, 0.95)[None, :], 2)
        unknown = rng.random(usd.size) < 0.04  # cost missing in the product master
        cost[:, unknown] = np.nan
        return _Catalogue(pa.array(names), cents, _money_strings(cents.ravel()), cost)


def _campaign_times() -> tuple[np.ndarray, pa.Array]:
    """Weekly Tuesday newsletters plus Friday promotions from mid-November to Christmas."""
    times: list[int] = []
    d = START_DATE
    while d <= END_DATE:
        holiday = (d.month == 11 and d.day >= 14) or (d.month == 12 and d.day <= 22)
        if d.weekday() == 1 or (d.weekday() == 4 and holiday):
            times.append((d - _EPOCH).days * DAY + 14 * 3600)
        d += dt.timedelta(days=1)
    t = np.array(times, dtype=np.int64)
    ids = [f"CMP-{dt.datetime.fromtimestamp(int(x), dt.UTC):%Y%m%d}" for x in t]
    return t, pa.array(ids)


@dataclass(frozen=True)
class _Context:
    seed: int
    dirty: DirtyRates
    calendar: _Calendar
    catalogue: _Catalogue
    campaign_s: np.ndarray
    campaign_ids: pa.Array
    city_names: pa.Array
    city_regions: pa.Array
    city_start: np.ndarray
    city_count: np.ndarray
    store_ids: pa.Array
    store_start: np.ndarray
    store_country: np.ndarray

    @staticmethod
    def build(seed: int, dirty: DirtyRates) -> _Context:
        names: list[str] = []
        regions: list[str] = []
        start: list[int] = []
        for code in COUNTRIES:
            start.append(len(names))
            names.extend(c for c, _ in CITIES[code])
            regions.extend(r for _, r in CITIES[code])
        store_ids: list[str] = []
        store_country: list[int] = []
        for k, code in enumerate(COUNTRIES):
            for i in range(int(STORES_PER_COUNTRY[k])):
                store_ids.append(f"ST-{code}-{i + 1:03d}")
                store_country.append(k)
        camp_s, camp_ids = _campaign_times()
        return _Context(
            seed=seed,
            dirty=dirty,
            calendar=_Calendar.build(),
            catalogue=_Catalogue.build(_rng(seed, _SHARED, 0)),
            campaign_s=camp_s,
            campaign_ids=camp_ids,
            city_names=pa.array(names),
            city_regions=pa.array(regions),
            city_start=np.array(start),
            city_count=np.array([len(CITIES[c]) for c in COUNTRIES]),
            store_ids=pa.array(store_ids),
            store_start=np.concatenate([[0], np.cumsum(STORES_PER_COUNTRY)[:-1]]),
            store_country=np.array(store_country),
        )


# ---------------------------------------------------------------------------------------------
# Defect injection
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """Where each defect goes in a table."""

    key_cols: tuple[str, ...]
    ts_col: str | None = None
    money_cols: tuple[str, ...] = ()
    currency_col: str | None = None
    qty_col: str | None = None
    rating_col: str | None = None
    score_col: str | None = None
    parent_col: str | None = None
    parent_prefix: str = ""
    customer_col: str | None = None
    reload_col: str | None = None  # a column whose value changes when the row is re-loaded
    empty_money_invalid: bool = False  # staging treats an empty amount as invalid


SPECS: dict[str, _Spec] = {
    "shop_orders": _Spec(
        ("order_id",),
        "ordered_at",
        ("discount_amount", "shipping_amount", "tax_amount"),
        "currency",
        customer_col="customer_id",
        reload_col="status",
    ),
    "shop_order_lines": _Spec(
        ("order_line_id", "order_id"),
        money_cols=("unit_price",),
        qty_col="quantity",
        parent_col="order_id",
        parent_prefix="O",
        empty_money_invalid=True,
    ),
    "pos_transactions": _Spec(
        ("transaction_id",),
        "transacted_at",
        ("discount_amount", "tax_amount"),
        "currency",
        reload_col="status",
    ),
    "pos_transaction_lines": _Spec(
        ("transaction_line_id", "transaction_id"),
        money_cols=("unit_price",),
        qty_col="quantity",
        parent_col="transaction_id",
        parent_prefix="T",
        empty_money_invalid=True,
    ),
    "web_events": _Spec(("event_id",), "occurred_at"),
    "email_events": _Spec(("event_id",), "occurred_at"),
    "support_tickets": _Spec(("ticket_id",), "opened_at"),
    "product_reviews": _Spec(("review_id",), "reviewed_at", rating_col="rating"),
    "nps_responses": _Spec(("response_id",), "responded_at", score_col="score"),
    "referrals": _Spec(("referral_id",), "referred_at"),
    "store_visits": _Spec(("visit_id",), "visited_at"),
    "privacy_requests": _Spec(("request_id",), "requested_at"),
    "marketing_spend": _Spec(
        ("spend_date",),
        "spend_date",
        ("amount",),
        "currency",
        reload_col="amount",
        empty_money_invalid=True,
    ),
}


@dataclass
class _Stats:
    """What a chunk injected: merged into the manifest."""

    injected: dict[str, dict[str, int]]
    duplicates: dict[str, dict[str, int]]
    messy: dict[str, int]
    consequences: dict[str, dict[str, int]]
    test_customer_ids: list[str]
    test_order_ids: list[str]
    identity_groups: int = 0
    merged_crm_records: int = 0

    @staticmethod
    def empty() -> _Stats:
        return _Stats({}, {}, {}, {}, [], [])

    def add(self, other: _Stats) -> None:
        for mine, theirs in (
            (self.injected, other.injected),
            (self.duplicates, other.duplicates),
            (self.consequences, other.consequences),
        ):
            for table, counts in theirs.items():
                slot = mine.setdefault(table, {})
                for k, v in counts.items():
                    slot[k] = slot.get(k, 0) + v
        for table, v in other.messy.items():
            self.messy[table] = self.messy.get(table, 0) + v
        self.test_customer_ids.extend(other.test_customer_ids)
        self.test_order_ids.extend(other.test_order_ids)
        self.identity_groups += other.identity_groups
        self.merged_crm_records += other.merged_crm_records


def _replace(arr: pa.Array, rows: np.ndarray, values: pa.Array | Sequence[Any]) -> pa.Array:
    """arr with arr[rows[i]] = values[i]."""
    if len(rows) == 0:
        return arr
    order = np.argsort(rows, kind="stable")
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows] = True
    vals = values if isinstance(values, pa.Array) else pa.array(list(values), type=arr.type)
    return pc.replace_with_mask(arr, pa.array(mask), vals.cast(arr.type).take(order))


def _pick(rng: Rng, options: Sequence[Any], n: int) -> list[Any]:
    return [options[i] for i in rng.integers(0, len(options), n)]


def _messy(rng: Rng, values: Sequence[str], currencies: Sequence[str | None]) -> list[str]:
    """Valid amounts written untidily: symbols, codes, thousands separators, padding."""
    out: list[str] = []
    for raw, cur, style in zip(values, currencies, rng.integers(0, 5, len(values)), strict=True):
        v = float(raw)
        code = cur if cur in CURRENCY_CODES else "USD"
        sym = CURRENCY_SYMBOL[CURRENCY_CODES.index(code)]
        if style == 0:
            out.append(f"{sym}{v:,.2f}")
        elif style == 1:
            out.append(f"{code} {v:,.2f}")
        elif style == 2:
            out.append(f"{sym} {v:.2f}")
        elif style == 3:
            out.append(f"  {v:,.2f} ")
        else:
            out.append(f"{v:.2f} {code}")
    return out


def _garbage_timestamps(rng: Rng, seconds: np.ndarray, allow_null: bool) -> list[str | None]:
    """Timestamps DuckDB cannot parse: other conventions of the same instant, or junk.

    Null and '' only where allowed: staging reads a null event timestamp as unparseable, but a
    null CRM signup_at is not checked and a blank CRM updated_at is a missing key.
    """
    junk = BAD_TIMESTAMPS if allow_null else tuple(b for b in BAD_TIMESTAMPS if b.strip())
    out: list[str | None] = []
    for s, kind in zip(seconds, rng.integers(0, 4, seconds.size), strict=True):
        t = dt.datetime.fromtimestamp(int(s), dt.UTC)
        if kind == 0:
            out.append(f"{t:%d/%m/%Y %H:%M}")
        elif kind == 1:
            out.append(f"{t:%b %d %Y %I:%M %p}")
        elif kind == 2 and allow_null:
            out.append(None)
        else:
            out.append(junk[int(rng.integers(0, len(junk)))])
    return out


def _flat(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _arrow_int(values: Sequence[int | None]) -> pa.Array:
    return pa.array(list(values), type=pa.int32())


def _inject(
    table: str,
    cols: Columns,
    eligible: np.ndarray,
    rates: DirtyRates,
    seed: int,
    chunk: int,
    stats: _Stats,
    *,
    orphan_base: int = 9_000_000_000,
) -> tuple[Columns, dict[str, np.ndarray]]:
    """Give rows of a table their defects, then append duplicates.

    Returns the new columns and, per reason, the (original) row positions that got it. Each
    reason's count is Binomial(eligible rows, rate) from its own stream, and the rows come from
    one fixed permutation of the eligible rows, so changing one rate leaves the others alone.
    """
    spec = SPECS[table]
    t = _TABLE_INDEX[table]
    reasons = [*ROW_DEFECTS[table], "duplicate_exact", "duplicate_reloaded"]
    if table in MONEY_TABLES:
        reasons.append("messy_amount")
    pool = np.flatnonzero(eligible)
    counts = {}
    for r in reasons:
        rate = float(getattr(rates, r))
        counts[r] = int(_rng(seed, _DIRTY_COUNT, chunk, t, _REASON_INDEX[r]).binomial(pool.size, rate)) if rate else 0
    picked: dict[str, np.ndarray] = {}
    if pool.size and any(counts.values()):
        perm = _rng(seed, _DIRTY_PICK, chunk, t).permutation(pool)
        at = 0
        for r in reasons:
            k = min(counts[r], perm.size - at)
            picked[r] = np.sort(perm[at : at + k])
            at += k
    else:
        picked = {r: np.zeros(0, dtype=np.int64) for r in reasons}
    vr = _rng(seed, _DIRTY_VALUE, chunk, t)
    out = dict(cols)
    loaded_s = None

    def loaded_seconds(rows: np.ndarray) -> np.ndarray:
        nonlocal loaded_s
        if loaded_s is None:
            loaded_s = cols["_loaded_at"].cast(pa.int64()).to_numpy() // 1_000_000
        return loaded_s[rows]

    def money_col(rows: np.ndarray, rng: Rng) -> list[str]:
        """A money column per row that holds a value (falls back to the last, always set)."""
        chosen = rng.integers(0, len(spec.money_cols), rows.size)
        values = {c: cols[c].take(rows).to_pylist() for c in spec.money_cols}
        names = []
        for i, c in enumerate(chosen):
            name = spec.money_cols[c]
            v = values[name][i]
            names.append(name if v is not None and v.strip() else spec.money_cols[-1])
        return names

    for r in ROW_DEFECTS[table]:
        rows = picked[r]
        if rows.size == 0:
            continue
        stats.injected.setdefault(table, {})[r] = rows.size
        if r == "missing_key":
            if table == "marketing_spend":  # staging reads an empty date as unparseable
                out["spend_date"] = _replace(out["spend_date"], rows, [None] * rows.size)
                continue
            which = vr.integers(0, len(spec.key_cols), rows.size)
            values = _pick(vr, MISSING_KEYS, rows.size)
            for k, name in enumerate(spec.key_cols):
                sel = which == k
                out[name] = _replace(out[name], rows[sel], [v for v, s in zip(values, sel, strict=True) if s])
        elif r == "unparseable_timestamp":
            assert spec.ts_col is not None
            if table == "marketing_spend":
                dates = [dt.date.fromisoformat(v) for v in cols["spend_date"].take(rows).to_pylist()]
                bad = [f"{d:%m/%d/%Y}" if i % 2 else f"{d:%d.%m.%Y}" for i, d in enumerate(dates)]
                out["spend_date"] = _replace(out["spend_date"], rows, bad)
                continue
            out[spec.ts_col] = _replace(
                out[spec.ts_col], rows, _garbage_timestamps(vr, loaded_seconds(rows), allow_null=True)
            )
        elif r == "future_timestamp":
            assert spec.ts_col is not None
            if table == "marketing_spend":  # the row claims to be loaded before its day began
                day_s = np.array(
                    [(dt.date.fromisoformat(v) - _EPOCH).days * DAY for v in cols["spend_date"].take(rows).to_pylist()]
                )
                new_us = (day_s - vr.integers(3600, 2 * DAY, rows.size)) * 1_000_000
                out["_loaded_at"] = _replace(out["_loaded_at"], rows, _ts_array(new_us))
                continue
            ahead = loaded_seconds(rows) + vr.integers(3600, 10 * DAY, rows.size)
            out[spec.ts_col] = _replace(out[spec.ts_col], rows, _ts_strings(ahead, 0, 0))
        elif r == "unknown_currency":
            assert spec.currency_col is not None
            out[spec.currency_col] = _replace(out[spec.currency_col], rows, _pick(vr, BAD_CURRENCIES, rows.size))
        elif r == "invalid_amount":
            bad_values: Sequence[str | None] = (*BAD_AMOUNTS, "", None) if spec.empty_money_invalid else BAD_AMOUNTS
            names = money_col(rows, vr)
            values = _pick(vr, bad_values, rows.size)
            for name in spec.money_cols:
                sel = np.array([n == name for n in names])
                out[name] = _replace(out[name], rows[sel], [v for v, s in zip(values, sel, strict=True) if s])
        elif r == "invalid_quantity":
            assert spec.qty_col is not None
            out[spec.qty_col] = _replace(out[spec.qty_col], rows, _arrow_int(_pick(vr, BAD_QUANTITIES, rows.size)))
        elif r == "invalid_rating":
            assert spec.rating_col is not None
            out[spec.rating_col] = _replace(out[spec.rating_col], rows, _arrow_int(_pick(vr, BAD_RATINGS, rows.size)))
        elif r == "invalid_score":
            assert spec.score_col is not None
            out[spec.score_col] = _replace(out[spec.score_col], rows, _arrow_int(_pick(vr, BAD_SCORES, rows.size)))
        elif r == "orphan_line":
            assert spec.parent_col is not None
            fake = orphan_base + vr.integers(0, 999_999_999, rows.size)
            out[spec.parent_col] = _replace(out[spec.parent_col], rows, _ids(spec.parent_prefix, fake, 10))
        elif r == "unknown_customer":
            assert spec.customer_col is not None
            fake = 9_000_000 + vr.integers(0, 999_999, rows.size)
            out[spec.customer_col] = _replace(out[spec.customer_col], rows, _ids("C", fake, 7))
    messy_rows = picked.get("messy_amount", np.zeros(0, dtype=np.int64))
    if messy_rows.size:
        mr = _rng(seed, _DIRTY_VALUE, chunk, t, 1)  # its own stream: the other defects do not move
        names = money_col(messy_rows, mr)
        for name in spec.money_cols:
            sel = np.array([n == name for n in names])
            rows = messy_rows[sel]
            if rows.size == 0:
                continue
            currencies = cols[spec.currency_col].take(rows).to_pylist() if spec.currency_col else ["USD"] * rows.size
            if spec.currency_col is None and table.endswith("_lines"):
                currencies = cols["_currency"].take(rows).to_pylist()
            out[name] = _replace(out[name], rows, _messy(mr, cols[name].take(rows).to_pylist(), currencies))
        stats.messy[table] = stats.messy.get(table, 0) + messy_rows.size
    exact, reloaded = picked["duplicate_exact"], picked["duplicate_reloaded"]
    if exact.size or reloaded.size:
        again = {k: v.take(reloaded) for k, v in out.items()}
        later = again["_loaded_at"].cast(pa.int64()).to_numpy() + vr.integers(DAY, 20 * DAY, reloaded.size) * 1_000_000
        again["_loaded_at"] = _ts_array(later)
        if spec.reload_col == "status":  # re-exported by another system version: other case
            status = again["status"]
            again["status"] = pc.if_else(
                pc.equal(status, pc.utf8_upper(status)), pc.utf8_lower(status), pc.utf8_upper(status)
            )
        elif spec.reload_col == "amount":  # a restated spend
            amounts = np.array([float(v) for v in again["amount"].to_pylist()])
            again["amount"] = _money_strings(np.round(amounts * 100 * vr.uniform(0.95, 1.05, amounts.size)))
        out = {k: pa.chunked_array([v, v.take(exact), again[k]]) for k, v in out.items()}
        stats.duplicates.setdefault(table, {})
        stats.duplicates[table]["duplicate_exact"] = stats.duplicates[table].get("duplicate_exact", 0) + exact.size
        stats.duplicates[table]["duplicate_reloaded"] = (
            stats.duplicates[table].get("duplicate_reloaded", 0) + reloaded.size
        )
    return out, picked


# ---------------------------------------------------------------------------------------------
# One chunk of customers and everything they do
# ---------------------------------------------------------------------------------------------


class _Chunk:
    """Customers first_gid .. first_gid + n - 1 and all their activity."""

    def __init__(self, ctx: _Context, index: int, first_gid: int, n: int) -> None:
        self.ctx = ctx
        self.index = index
        self.first_gid = first_gid
        self.n = n
        self.rng = _rng(ctx.seed, _BASE, index)
        self.tables: dict[str, Columns] = {}
        self.stats = _Stats.empty()
        self.sink: Sink | None = None
        self.out: dict[str, pa.Table] = {}
        self.identity_emails: list[pa.Array | pa.ChunkedArray] = []

    # -- helpers ------------------------------------------------------------------------------

    def _tod(self, n: int, store: np.ndarray | bool) -> np.ndarray:
        """Local seconds of day: store opening hours or online activity hours."""
        rng = self.rng
        online = _choice(rng, n, ONLINE_HOURS)
        instore = _choice(rng, n, STORE_HOURS)
        hour = np.where(store, instore, online)
        return hour * 3600 + rng.integers(0, 3600, n)

    def _fmt(self, table: str, n: int) -> np.ndarray:
        return _choice(self.rng, n, TS_FORMAT_P[table]).astype(np.int8)

    def _id_base(self) -> int:
        return self.index * 100_000_000

    def _clip_window(self, s: np.ndarray) -> np.ndarray:
        s = np.where(s >= END_EXCL_S, s - DAY, s)
        return np.where(s < START_S, s + DAY, s)

    # -- customers ----------------------------------------------------------------------------

    def customers(self) -> None:
        rng, ctx, n = self.rng, self.ctx, self.n
        self.gid = self.first_gid + np.arange(n, dtype=np.int64)
        country = _choice(rng, n, COUNTRY_P)
        city_u = rng.random(n)
        is_buyer = rng.random(n) >= PROSPECT_SHARE
        habit = _choice(rng, n, HABIT_P)
        habit[~is_buyer] = ONLINE
        card_u = rng.random(n)
        has_card = card_u < np.where(habit == ONLINE, 0.10, 0.92)
        has_card[~is_buyer] = card_u[~is_buyer] < 0.04
        gender = _choice(rng, n, (0.52, 0.41, 0.02, 0.05))  # F, M, X, unknown
        nf, nm = len(FIRST_NAMES_F), len(FIRST_NAMES_M)
        first_idx = np.where(
            gender == 0,
            rng.integers(0, nf, n),
            np.where(gender == 1, nf + rng.integers(0, nm, n), rng.integers(0, nf + nm, n)),
        )
        last_idx = rng.integers(0, len(LAST_NAMES), n)
        pattern = _choice(rng, n, (0.45, 0.2, 0.2, 0.15))
        generic = rng.random(n) < 0.75
        domain_generic = _choice(rng, n, GENERIC_DOMAIN_P)
        domain_local = rng.integers(0, 2, n)
        age = np.clip(np.round(rng.normal(41, 13, n)), 18, 85).astype(np.int32)
        birth_null = rng.random(n) < 0.07
        pre = rng.random(n) < PRE_WINDOW_SHARE
        pre_day = rng.integers(-PRE_WINDOW_DAYS, 0, n)
        win_day = _choice(rng, n, ctx.calendar.acquisition)
        signup_day = np.where(pre, pre_day, win_day)
        acq = np.zeros(n, dtype=np.int64)
        acq_u = rng.random(n)
        for h in (ONLINE, STORE, OMNI):
            pick = np.minimum(np.searchsorted(np.cumsum(ACQ_P[h]), acq_u, side="right"), 7)
            acq = np.where(habit == h, pick, acq)
        self.signup_in_store = acq == ACQUISITION_CODES.index("store")
        tod = self._tod(n, self.signup_in_store)
        consent = rng.random(n) < 0.62
        consent_null = rng.random(n) < 0.02
        # behaviour
        self.lam = rng.gamma(PURCHASE_R, 1.0 / PURCHASE_ALPHA, n)
        self.p_drop = rng.beta(DROPOUT_A, DROPOUT_B, n)
        self.tier = rng.beta(2.2, 2.2, n)
        self.basket = rng.gamma(2.0, 0.5, n)
        self.deal = rng.random(n) < 0.15
        self.fav1 = _choice(rng, n, CATEGORY_P)
        fav2 = _choice(rng, n, CATEGORY_P)
        self.has_fav2 = (rng.random(n) < 0.5) & (fav2 != self.fav1)
        self.fav2 = fav2
        self.omni_share = rng.beta(2.0, 2.0, n)
        self.app_share = rng.beta(0.8, 1.2, n)
        self.eng = rng.beta(2.0, 3.0, n)
        self.returner = rng.gamma(2.0, 0.5, n)
        self.n_devices = 1 + (rng.random(n) < 0.45) + (rng.random(n) < 0.15)
        store_u = rng.random(n)
        self.first_delay_u = rng.random(n)
        self.first_delay = rng.exponential(20.0, n)
        # CRM updates and privacy requests
        self.upd = rng.random(n) < 0.12
        self.upd_frac = rng.random(n)
        self.upd_kind = _choice(rng, n, (0.5, 0.35, 0.15))  # moved, consent changed, new last name
        self.upd_city_u = rng.random(n)
        self.upd_last = rng.integers(0, len(LAST_NAMES), n)
        self.priv = rng.random(n) < 0.004
        self.priv_erasure = rng.random(n) < 0.3
        self.priv_frac = rng.random(n)

        # Customers registered twice: B gets A's identity with a differently spelled email.
        dr = _rng(ctx.seed, _DIRTY_PICK, self.index, 1000)
        m = int(_rng(ctx.seed, _DIRTY_COUNT, self.index, 1000).binomial(n, ctx.dirty.duplicate_person))
        cand_a = np.flatnonzero(is_buyer & (habit == ONLINE))
        cand_b = np.flatnonzero(is_buyer & (habit != ONLINE) & has_card)
        m = min(m, cand_a.size, cand_b.size)
        self.pair_a = np.sort(dr.choice(cand_a, m, replace=False)) if m else np.zeros(0, dtype=np.int64)
        self.pair_b = dr.choice(cand_b, m, replace=False) if m else np.zeros(0, dtype=np.int64)
        for arr in (country, city_u, first_idx, last_idx, gender, age, birth_null):
            arr[self.pair_b] = arr[self.pair_a]
        self.stats.merged_crm_records += m

        self.country = country
        self.city = ctx.city_start[country] + np.minimum(
            (ctx.city_count[country] * city_u**1.6).astype(np.int64), ctx.city_count[country] - 1
        )
        self.upd_city = ctx.city_start[country] + (ctx.city_count[country] * self.upd_city_u).astype(np.int64)
        self.home_store = ctx.store_start[country] + (STORES_PER_COUNTRY[country] * store_u).astype(np.int64)
        self.offset = COUNTRY_UTC_OFFSET_MIN[country]
        self.currency = COUNTRY_CURRENCY[country]
        self.is_buyer, self.habit, self.has_card = is_buyer, habit, has_card
        self.gender, self.first_idx, self.last_idx = gender, first_idx, last_idx
        self.birth_year = (2026 - age).astype(np.int32)
        self.birth_null = birth_null
        self.pre = pre
        self.signup_s = np.minimum(START_S + signup_day * DAY + tod - self.offset * 60, END_EXCL_S - 2 * 3600).astype(
            np.int64
        )
        self.acq = acq
        self.consent = consent
        self.consent_null = consent_null
        self.customer_ids = _ids("C", self.gid, 7)
        self.cards = _ids("6", (self.gid * 982_451_653) % 10**11, 11)
        self.upd_s = (
            self.signup_s
            + 30 * DAY
            + (self.upd_frac * np.maximum(END_EXCL_S - self.signup_s - 31 * DAY, 0)).astype(np.int64)
        )
        self.upd &= self.upd_s < END_EXCL_S - DAY
        self.priv_s = np.maximum(self.signup_s, START_S) + (
            self.priv_frac * (END_EXCL_S - DAY - np.maximum(self.signup_s, START_S))
        ).astype(np.int64)

        # Emails: first.last123@gmail.com and friends; the customer number keeps them unique.
        firsts = [*FIRST_NAMES_F, *FIRST_NAMES_M]
        first_l = pa.array([_ascii(f).lower() for f in firsts]).take(first_idx)
        initial = pa.array([_ascii(f).lower()[0] for f in firsts]).take(first_idx)
        last_l = pa.array([_ascii(x).lower().replace("'", "").replace(" ", "") for x in LAST_NAMES]).take(last_idx)
        head = pc.if_else(pa.array(pattern == 2), initial, first_l)
        sep = pa.array([".", "", ".", "_"]).take(pattern)
        domains = pa.array([*GENERIC_DOMAINS, *(d for pair in COUNTRY_DOMAINS for d in pair)]).take(
            np.where(generic, domain_generic, len(GENERIC_DOMAINS) + 2 * country + domain_local)
        )
        num = pc.cast(pa.array(self.gid), pa.string())
        emails = pc.binary_join_element_wise(head, sep, last_l, num, "@", domains, "")
        if m:
            kinds = dr.integers(0, 4, m)
            emails = _replace(emails, self.pair_b, _email_variant(emails.take(self.pair_a), kinds))
        self.emails = emails
        self.test = np.zeros(n, dtype=bool)

    # -- purchases ----------------------------------------------------------------------------

    def purchases(self) -> None:
        """BG/NBD-like purchase times for every buyer, bent by the seasonal calendar."""
        rng, cal = self.rng, self.ctx.calendar
        buyers = np.flatnonzero(self.is_buyer)
        lam = self.lam[buyers]
        n_max = np.minimum(rng.geometric(self.p_drop[buyers]), MAX_PURCHASES)
        signup_days = (self.signup_s[buyers] - START_S) / DAY
        immediate = self.signup_in_store[buyers] | (self.first_delay_u[buyers] < 0.6)
        t0 = signup_days + np.where(immediate, 0.0, self.first_delay[buyers])
        tau0 = np.where(self.pre[buyers], rng.exponential(1.0, buyers.size) / lam, cal.to_intensity(t0))
        owner, k = _within(n_max)
        gaps = rng.exponential(1.0, owner.size) / lam[owner]
        gaps[k == 0] = 0.0
        cum = np.cumsum(gaps)
        starts = np.cumsum(n_max) - n_max
        tau = tau0[owner] + cum - cum[starts][owner]
        keep = tau < cal.cum[-1]
        owner, k, tau = owner[keep], k[keep], tau[keep]
        t = cal.from_intensity(tau)
        cust = buyers[owner]
        n = cust.size
        online = (self.habit[cust] == ONLINE) | ((self.habit[cust] == OMNI) & (rng.random(n) < self.omni_share[cust]))
        # the first order right after signing up, where the customer signed up (till or website)
        first_now = (k == 0) & ~self.pre[cust] & immediate[owner] & (online != self.signup_in_store[cust])
        tod = self._tod(n, ~online)
        day = np.floor(t).astype(np.int64)
        s = START_S + day * DAY + tod - self.offset[cust] * 60
        s = np.where(first_now, self.signup_s[cust] + rng.integers(120, 1800, n), s)
        s = np.where(s < self.signup_s[cust] + 300, s + DAY, s)  # later that day: the next day
        s = self._clip_window(s)
        ok = s >= self.signup_s[cust] + 300
        self.p_cust, self.p_s, self.p_online = cust[ok], s[ok], online[ok]

    # -- orders and lines ---------------------------------------------------------------------

    def orders(self) -> None:
        rng, ctx = self.rng, self.ctx
        cust, s, online = self.p_cust, self.p_s, self.p_online
        n = cust.size
        app = rng.random(n) < self.app_share[cust]
        card_used = self.has_card[cust] & (rng.random(n) < 0.9)
        away = rng.random(n) < 0.15
        away_store = ctx.store_start[self.country[cust]] + (
            STORES_PER_COUNTRY[self.country[cust]] * rng.random(n)
        ).astype(np.int64)
        store = np.where(away, away_store, self.home_store[cust])
        # Walk-in shoppers who are not in the CRM.
        n_store = int((~online).sum())
        w = int(rng.poisson(0.35 * n_store + 1))
        w_day = _choice(rng, w, ctx.calendar.season)
        w_store = rng.integers(0, len(ctx.store_ids), w)
        w_country = ctx.store_country[w_store]
        w_s = self._clip_window(START_S + w_day * DAY + self._tod(w, True) - COUNTRY_UTC_OFFSET_MIN[w_country] * 60)
        kind = np.concatenate([np.where(online, 0, 1), np.ones(w, dtype=np.int64)])
        o_cust = np.concatenate([cust, np.full(w, -1)])
        o_s = np.concatenate([s, w_s])
        o_store = np.concatenate([np.where(online, -1, store), w_store])
        o_app = np.concatenate([app & online, np.zeros(w, dtype=bool)])
        o_card = np.concatenate([card_used & ~online, np.zeros(w, dtype=bool)])
        known = o_cust >= 0
        safe = np.where(known, o_cust, 0)
        o_country = np.where(kind == 0, self.country[safe], ctx.store_country[np.maximum(o_store, 0)])
        order = np.lexsort((o_s, kind))
        kind, o_cust, o_s, o_store, o_app, o_card, o_country, known, safe = (
            a[order] for a in (kind, o_cust, o_s, o_store, o_app, o_card, o_country, known, safe)
        )
        n = kind.size
        tier = np.where(known, self.tier[safe], rng.beta(2.2, 2.2, n))
        basket = np.where(known, self.basket[safe], rng.gamma(2.0, 0.5, n))
        deal = np.where(known, self.deal[safe], rng.random(n) < 0.1)
        returner = np.where(known, self.returner[safe], 1.0)
        currency = COUNTRY_CURRENCY[o_country]
        # status
        r = rng.random(n)
        cancelled = r < np.where(kind == 0, 0.03, 0.008)
        returned = ~cancelled & (r < np.where(kind == 0, 0.03 + 0.035 * returner, 0.008 + 0.012 * returner))
        status = np.where(cancelled, 1, np.where(returned, 2, 0))
        # lines
        n_lines = np.clip(1 + rng.poisson(basket), 1, 5)
        l_order, l_k = _within(n_lines)
        L = l_order.size
        l_safe = safe[l_order]
        l_known = known[l_order]
        u = rng.random(L)
        cat = _choice(rng, L, CATEGORY_P)
        fav1 = np.where(l_known, self.fav1[l_safe], cat)
        fav2 = np.where(l_known & self.has_fav2[l_safe], self.fav2[l_safe], cat)
        cat = np.where(u < 0.45, fav1, np.where(u < 0.65, fav2, cat))
        rank = np.clip(
            np.round((tier[l_order] + rng.normal(0.0, 0.13, L)) * (SKUS_PER_CATEGORY - 1)),
            0,
            SKUS_PER_CATEGORY - 1,
        ).astype(np.int64)
        sku = cat * SKUS_PER_CATEGORY + rank
        qty = (1 + _choice(rng, L, (0.8, 0.13, 0.05, 0.02))).astype(np.int32)
        l_cur = currency[l_order]
        price = self.ctx.catalogue.price_cents[l_cur, sku]
        cost = self.ctx.catalogue.cost[l_cur, sku]
        ret_p = CATEGORY_RETURN_RATE[cat] * returner[l_order] * np.where(kind[l_order] == 0, 1.0, 0.4)
        ret_line = (status[l_order] == 0) & (rng.random(L) < ret_p)
        ret_qty = np.where(ret_line, 1 + (rng.random(L) * qty).astype(np.int32), 0)
        ret_qty = np.where(status[l_order] == 2, qty, ret_qty).astype(np.int32)
        # order amounts (local cents)
        gross = np.bincount(l_order, weights=qty * price, minlength=n).astype(np.int64)
        promo = ctx.calendar.promo[np.clip((o_s - START_S) // DAY, 0, N_DAYS - 1)]
        p_disc = np.minimum(np.where(deal, 0.5, 0.07) * np.where(promo, 2.5, 1.0), 0.9)
        has_disc = rng.random(n) < p_disc
        pct = np.array([0.10, 0.15, 0.20, 0.25, 0.30])[_choice(rng, n, (0.35, 0.2, 0.25, 0.1, 0.1))]
        disc = np.where(has_disc, np.round(gross * pct), 0).astype(np.int64)
        net = gross - disc
        ship = np.where(
            (kind == 0) & (net < CURRENCY_FREE_SHIPPING_CENTS[currency]), CURRENCY_SHIPPING_CENTS[currency], 0
        )
        tax = np.round((net + ship) * COUNTRY_TAX[o_country]).astype(np.int64)
        empty_u = rng.random(n)
        fmt_shop = self._fmt("shop_orders", n)
        fmt_pos = self._fmt("pos_transactions", n)
        loaded = _loaded_us(rng, o_s)
        lower_cur = rng.random(n) < 0.02
        ids_num = np.zeros(n, dtype=np.int64)
        n_shop = int((kind == 0).sum())
        ids_num[:n_shop] = self._id_base() + 1 + np.arange(n_shop)
        ids_num[n_shop:] = self._id_base() + 1 + np.arange(n - n_shop)
        self.o_kind, self.o_cust, self.o_s, self.o_status, self.o_card = kind, o_cust, o_s, status, o_card
        self.o_num, self.o_lines, self.o_app, self.o_store = ids_num, n_lines, o_app, o_store
        self.l_order, self.l_sku, self.l_k, self.l_ret = l_order, sku, l_k, ret_qty > 0
        self.line_start = np.cumsum(n_lines) - n_lines

        cur_codes = pa.array(CURRENCY_CODES).take(currency)
        cur_raw = pc.if_else(pa.array(lower_cur), pc.utf8_lower(cur_codes), cur_codes)
        disc_str = _money_strings(disc)
        disc_str = pc.if_else(pa.array((disc == 0) & (empty_u < 0.2)), pa.scalar(""), disc_str)
        disc_str = _with_nulls(disc_str, (disc == 0) & (empty_u >= 0.2) & (empty_u < 0.3) & (kind == 0))
        order_cols: Columns = {
            "discount_amount": disc_str,
            "shipping_amount": _money_strings(ship),
            "tax_amount": _money_strings(tax),
            "currency": cur_raw,
            "_loaded_at": _ts_array(loaded),
        }
        shop = slice(0, n_shop)
        pos = slice(n_shop, n)
        cid = self.customer_ids.take(np.maximum(o_cust, 0))
        card_str = self.cards.take(np.maximum(o_cust, 0))
        offsets = COUNTRY_UTC_OFFSET_MIN[o_country]
        self.tables["shop_orders"] = {
            "order_id": _ids("O", ids_num[shop], 10),
            "customer_id": cid[shop],
            "channel": _variants(rng, o_app[shop].astype(np.int64), WEB_CHANNEL_VARIANTS),
            "ordered_at": _ts_strings(o_s[shop], fmt_shop[shop], offsets[shop]),
            "status": _variants(rng, status[shop], SHOP_STATUS_VARIANTS),
            "currency": order_cols["currency"][shop],
            "discount_amount": order_cols["discount_amount"][shop],
            "shipping_amount": order_cols["shipping_amount"][shop],
            "tax_amount": order_cols["tax_amount"][shop],
            "_loaded_at": order_cols["_loaded_at"][shop],
        }
        self.tables["pos_transactions"] = {
            "transaction_id": _ids("T", ids_num[pos], 10),
            "store_id": ctx.store_ids.take(np.maximum(o_store[pos], 0)),
            "loyalty_card_number": _with_nulls(card_str[pos], ~o_card[pos]),
            "transacted_at": _ts_strings(o_s[pos], fmt_pos[pos], offsets[pos]),
            "status": _variants(rng, status[pos], POS_STATUS_VARIANTS),
            "currency": order_cols["currency"][pos],
            "discount_amount": order_cols["discount_amount"][pos],
            "tax_amount": order_cols["tax_amount"][pos],
            "_loaded_at": order_cols["_loaded_at"][pos],
        }
        # lines: '<order id>-<n>'
        l_kind = kind[l_order]
        l_loaded = loaded[l_order] + rng.integers(0, 5_000_000, L)
        cat_names = pa.array(CATEGORY_CODES).take(cat)
        cost_arr = pa.array(cost, mask=np.isnan(cost), type=pa.float64())
        price_str = ctx.catalogue.price_str.take(l_cur * ctx.catalogue.price_cents.shape[1] + sku)
        parent = pa.concat_arrays(
            [self.tables["shop_orders"]["order_id"], self.tables["pos_transactions"]["transaction_id"]]
        ).take(l_order)
        line_ids = pc.binary_join_element_wise(parent, pc.cast(pa.array(l_k + 1), pa.string()), "-")
        cur_l = pa.array(CURRENCY_CODES).take(l_cur)
        for table, k, id_col, parent_col in (
            ("shop_order_lines", 0, "order_line_id", "order_id"),
            ("pos_transaction_lines", 1, "transaction_line_id", "transaction_id"),
        ):
            sel = np.flatnonzero(l_kind == k)
            self.tables[table] = {
                id_col: line_ids.take(sel),
                parent_col: parent.take(sel),
                "sku": ctx.catalogue.sku.take(sku[sel]),
                "category": cat_names.take(sel),
                "quantity": pa.array(qty[sel], type=pa.int32()),
                "unit_price": price_str.take(sel),
                "unit_cost": cost_arr.take(sel),
                "returned_quantity": pa.array(ret_qty[sel], type=pa.int32()),
                "_loaded_at": _ts_array(l_loaded[sel]),
                "_currency": cur_l.take(sel),
            }
        self.l_kind = l_kind
        self.l_cat = cat
        self.l_qty = qty

    # -- store visits -------------------------------------------------------------------------

    def store_visits(self) -> None:
        rng = self.rng
        pos_rows = np.flatnonzero((self.o_kind == 1) & self.o_card)
        at_till = pos_rows[rng.random(pos_rows.size) < 0.7]
        browse = rng.choice(pos_rows, int(0.35 * pos_rows.size)) if pos_rows.size else pos_rows
        v_order = np.concatenate([at_till, browse])
        jitter = np.concatenate(
            [
                -rng.integers(60, 1800, at_till.size),
                np.round(rng.normal(0, 20 * DAY, browse.size)).astype(np.int64),
            ]
        )
        cust = self.o_cust[v_order]
        s = self.o_s[v_order] + jitter
        ok = (s >= np.maximum(START_S, self.signup_s[cust])) & (s < END_EXCL_S)
        v_order, cust, s = v_order[ok], cust[ok], s[ok]
        order = np.argsort(s, kind="stable")
        v_order, cust, s = v_order[order], cust[order], s[order]
        n = s.size
        self.tables["store_visits"] = {
            "visit_id": _ids("V", self._id_base() + 1 + np.arange(n), 10),
            "loyalty_card_number": self.cards.take(cust),
            "store_id": self.ctx.store_ids.take(self.o_store[v_order]),
            "visited_at": _ts_strings(s, self._fmt("store_visits", n), self.offset[cust]),
            "_loaded_at": _ts_array(_loaded_us(rng, s)),
        }

    # -- clickstream --------------------------------------------------------------------------

    def web_events(self) -> None:
        rng, cal = self.rng, self.ctx.calendar
        # 1. a session before every online order, logged in by checkout
        shop_rows = np.flatnonzero(self.o_kind == 0)
        p_cust = self.o_cust[shop_rows]
        p_app = self.o_app[shop_rows]
        n_p = shop_rows.size
        p_dev = np.where(p_app, 1, np.where((self.n_devices[p_cust] > 2) & (rng.random(n_p) < 0.3), 2, 0))
        # 2. browsing sessions while a customer is active, fewer once they lapse
        last_buy = np.full(self.n, -1, dtype=np.int64)
        np.maximum.at(last_buy, self.o_cust[self.o_cust >= 0], self.o_s[self.o_cust >= 0])
        a0 = np.maximum(self.signup_s, START_S)
        active_end = np.where(last_buy > 0, last_buy, a0) + rng.exponential(75 * DAY, self.n).astype(np.int64)
        a1 = np.minimum(active_end, END_EXCL_S - 1)
        span_days = np.maximum(a1 - a0, 0) / DAY
        weight = np.where(~self.is_buyer, 0.6, np.where(self.habit == STORE, 0.25, 1.0))
        n_b = rng.poisson(self.eng * 0.018 * span_days * weight)
        b_cust, _ = _within(n_b)
        b_s = a0[b_cust] + (rng.random(b_cust.size) * np.maximum(a1 - a0, 1)[b_cust]).astype(np.int64)
        b_app = rng.random(b_cust.size) < self.app_share[b_cust]
        b_dev = np.where(b_app, 1, np.where((self.n_devices[b_cust] > 2) & (rng.random(b_cust.size) < 0.3), 2, 0))
        b_login = rng.random(b_cust.size) < np.where(self.is_buyer[b_cust], 0.45, 0.3)
        # 3. visitors who never log in
        n_a = int(rng.poisson(0.2 * (n_p + b_cust.size)))
        a_s = START_S + _choice(rng, n_a, cal.season) * DAY + self._tod(n_a, False)
        a_app = rng.random(n_a) < 0.3
        # sessions
        S = n_p + b_cust.size + n_a
        kind = np.concatenate([np.zeros(n_p, np.int8), np.ones(b_cust.size, np.int8), np.full(n_a, 2, np.int8)])
        cust = np.concatenate([p_cust, b_cust, np.full(n_a, -1)])
        safe = np.maximum(cust, 0)
        app = np.concatenate([p_app, b_app, a_app])
        dev_num = np.concatenate(
            [
                self.gid[p_cust] * 4 + p_dev,
                self.gid[b_cust] * 4 + b_dev,
                (40_000_000 + self.index * 4_000_000 + np.arange(n_a)) * 4 + 3,
            ]
        )
        login = np.concatenate([np.ones(n_p, bool), b_login, np.zeros(n_a, bool)])
        early = login & (rng.random(S) < np.where(kind == 0, 0.4, 0.6))
        lines = np.concatenate([self.o_lines[shop_rows], np.zeros(S - n_p, np.int64)])
        n_pv = 1 + rng.poisson(np.where(kind == 0, 0.8, 1.2), S)
        n_prod = lines + rng.poisson(np.where(kind == 0, 1.2, 1.8), S)
        n_cart = np.where(kind == 0, lines, (rng.random(S) < 0.15).astype(np.int64))
        total = (1 + n_pv + n_prod + n_cart + login).astype(np.int32)
        # events: e_sess is each event's session, w its position in the session
        e_sess = np.repeat(np.arange(S, dtype=np.int32), total)
        E = e_sess.size
        starts = np.cumsum(total, dtype=np.int64) - total
        w = (np.arange(E, dtype=np.int64) - starts[e_sess]).astype(np.int32)
        early_e = early[e_sess]
        ww = np.where(early_e & (w >= 1), w - 1, w)
        c2 = (1 + n_pv).astype(np.int32)[e_sess]
        c3 = c2 + n_prod.astype(np.int32)[e_sess]
        etype = (ww >= 1).astype(np.int8) + (ww >= c2) + (ww >= c3) + (ww >= c3 + n_cart.astype(np.int32)[e_sess])
        etype = np.where(early_e & (w == 1), 4, etype).astype(np.int8)
        del early_e
        login_pos = np.where(early, 1, np.where(login, total - 1, 1 << 30)).astype(np.int32)
        has_cust = (w >= login_pos[e_sess]) & (cust >= 0)[e_sess]
        # skus: the order's own lines for the first product views and every add-to-cart
        within_seg = np.where(etype == 2, ww - c2, ww - c3)
        del ww, c2, c3
        e_lines = lines.astype(np.int32)[e_sess]
        own = (kind == 0)[e_sess] & (((etype == 2) & (within_seg < e_lines)) | (etype == 3))
        order_row = np.concatenate([shop_rows, np.zeros(S - n_p, np.int64)])
        line_idx = self.line_start[order_row][e_sess] + np.minimum(within_seg, np.maximum(e_lines - 1, 0))
        own_sku = self.l_sku[np.where(own, line_idx, 0)]
        del within_seg, e_lines, line_idx
        known = (cust >= 0)[e_sess]
        rand_cat = np.where(known & (rng.random(E) < 0.6), self.fav1[safe][e_sess], _choice(rng, E, CATEGORY_P))
        tier = np.where(known, self.tier[safe][e_sess], 0.5)
        rand_rank = np.clip(
            np.round((tier + rng.normal(0, 0.2, E)) * (SKUS_PER_CATEGORY - 1)), 0, SKUS_PER_CATEGORY - 1
        ).astype(np.int64)
        sku = np.where(own, own_sku, rand_cat * SKUS_PER_CATEGORY + rand_rank)
        del known, rand_cat, tier, rand_rank, own_sku, own
        with_sku = (etype == 2) | (etype == 3)
        # times: a few seconds to minutes apart; purchase sessions end just before the order
        gaps = np.where(w == 0, 0, 5 + rng.exponential(45.0, E)).astype(np.int64)
        del w
        cum = np.cumsum(gaps)
        del gaps
        rel = cum - cum[starts][e_sess]
        del cum
        dur = rel[starts + total - 1]
        start = np.concatenate(
            [
                self.o_s[shop_rows] - dur[:n_p] - rng.integers(20, 240, n_p),
                b_s,
                a_s,
            ]
        )
        s = start[e_sess] + rel
        ok = s < END_EXCL_S
        e_sess, etype, has_cust, sku, with_sku, s = (a[ok] for a in (e_sess, etype, has_cust, sku, with_sku, s))
        E = s.size
        anon = _ids("A", (dev_num * 2_654_435_761) % 10**12, 12)
        platform = _variants(rng, app.astype(np.int64), PLATFORM_VARIANTS)
        self.tables["web_events"] = {
            "event_id": _ids("E", self.index * 10**10 + 1 + np.arange(E), 12),
            "anonymous_id": anon.take(e_sess),
            "customer_id": _with_nulls(self.customer_ids.take(safe[e_sess]), ~has_cust),
            "platform": platform.take(e_sess),
            "event_type": pa.array(WEB_EVENT_CODES).take(etype),
            "sku": _with_nulls(self.ctx.catalogue.sku.take(sku), ~with_sku),
            "occurred_at": _ts_strings(s, self._fmt("web_events", E), 0),
            "_loaded_at": _ts_array(_loaded_us(rng, s, min_delay=60.0)),
        }
        self.web_is_login = etype == 4
        self.last_buy = last_buy

    # -- email --------------------------------------------------------------------------------

    def email_events(self) -> None:
        rng = self.rng
        camp = self.ctx.campaign_s
        n = self.n
        consent = self.consent & ~self.consent_null
        # consent changes in a CRM update, withdrawals through privacy requests
        flip = self.upd & (self.upd_kind == 1)
        w0 = np.maximum(self.signup_s, START_S)
        w1 = np.full(n, END_EXCL_S, dtype=np.int64)
        w0 = np.where(flip & ~consent, self.upd_s, w0)
        w1 = np.where(flip & consent, self.upd_s, w1)
        subscribed = consent | flip
        w1 = np.where(self.priv & ~self.priv_erasure, np.minimum(w1, self.priv_s), w1)
        i0 = np.searchsorted(camp, w0)
        i1 = np.searchsorted(camp, w1)
        cnt = np.where(subscribed, np.maximum(i1 - i0, 0), 0)
        pc_cust = np.repeat(np.arange(n, dtype=np.int32), cnt)  # (customer, campaign) pairs
        pc_camp = (np.arange(pc_cust.size) - (np.cumsum(cnt) - cnt)[pc_cust] + i0[pc_cust]).astype(np.int32)
        sent = rng.random(pc_cust.size) < (0.18 + 0.2 * self.eng[pc_cust])
        pc_cust, pc_camp = pc_cust[sent], pc_camp[sent]
        del sent
        P = pc_cust.size
        send_s = camp[pc_camp] + rng.integers(0, 2 * 3600, P)
        # engagement fades once a customer lapses
        active_until = np.where(self.last_buy > 0, self.last_buy, self.signup_s) + 60 * DAY
        lapsed = np.maximum(send_s - active_until[pc_cust], 0) / DAY
        p_open = 0.75 * self.eng[pc_cust] * np.exp(-lapsed / 200.0)
        opened = rng.random(P) < p_open
        open_s = send_s + 300 + rng.exponential(8 * 3600, P).astype(np.int64)
        opened &= open_s < END_EXCL_S
        clicked = opened & (rng.random(P) < 0.12 + 0.25 * self.eng[pc_cust])
        click_s = open_s + 10 + rng.exponential(120, P).astype(np.int64)
        clicked &= click_s < END_EXCL_S
        unsub = rng.random(P) < 0.0005 + 0.002 * (1 - self.eng[pc_cust]) + 0.002 * (lapsed > 180)
        # nothing is sent after the first unsubscribe
        csum = np.cumsum(unsub) - unsub
        first = np.searchsorted(pc_cust, np.arange(n))
        keep = (csum - csum[first[pc_cust]]) == 0 if P else np.zeros(0, dtype=bool)
        unsub_s = np.where(opened, open_s + 60, send_s + rng.exponential(2 * DAY, P).astype(np.int64))
        unsub &= unsub_s < END_EXCL_S
        parts = [
            (keep, send_s, 0),
            (keep & opened, open_s, 1),
            (keep & clicked, click_s, 2),
            (keep & unsub, unsub_s, 3),
        ]
        e_cust = np.concatenate([pc_cust[m] for m, _, _ in parts])
        e_camp = np.concatenate([pc_camp[m] for m, _, _ in parts])
        e_s = np.concatenate([t[m] for m, t, _ in parts])
        e_type = np.concatenate([np.full(int(m.sum()), code, np.int8) for m, _, code in parts])
        order = np.argsort(e_s, kind="stable")
        e_cust, e_camp, e_s, e_type = e_cust[order], e_camp[order], e_s[order], e_type[order]
        E = e_s.size
        self.tables["email_events"] = {
            "event_id": _ids("M", self.index * 10**10 + 1 + np.arange(E), 12),
            "customer_id": self.customer_ids.take(e_cust),
            "campaign_id": self.ctx.campaign_ids.take(e_camp),
            "event_type": pa.array(EMAIL_EVENT_CODES).take(e_type),
            "occurred_at": _ts_strings(e_s, self._fmt("email_events", E), self.offset[e_cust]),
            "_loaded_at": _ts_array(_loaded_us(rng, e_s, min_delay=120.0)),
        }

    # -- feedback -----------------------------------------------------------------------------

    def _identified_orders(self) -> np.ndarray:
        """Orders tied to a CRM customer: web and app orders, store purchases with the card."""
        return np.flatnonzero((self.o_cust >= 0) & ((self.o_kind == 0) | self.o_card))

    def _emails_with_variants(self, cust: np.ndarray, table: int) -> pa.Array:
        emails = self.emails.take(cust)
        rate = self.ctx.dirty.email_variant
        if not rate or cust.size == 0:
            return emails
        dr = _rng(self.ctx.seed, _DIRTY_PICK, self.index, 2000 + table)
        rows = np.flatnonzero(dr.random(cust.size) < rate)
        return _replace(emails, rows, _email_variant(emails.take(rows), dr.integers(0, 4, rows.size)))

    def feedback(self) -> None:
        rng = self.rng
        ident = self._identified_orders()
        o_has_return = np.bincount(self.l_order, weights=self.l_ret, minlength=self.o_kind.size) > 0
        o_has_return |= self.o_status == 2
        # support tickets: more after returns and cancellations
        p = 0.025 + 0.3 * o_has_return[ident] + 0.15 * (self.o_status[ident] == 1)
        t_order = ident[rng.random(ident.size) < p]
        ret = o_has_return[t_order]
        opened = self.o_s[t_order] + (
            np.where(ret, rng.uniform(3, 20, t_order.size), rng.uniform(0.1, 10, t_order.size)) * DAY
        ).astype(np.int64)
        t_cust = self.o_cust[t_order]
        # prospects ask about their account now and then
        pros = np.flatnonzero(~self.is_buyer)
        pros = pros[rng.random(pros.size) < 0.02]
        pros_s = np.maximum(self.signup_s[pros], START_S) + rng.integers(DAY, 120 * DAY, pros.size)
        n_guest = int(rng.poisson(0.05 * (t_order.size + pros.size)))
        guest_s = START_S + _choice(rng, n_guest, self.ctx.calendar.season) * DAY + self._tod(n_guest, False)
        cust = np.concatenate([t_cust, pros, np.full(n_guest, -1)])
        opened = np.concatenate([opened, pros_s, guest_s])
        is_return = np.concatenate([ret, np.zeros(pros.size + n_guest, bool)])
        keep = opened < END_EXCL_S
        cust, opened, is_return = cust[keep], opened[keep], is_return[keep]
        order = np.argsort(opened, kind="stable")
        cust, opened, is_return = cust[order], opened[order], is_return[order]
        n = cust.size
        resolved = opened + 600 + rng.exponential(DAY, n).astype(np.int64)
        unresolved = (rng.random(n) < 0.1) | (resolved >= END_EXCL_S)
        known = cust >= 0
        emails = self._emails_with_variants(np.maximum(cust, 0), 0)
        guest_emails = pc.binary_join_element_wise(
            "guest",
            pc.cast(pa.array(self.index * 10_000_000 + np.arange(n)), pa.string()),
            "@",
            pa.array(list(GENERIC_DOMAINS)).take(_choice(rng, n, GENERIC_DOMAIN_P)),
            "",
        )
        topic_ret = pa.array(TICKET_TOPICS_RETURN).take(rng.integers(0, len(TICKET_TOPICS_RETURN), n))
        topic_other = pa.array(TICKET_TOPICS_OTHER).take(rng.integers(0, len(TICKET_TOPICS_OTHER), n))
        offsets = np.where(known, self.offset[np.maximum(cust, 0)], 0)
        fmt = self._fmt("support_tickets", n)
        self.tables["support_tickets"] = {
            "ticket_id": _ids("TK", self._id_base() + 1 + np.arange(n), 10),
            "email": pc.if_else(pa.array(known), emails, guest_emails),
            "channel": pa.array(TICKET_CHANNELS).take(_choice(rng, n, TICKET_CHANNEL_P)),
            "topic": pc.if_else(pa.array(is_return), topic_ret, topic_other),
            "opened_at": _ts_strings(opened, fmt, offsets),
            "resolved_at": _with_nulls(_ts_strings(resolved, fmt, offsets), unresolved),
            "_loaded_at": _ts_array(_loaded_us(rng, np.where(unresolved, opened, resolved))),
        }
        # product reviews: a few lines, worse after a return
        l_ident = np.zeros(self.o_kind.size, dtype=bool)
        l_ident[ident] = True
        line_ok = l_ident[self.l_order] & (self.o_status[self.l_order] != 1)
        cand = np.flatnonzero(line_ok)
        returned = self.l_ret[cand] | (self.o_status[self.l_order[cand]] == 2)
        cand = cand[rng.random(cand.size) < 0.05 + 0.08 * returned]
        returned = self.l_ret[cand] | (self.o_status[self.l_order[cand]] == 2)
        good = 1 + _choice(rng, cand.size, (0.03, 0.05, 0.12, 0.30, 0.50))
        bad = 1 + _choice(rng, cand.size, (0.35, 0.25, 0.20, 0.12, 0.08))
        rating = np.where(returned, bad, good).astype(np.int32)
        r_cust = self.o_cust[self.l_order[cand]]
        r_s = self.o_s[self.l_order[cand]] + (rng.uniform(2, 30, cand.size) * DAY).astype(np.int64)
        keep = r_s < END_EXCL_S
        cand, rating, r_cust, r_s = cand[keep], rating[keep], r_cust[keep], r_s[keep]
        order = np.argsort(r_s, kind="stable")
        cand, rating, r_cust, r_s = cand[order], rating[order], r_cust[order], r_s[order]
        n = cand.size
        self.tables["product_reviews"] = {
            "review_id": _ids("RV", self._id_base() + 1 + np.arange(n), 10),
            "customer_id": self.customer_ids.take(r_cust),
            "sku": self.ctx.catalogue.sku.take(self.l_sku[cand]),
            "rating": pa.array(rating, type=pa.int32()),
            "reviewed_at": _ts_strings(r_s, self._fmt("product_reviews", n), self.offset[r_cust]),
            "_loaded_at": _ts_array(_loaded_us(rng, r_s)),
        }
        # NPS: a survey after some orders; detractors after returns
        nps_orders = ident[(self.o_status[ident] != 1) & (rng.random(ident.size) < 0.08)]
        n_cust = self.o_cust[nps_orders]
        score = np.clip(
            np.round(rng.normal(8.4 - 3.2 * o_has_return[nps_orders] - 1.5 * (0.5 - self.eng[n_cust]), 1.7)),
            0,
            10,
        ).astype(np.int32)
        n_s = self.o_s[nps_orders] + (rng.uniform(1, 14, nps_orders.size) * DAY).astype(np.int64)
        keep = n_s < END_EXCL_S
        n_cust, score, n_s = n_cust[keep], score[keep], n_s[keep]
        order = np.argsort(n_s, kind="stable")
        n_cust, score, n_s = n_cust[order], score[order], n_s[order]
        n = n_s.size
        self.tables["nps_responses"] = {
            "response_id": _ids("NPS", self._id_base() + 1 + np.arange(n), 10),
            "email": self._emails_with_variants(n_cust, 1),
            "score": pa.array(score, type=pa.int32()),
            "responded_at": _ts_strings(n_s, self._fmt("nps_responses", n), self.offset[n_cust]),
            "_loaded_at": _ts_array(_loaded_us(rng, n_s)),
        }

    def referrals(self) -> None:
        """Referred customers get a referrer who bought before; more invitations go unanswered."""
        rng = self.rng
        first_buy = np.full(self.n, np.iinfo(np.int64).max, dtype=np.int64)
        known = self.o_cust >= 0
        np.minimum.at(first_buy, self.o_cust[known], self.o_s[known])
        buyers = np.flatnonzero(first_buy < END_EXCL_S)
        by_time = buyers[np.argsort(first_buy[buyers], kind="stable")]
        times = first_buy[by_time]
        referral_channel = ACQUISITION_CODES.index("referral")
        referred = np.flatnonzero((self.acq == referral_channel) & ~self.pre)
        r_s = self.signup_s[referred] - (rng.uniform(1, 20, referred.size) * DAY).astype(np.int64)
        avail = np.searchsorted(times, r_s - DAY)
        ok = avail > 0
        referred, r_s, avail = referred[ok], r_s[ok], avail[ok]
        referrer = by_time[(rng.random(referred.size) * avail).astype(np.int64)]
        # invitations that never turned into a customer
        n_open = int(rng.poisson(2.0 * referred.size + 1))
        open_ref = buyers[rng.integers(0, max(buyers.size, 1), n_open)] if buyers.size else np.zeros(0, np.int64)
        n_open = open_ref.size
        open_s = first_buy[open_ref] + (rng.uniform(1, 400, n_open) * DAY).astype(np.int64)
        firsts = [*FIRST_NAMES_F, *FIRST_NAMES_M]
        open_emails = pc.binary_join_element_wise(
            pa.array([_ascii(f).lower() for f in firsts]).take(rng.integers(0, len(firsts), n_open)),
            ".",
            pa.array([_ascii(x).lower().replace("'", "").replace(" ", "") for x in LAST_NAMES]).take(
                rng.integers(0, len(LAST_NAMES), n_open)
            ),
            pc.cast(pa.array(10_000_000 + self.index * 1_000_000 + np.arange(n_open)), pa.string()),
            "@",
            pa.array(list(GENERIC_DOMAINS)).take(_choice(rng, n_open, GENERIC_DOMAIN_P)),
            "",
        )
        ref_cust = np.concatenate([referrer, open_ref])
        s = np.concatenate([r_s, open_s])
        emails = pa.concat_arrays([self.emails.take(referred), open_emails])
        keep = (s < END_EXCL_S) & (s >= START_S)
        idx = np.flatnonzero(keep)
        idx = idx[np.argsort(s[idx], kind="stable")]
        ref_cust, s = ref_cust[idx], s[idx]
        n = idx.size
        self.tables["referrals"] = {
            "referral_id": _ids("RF", self._id_base() + 1 + np.arange(n), 10),
            "referrer_customer_id": self.customer_ids.take(ref_cust),
            "referred_email": emails.take(idx),
            "referred_at": _ts_strings(s, self._fmt("referrals", n), self.offset[ref_cust]),
            "_loaded_at": _ts_array(_loaded_us(rng, s)),
        }

    def privacy_requests(self) -> None:
        rng = self.rng
        cust = np.flatnonzero(self.priv)
        s = self.priv_s[cust]
        order = np.argsort(s, kind="stable")
        cust, s = cust[order], s[order]
        n = cust.size
        self.tables["privacy_requests"] = {
            "request_id": _ids("PR", self._id_base() + 1 + np.arange(n), 10),
            "customer_id": self.customer_ids.take(cust),
            "request_type": pa.array(PRIVACY_REQUEST_CODES).take(np.where(self.priv_erasure[cust], 0, 1)),
            "requested_at": _ts_strings(s, self._fmt("privacy_requests", n), self.offset[cust]),
            "_loaded_at": _ts_array(_loaded_us(rng, s)),
        }

    # -- CRM ----------------------------------------------------------------------------------

    def crm(self) -> None:
        rng, ctx, n = self.rng, self.ctx, self.n
        firsts = pa.array([*FIRST_NAMES_F, *FIRST_NAMES_M])
        lasts = pa.array(LAST_NAMES)
        gender = _variants(rng, np.minimum(self.gender, 2), GENDER_VARIANTS)
        gender = _with_nulls(gender, self.gender == 3)
        country = pa.array(COUNTRIES).take(self.country)
        country = pc.if_else(pa.array(rng.random(n) < 0.03), pc.utf8_lower(country), country)
        consent = pa.array(self.consent, mask=self.consent_null, type=pa.bool_())
        signup = _ts_strings(self.signup_s, self._fmt("crm_customers", n), self.offset)
        fmt_upd = self._fmt("crm_customers", n)
        base: Columns = {
            "customer_id": self.customer_ids,
            "email": self.emails,
            "first_name": firsts.take(self.first_idx),
            "last_name": lasts.take(self.last_idx),
            "loyalty_card_number": _with_nulls(self.cards, ~self.has_card),
            "birth_year": pa.array(self.birth_year, mask=self.birth_null, type=pa.int32()),
            "gender": gender,
            "country_code": country,
            "region": ctx.city_regions.take(self.city),
            "city": ctx.city_names.take(self.city),
            "signup_at": signup,
            "acquisition_channel": pa.array(ACQUISITION_CODES).take(self.acq),
            "marketing_consent": consent,
            "updated_at": _ts_strings(self.signup_s, fmt_upd, self.offset),
            "_loaded_at": _ts_array(_loaded_us(rng, self.signup_s)),
        }
        upd = np.flatnonzero(self.upd)
        later = {k: v.take(upd) for k, v in base.items()}
        kind = self.upd_kind[upd]
        moved = pa.array(kind == 0)
        later["city"] = pc.if_else(moved, ctx.city_names.take(self.upd_city[upd]), later["city"])
        later["region"] = pc.if_else(moved, ctx.city_regions.take(self.upd_city[upd]), later["region"])
        flipped = pc.invert(pc.fill_null(later["marketing_consent"], False))
        later["marketing_consent"] = pc.if_else(pa.array(kind == 1), flipped, later["marketing_consent"])
        later["last_name"] = pc.if_else(pa.array(kind == 2), lasts.take(self.upd_last[upd]), later["last_name"])
        later["updated_at"] = _ts_strings(self.upd_s[upd], self._fmt("crm_customers", upd.size), self.offset[upd])
        later["_loaded_at"] = _ts_array(_loaded_us(rng, self.upd_s[upd]))
        cols = {k: pa.concat_arrays([base[k], later[k]]) for k in base}
        owner = np.concatenate([np.arange(n), upd])
        self.crm_cols, self.crm_owner = cols, owner

    def test_accounts(self) -> None:
        """Turn a few buyers into QA test accounts: only their email gives them away."""
        ctx = self.ctx
        ident = self._identified_orders()
        has_orders = np.zeros(self.n, dtype=bool)
        has_orders[self.o_cust[ident]] = True
        has_orders[self.pair_a] = False
        has_orders[self.pair_b] = False
        cand = np.flatnonzero(has_orders & self.is_buyer)
        m = int(_rng(ctx.seed, _DIRTY_COUNT, self.index, 3000).binomial(self.is_buyer.sum(), ctx.dirty.test_account))
        m = min(m, cand.size)
        if m == 0:
            return
        dr = _rng(ctx.seed, _DIRTY_PICK, self.index, 3000)
        test = np.sort(dr.choice(cand, m, replace=False))
        self.test[test] = True
        style = dr.integers(0, 3, m)
        local = pc.list_element(pc.split_pattern(self.emails.take(test), "@"), 0)
        num = pc.cast(pa.array(self.gid[test]), pa.string())
        dom = pa.array(list(TEST_EMAIL_DOMAINS)).take(dr.integers(0, len(TEST_EMAIL_DOMAINS), m))
        qa = pc.binary_join_element_wise("qa+", num, "@", pa.array(["shop.example"] * m), "")
        at_test = pc.binary_join_element_wise(local, "@", dom, "")
        plus = pc.binary_join_element_wise(local, "+test@gmail.com", "")
        emails = pc.choose(pa.array(style.astype(np.int8)), qa, at_test, plus)
        self.emails = _replace(self.emails, test, emails)
        self.stats.test_customer_ids.extend(self.customer_ids.take(test).to_pylist())

    # -- dirty data ---------------------------------------------------------------------------

    def dirty_crm(self) -> None:
        """CRM defects live on extra record versions, so the customer stays known to staging."""
        ctx, stats = self.ctx, self.stats
        cols, owner = self.crm_cols, self.crm_owner
        rates, t = ctx.dirty, _TABLE_INDEX["crm_customers"]
        pool = np.flatnonzero(~self.test)
        reasons = ROW_DEFECTS["crm_customers"]
        counts = [
            int(_rng(ctx.seed, _DIRTY_COUNT, self.index, t, _REASON_INDEX[r]).binomial(pool.size, getattr(rates, r)))
            if getattr(rates, r)
            else 0
            for r in reasons
        ]
        total = min(sum(counts), pool.size)
        vr = _rng(ctx.seed, _DIRTY_VALUE, self.index, t)
        extra: Columns | None = None
        if total:
            chosen = _rng(ctx.seed, _DIRTY_PICK, self.index, t).permutation(pool)[:total]
            reason_of = np.repeat(np.arange(len(reasons)), counts)[:total]
            extra = {k: v.take(chosen) for k, v in cols.items()}  # base rows come first in cols
            upd_s = np.minimum(self.signup_s[chosen] + vr.integers(3600, 400 * DAY, total), END_EXCL_S - 3600)
            upd_s = np.maximum(upd_s, self.signup_s[chosen] + 60)
            loaded = _loaded_us(vr, upd_s)
            extra["updated_at"] = _ts_strings(upd_s, 0, 0)
            extra["_loaded_at"] = _ts_array(loaded)
            rows = np.flatnonzero(reason_of == 0)  # missing key: no id, or no version timestamp
            no_id = vr.random(rows.size) < 0.6
            extra["customer_id"] = _replace(
                extra["customer_id"], rows[no_id], _pick(vr, MISSING_KEYS, int(no_id.sum()))
            )
            extra["updated_at"] = _replace(extra["updated_at"], rows[~no_id], [None] * int((~no_id).sum()))
            rows = np.flatnonzero(reason_of == 1)  # unparseable version or signup timestamp
            on_signup = vr.random(rows.size) < 0.4
            garbage = _garbage_timestamps(vr, upd_s[rows], allow_null=False)
            extra["signup_at"] = _replace(
                extra["signup_at"], rows[on_signup], [g for g, s in zip(garbage, on_signup, strict=True) if s]
            )
            extra["updated_at"] = _replace(
                extra["updated_at"],
                rows[~on_signup],
                [g for g, s in zip(garbage, on_signup, strict=True) if not s],
            )
            rows = np.flatnonzero(reason_of == 2)  # version stamped after it was loaded
            ahead = loaded[rows] // 1_000_000 + vr.integers(3600, 10 * DAY, rows.size)
            extra["updated_at"] = _replace(extra["updated_at"], rows, _ts_strings(ahead, 0, 0))
            for k, r in enumerate(reasons):
                c = int((reason_of == k).sum())
                if c:
                    stats.injected.setdefault("crm_customers", {})[r] = c
        # duplicates of clean rows
        all_rows = np.arange(len(owner))
        dup_pool = all_rows[~self.test[owner]]
        dup_counts = [
            int(
                _rng(ctx.seed, _DIRTY_COUNT, self.index, t, _REASON_INDEX[r]).binomial(dup_pool.size, getattr(rates, r))
            )
            if getattr(rates, r)
            else 0
            for r in ("duplicate_exact", "duplicate_reloaded")
        ]
        perm = _rng(ctx.seed, _DIRTY_PICK, self.index, t, 1).permutation(dup_pool) if sum(dup_counts) else dup_pool
        exact = np.sort(perm[: dup_counts[0]])
        reloaded = np.sort(perm[dup_counts[0] : dup_counts[0] + dup_counts[1]])
        again = {k: v.take(reloaded) for k, v in cols.items()}
        again["_loaded_at"] = _ts_array(
            again["_loaded_at"].cast(pa.int64()).to_numpy() + vr.integers(DAY, 30 * DAY, reloaded.size) * 1_000_000
        )
        again["city"] = pc.utf8_upper(again["city"])
        parts = [cols, {k: v.take(exact) for k, v in cols.items()}, again]
        if extra is not None:
            parts.insert(1, extra)
        self.tables["crm_customers"] = {k: pa.concat_arrays([p[k] for p in parts]) for k in cols}
        if exact.size or reloaded.size:
            stats.duplicates["crm_customers"] = {
                "duplicate_exact": int(exact.size),
                "duplicate_reloaded": int(reloaded.size),
            }

    def dirty_orders(self) -> None:
        ctx, stats = self.ctx, self.stats
        n_shop = int((self.o_kind == 0).sum())
        test_order = (self.o_cust >= 0) & self.test[np.maximum(self.o_cust, 0)] & ((self.o_kind == 0) | self.o_card)
        quarantined = np.zeros(self.o_kind.size, dtype=bool)  # order rows staging or intermediate drop
        keyless = np.zeros(self.o_kind.size, dtype=bool)
        for table, sl in (("shop_orders", slice(0, n_shop)), ("pos_transactions", slice(n_shop, None))):
            test = test_order[sl]
            cols, picked = _inject(table, self.tables[table], ~test, ctx.dirty, ctx.seed, self.index, stats)
            self.tables[table] = cols
            q = test.copy()
            for r in ROW_DEFECTS[table]:
                q[picked.get(r, np.zeros(0, np.int64))] = True
            quarantined[sl] = q
            keyless[sl][picked.get("missing_key", np.zeros(0, np.int64))] = True
            if test.any():
                stats.injected.setdefault(table, {})["test_account"] = int(test.sum())
                id_col = "order_id" if table == "shop_orders" else "transaction_id"
                stats.test_order_ids.extend(
                    self.tables[table][id_col][: int(test.size)].filter(pa.array(test)).to_pylist()
                )
        for table, k in (("shop_order_lines", 0), ("pos_transaction_lines", 1)):
            sel = np.flatnonzero(self.l_kind == k)
            parent = self.l_order[sel]
            clean_parent = ~quarantined[parent]
            orphaned = int(keyless[parent].sum())
            parented = int((quarantined[parent] & ~keyless[parent]).sum())
            cons = stats.consequences.setdefault(table, {})
            if parented:
                cons["parent_quarantined"] = cons.get("parent_quarantined", 0) + parented
            if orphaned:
                cons["orphan_line"] = cons.get("orphan_line", 0) + orphaned
            cols, _ = _inject(
                table,
                self.tables[table],
                clean_parent,
                ctx.dirty,
                ctx.seed,
                self.index,
                stats,
                orphan_base=9_000_000_000,
            )
            cols.pop("_currency")
            self.tables[table] = cols

    def finish(self, table: str, eligible: np.ndarray | None = None) -> None:
        """Inject the table's defects and hand it on."""
        cols = self.tables[table]
        if eligible is None:
            eligible = np.ones(len(cols["_loaded_at"]), dtype=bool)
        self.tables[table], _ = _inject(table, cols, eligible, self.ctx.dirty, self.ctx.seed, self.index, self.stats)
        self.emit(table)

    def emit(self, table: str) -> None:
        """Build the Arrow table with the contract schema and pass it to the sink (or keep it)."""
        cols = self.tables.pop(table)
        if table in ("support_tickets", "nps_responses"):
            self.identity_emails.append(cols["email"])
        rt = schema.TABLES[table]
        arrow = pa.Table.from_arrays([cols[c] for c in rt.column_names], schema=rt.arrow_schema)
        if self.sink is None:
            self.out[table] = arrow
        else:
            self.sink(table, arrow)

    def identity_groups(self) -> None:
        """Emails spelled differently (case, padding) across CRM, help desk and NPS."""
        crm = _flat(self.tables["crm_customers"]["email"])
        raw = pa.concat_arrays([crm, *(_flat(a) for a in self.identity_emails)])
        norm = pc.utf8_lower(pc.utf8_trim_whitespace(raw))
        t = pa.table({"n": norm, "r": raw}).filter(pc.is_valid(raw))
        spellings = t.group_by("n").aggregate([("r", "count_distinct")])
        multi = spellings.filter(pc.greater(spellings["r_count_distinct"], 1))["n"]
        crm_norm = pc.unique(pc.utf8_lower(pc.utf8_trim_whitespace(crm.filter(pc.is_valid(crm)))))
        self.stats.identity_groups += int(pc.sum(pc.is_in(multi, value_set=crm_norm)).as_py() or 0)

    # -- all of it ----------------------------------------------------------------------------

    def run(self, sink: Sink | None = None) -> tuple[dict[str, pa.Table], _Stats]:
        """Generate the chunk. Each table goes to sink(name, table) as soon as it is complete (and
        is then dropped, which bounds memory); without a sink the tables are returned."""
        self.sink, self.out, self.identity_emails = sink, {}, []
        self.customers()
        self.purchases()
        self.orders()
        self.test_accounts()
        self.dirty_orders()
        for table in ("shop_orders", "shop_order_lines", "pos_transactions", "pos_transaction_lines"):
            self.emit(table)
        self.store_visits()
        self.finish("store_visits")
        self.web_events()
        self.finish("web_events", ~self.web_is_login)
        self.email_events()
        self.finish("email_events")
        self.feedback()
        for table in ("support_tickets", "product_reviews", "nps_responses"):
            self.finish(table)
        self.referrals()
        self.finish("referrals")
        self.privacy_requests()
        self.finish("privacy_requests")
        self.crm()
        self.dirty_crm()
        self.identity_groups()
        self.emit("crm_customers")
        return self.out, self.stats


def _ascii(s: str) -> str:
    """Email-safe spelling of a name."""
    table = str.maketrans({"é": "e", "è": "e", "ê": "e", "ü": "ue", "ö": "oe", "ä": "ae", "ô": "o", "ç": "c"})
    return s.translate(table)


# ---------------------------------------------------------------------------------------------
# Marketing spend (one table for the whole run)
# ---------------------------------------------------------------------------------------------


def _marketing_spend(ctx: _Context, n_customers: int, stats: _Stats) -> pa.Table:
    rng = _rng(ctx.seed, _SHARED, 1)
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
        "amount": _money_strings(cents),
        "_loaded_at": _ts_array(loaded),
    }
    cols, _ = _inject("marketing_spend", cols, np.ones(d.size, dtype=bool), ctx.dirty, ctx.seed, 10**6, stats)
    rt = schema.TABLES["marketing_spend"]
    return pa.Table.from_arrays([cols[c] for c in rt.column_names], schema=rt.arrow_schema)


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def _write(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", row_group_size=1_000_000)


_WORKER_CONTEXT: _Context | None = None


def _init_worker(seed: int, dirty: DirtyRates) -> None:
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = _Context.build(seed, dirty)


def _run_chunk(
    ctx: _Context, out: Path, index: int, first: int, size: int
) -> tuple[dict[str, int], dict[str, int], _Stats]:
    """Generate one chunk and write its part files; returns rows and files per table and the stats."""
    rows: dict[str, int] = {}
    files: dict[str, int] = {}

    def sink(name: str, table: pa.Table) -> None:
        if table.num_rows:
            _write(table, out / name / f"part-{index:05d}.parquet")
            rows[name] = rows.get(name, 0) + table.num_rows
            files[name] = files.get(name, 0) + 1

    _, stats = _Chunk(ctx, index, first + 1, size).run(sink)
    return rows, files, stats


def _pool_job(job: tuple[str, int, int, int]) -> tuple[dict[str, int], dict[str, int], _Stats]:
    assert _WORKER_CONTEXT is not None
    out, index, first, size = job
    return _run_chunk(_WORKER_CONTEXT, Path(out), index, first, size)


def generate(
    scale: str = "demo",
    seed: int = 42,
    out: Path | str | None = None,
    progress: bool = True,
    dirty: DirtyRates | None = None,
    *,
    n_customers: int | None = None,
    chunk_customers: int = CHUNK_CUSTOMERS,
    workers: int | None = None,
) -> dict[str, Any]:
    """Write the raw tables of a synthetic retailer to ``out`` and return the manifest.

    scale: 'demo', 's', 'm' or 'l' (about 5k, 50k, 300k or 1M CRM customers); n_customers
    overrides it (tests). out: the raw directory (default: the project's, see lifecycle.paths).
    dirty: the defect rates, :class:`DirtyRates` defaults when None.
    Customers are generated in chunks of chunk_customers, each written as one part file per
    table; workers (default: up to 2) processes generate chunks in parallel. The data depend
    on scale (or n_customers), seed, dirty and chunk_customers only, not on workers.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: expected one of {', '.join(SCALES)}")
    dirty = DirtyRates() if dirty is None else dirty
    total = int(n_customers if n_customers is not None else SCALES[scale])
    if not 1 <= total <= 8_000_000:
        raise ValueError("n_customers must be between 1 and 8,000,000")
    out = Path(out) if out is not None else paths.raw_dir()
    for rt in schema.RAW_TABLES:
        folder = out / rt.name
        folder.mkdir(parents=True, exist_ok=True)
        for stale in sorted(folder.glob("*.parquet")):
            stale.unlink()
    ctx = _Context.build(seed, dirty)
    jobs = [(i, s, min(chunk_customers, total - s)) for i, s in enumerate(range(0, total, chunk_customers))]
    n_workers = min(workers if workers is not None else min(2, os.cpu_count() or 1), len(jobs))
    bar = tqdm(total=len(jobs), disable=not progress, file=sys.stderr, unit="chunk", desc=f"generate {scale}")
    results: list[tuple[dict[str, int], dict[str, int], _Stats]] = []
    with bar:
        if n_workers <= 1:
            for index, first, size in jobs:
                results.append(_run_chunk(ctx, out, index, first, size))
                bar.update()
        else:
            spawn = multiprocessing.get_context("spawn")  # no fork of a process holding Arrow threads
            with ProcessPoolExecutor(n_workers, spawn, _init_worker, (seed, dirty)) as pool:
                for result in pool.map(_pool_job, [(str(out), *job) for job in jobs]):
                    results.append(result)
                    bar.update()
    stats = _Stats.empty()
    rows = {rt.name: 0 for rt in schema.RAW_TABLES}
    files = {rt.name: 0 for rt in schema.RAW_TABLES}
    for chunk_rows, chunk_files, chunk_stats in results:  # in chunk order: deterministic
        stats.add(chunk_stats)
        for name, n in chunk_rows.items():
            rows[name] += n
            files[name] += chunk_files[name]
    spend = _marketing_spend(ctx, total, stats)
    _write(spend, out / "marketing_spend" / "part-00000.parquet")
    rows["marketing_spend"], files["marketing_spend"] = spend.num_rows, 1
    for rt in schema.RAW_TABLES:
        if files[rt.name] == 0:
            _write(rt.arrow_schema.empty_table(), out / rt.name / "part-00000.parquet")
            files[rt.name] = 1
    manifest = _manifest(scale, seed, total, chunk_customers, dirty, rows, files, stats)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (out / "_manifest.json").write_text(text, encoding="utf-8")
    return manifest


def _manifest(
    scale: str,
    seed: int,
    n_customers: int,
    chunk_customers: int,
    dirty: DirtyRates,
    rows: dict[str, int],
    files: dict[str, int],
    stats: _Stats,
) -> dict[str, Any]:
    def clean(d: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        return {t: {k: int(v) for k, v in sorted(c.items()) if v} for t, c in sorted(d.items()) if any(c.values())}

    manifest: dict[str, Any] = {
        "scale": scale,
        "seed": seed,
        "n_customers": n_customers,
        "chunk_customers": chunk_customers,
        "start_date": START_DATE.isoformat(),
        "end_date": END_DATE.isoformat(),
        "generator_version": GENERATOR_VERSION,
        "tables": {name: {"rows": rows[name], "files": files[name]} for name in sorted(rows)},
        "injected": clean(stats.injected),
        "duplicates": clean(stats.duplicates),
        "messy_amounts": {t: int(v) for t, v in sorted(stats.messy.items()) if v},
        "lines_of_quarantined_orders": clean(stats.consequences),
        "test_account_customer_ids": sorted(stats.test_customer_ids),
        "test_account_order_ids": sorted(stats.test_order_ids),
        "identity_groups": stats.identity_groups,
        "merged_crm_records": stats.merged_crm_records,
        "dirty_rates": asdict(dirty),
    }
    manifest["expected_quarantine"] = {
        t: dict(sorted(c.items())) for t, c in sorted(_group(expected_quarantine(manifest)).items())
    }
    return manifest


def _group(flat: dict[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (table, reason), n in flat.items():
        out.setdefault(table, {})[reason] = n
    return out


def expected_quarantine(manifest: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Rows per (raw table, reason) the quarantine mart should list for this generated data set.

    Every injected defect (staging reasons, unknown customers, orphan lines, test-account orders)
    plus the consequences for lines: lines of an order quarantined in staging or excluded in the
    intermediate layer are ``parent_quarantined``; lines of an order that lost its key are
    ``orphan_line``. Duplicates are not quarantined (staging keeps the latest load).
    """
    out: dict[tuple[str, str], int] = {}
    for part in ("injected", "lines_of_quarantined_orders"):
        for table, counts in manifest.get(part, {}).items():
            for reason, n in counts.items():
                if n:
                    out[(table, reason)] = out.get((table, reason), 0) + int(n)
    return dict(sorted(out.items()))
