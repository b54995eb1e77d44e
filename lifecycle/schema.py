"""The raw landing contract: every raw table, its columns and their Parquet types.

This module is the single source of truth for what lands in the raw directory. The
generator writes exactly these columns, the importer writes exactly these columns, the
dbt sources (``models/staging/*/_*__sources.yml``) declare exactly these columns, and the
raw-file checks validate incoming files against it.

Layout on disk: ``<raw_dir>/<table>/*.parquet`` (one folder per table, one or more
Parquet part files), plus ``<raw_dir>/_manifest.json`` written by the generator.

Raw columns that a real export gets wrong are kept as strings on purpose (timestamps,
money): staging parses them and quarantines what cannot be parsed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from lifecycle import reference

STR = pa.string()
I32 = pa.int32()
F64 = pa.float64()
BOOL = pa.bool_()
TS = pa.timestamp("us")  # _loaded_at: naive UTC


@dataclass(frozen=True)
class RawTable:
    name: str
    source: str  # dbt source name
    key: tuple[str, ...]  # the business key staging deduplicates on
    columns: tuple[tuple[str, pa.DataType], ...]
    description: str

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(n, t) for n, t in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [n for n, _ in self.columns]


def _t(name: str, source: str, key: tuple[str, ...], desc: str, *cols: tuple[str, pa.DataType]) -> RawTable:
    return RawTable(name, source, key, (*cols, ("_loaded_at", TS)), desc)


RAW_TABLES: tuple[RawTable, ...] = (
    _t(
        "crm_customers",
        "crm",
        ("customer_id", "updated_at"),
        "CRM customer records; a customer appears once per version (updated_at), prospects included.",
        ("customer_id", STR),
        ("email", STR),
        ("first_name", STR),
        ("last_name", STR),
        ("loyalty_card_number", STR),
        ("birth_year", I32),
        ("gender", STR),
        ("country_code", STR),
        ("region", STR),
        ("city", STR),
        ("signup_at", STR),
        ("acquisition_channel", STR),
        ("marketing_consent", BOOL),
        ("updated_at", STR),
    ),
    _t(
        "shop_orders",
        "shop",
        ("order_id",),
        "E-commerce platform orders (web and app), identified by CRM customer id; "
        "an empty customer id is a guest (anonymous) sale.",
        ("order_id", STR),
        ("customer_id", STR),
        ("channel", STR),
        ("ordered_at", STR),
        ("status", STR),
        ("currency", STR),
        ("discount_amount", STR),
        ("shipping_amount", STR),
        ("tax_amount", STR),
    ),
    _t(
        "shop_order_lines",
        "shop",
        ("order_line_id",),
        "Lines of e-commerce orders; a negative quantity is a credit line "
        "(a cancellation or return booked as its own line or credit note).",
        ("order_line_id", STR),
        ("order_id", STR),
        ("sku", STR),
        ("category", STR),
        ("quantity", I32),
        ("unit_price", STR),
        ("unit_cost", F64),
        ("returned_quantity", I32),
    ),
    _t(
        "pos_transactions",
        "pos",
        ("transaction_id",),
        "Store point-of-sale transactions, identified by loyalty card number or anonymous.",
        ("transaction_id", STR),
        ("store_id", STR),
        ("loyalty_card_number", STR),
        ("transacted_at", STR),
        ("status", STR),
        ("currency", STR),
        ("discount_amount", STR),
        ("tax_amount", STR),
    ),
    _t(
        "pos_transaction_lines",
        "pos",
        ("transaction_line_id",),
        "Lines of store transactions; a negative quantity is a credit line (a cancellation or return).",
        ("transaction_line_id", STR),
        ("transaction_id", STR),
        ("sku", STR),
        ("category", STR),
        ("quantity", I32),
        ("unit_price", STR),
        ("unit_cost", F64),
        ("returned_quantity", I32),
    ),
    _t(
        "web_events",
        "web",
        ("event_id",),
        "Web and app clickstream; anonymous_id always set, customer_id set once logged in.",
        ("event_id", STR),
        ("anonymous_id", STR),
        ("customer_id", STR),
        ("platform", STR),
        ("event_type", STR),
        ("sku", STR),
        ("occurred_at", STR),
    ),
    _t(
        "email_events",
        "esp",
        ("event_id",),
        "Email service provider events: send, open, click, unsubscribe.",
        ("event_id", STR),
        ("customer_id", STR),
        ("campaign_id", STR),
        ("event_type", STR),
        ("occurred_at", STR),
    ),
    _t(
        "support_tickets",
        "helpdesk",
        ("ticket_id",),
        "Help-desk tickets, identified by the email the customer wrote from.",
        ("ticket_id", STR),
        ("email", STR),
        ("channel", STR),
        ("topic", STR),
        ("opened_at", STR),
        ("resolved_at", STR),
    ),
    _t(
        "product_reviews",
        "feedback",
        ("review_id",),
        "Product reviews with a 1-5 star rating.",
        ("review_id", STR),
        ("customer_id", STR),
        ("sku", STR),
        ("rating", I32),
        ("reviewed_at", STR),
    ),
    _t(
        "nps_responses",
        "feedback",
        ("response_id",),
        "Net Promoter Score survey answers (0-10), identified by email.",
        ("response_id", STR),
        ("email", STR),
        ("score", I32),
        ("responded_at", STR),
    ),
    _t(
        "referrals",
        "feedback",
        ("referral_id",),
        "Refer-a-friend invitations sent by a customer.",
        ("referral_id", STR),
        ("referrer_customer_id", STR),
        ("referred_email", STR),
        ("referred_at", STR),
    ),
    _t(
        "store_visits",
        "pos",
        ("visit_id",),
        "Store visits recorded by loyalty-card scans at the door or till.",
        ("visit_id", STR),
        ("loyalty_card_number", STR),
        ("store_id", STR),
        ("visited_at", STR),
    ),
    _t(
        "marketing_spend",
        "marketing",
        ("spend_date", "channel"),
        "Daily marketing spend by acquisition channel.",
        ("spend_date", STR),
        ("channel", STR),
        ("currency", STR),
        ("amount", STR),
    ),
    _t(
        "privacy_requests",
        "crm",
        ("request_id",),
        "Data-subject requests: erasure or marketing-consent withdrawal.",
        ("request_id", STR),
        ("customer_id", STR),
        ("request_type", STR),
        ("requested_at", STR),
    ),
    _t(
        "import_rejects",
        "import",
        ("reject_id",),
        "Rows of an imported export that could not be used, one per rejected input row, with the reason.",
        ("reject_id", STR),
        ("source_file", STR),
        ("line_number", I32),
        ("reason", STR),
        ("detail", STR),
    ),
)

TABLES: dict[str, RawTable] = {t.name: t for t in RAW_TABLES}

# Controlled vocabularies (the generator draws from these; staging normalises to them).
ORDER_STATUSES = ("completed", "cancelled", "returned")
SHOP_CHANNELS = ("web", "app")
# Currencies and their rates live only in seeds/fx_rates.csv (any ISO 4217 code; staging quarantines
# a currency without a rate as unknown_currency).
# seeds/acquisition_channels.csv, less `unknown` (what staging makes of a missing channel).
ACQUISITION_CHANNELS: tuple[str, ...] = tuple(
    c for c in reference.seed_values("acquisition_channels", "acquisition_channel") if c != "unknown"
)
CATEGORIES = (
    "apparel",
    "footwear",
    "accessories",
    "beauty",
    "home",
    "electronics",
    "sports",
    "kids",
)
WEB_EVENT_TYPES = ("session_start", "page_view", "product_view", "add_to_cart", "login")
EMAIL_EVENT_TYPES = ("send", "open", "click", "unsubscribe")
PRIVACY_REQUEST_TYPES = ("erasure", "consent_withdrawal")

# Quarantine reason codes, with what each means: seeds/quarantine_reasons.csv. The generator's
# manifest, the importer and the staging models use the same codes.
QUARANTINE_REASONS: tuple[str, ...] = reference.seed_values("quarantine_reasons", "quarantine_reason")
