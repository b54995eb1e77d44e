"""The importer's vocabularies and its error type: every word list lives here, once."""

from __future__ import annotations

import re

from lifecycle import schema


class ImportError_(Exception):  # noqa: N801, N818 - the trailing underscore avoids shadowing ImportError
    """An export that cannot be imported; the one-line message names the file and the column."""


# Customer values that mean "no customer" (guest checkout, anonymous till sale), compared
# case-insensitively after trimming, and after normalising a float-written or zero-padded id
# ('0.0', '000' are '0'). ``--anonymous-values`` adds others.
ANONYMOUS_VALUES: tuple[str, ...] = ("", "nan", "null", "none", "(blank)", "unknown", "n/a", "0")

# Status words of common exports and the order status each means (--status-map adds others).
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("completed", "complete", "delivered", "shipped", "invoiced", "processing", "approved", "paid"),
        "completed",
    ),
    **dict.fromkeys(("cancelled", "canceled", "unavailable", "void", "refused"), "cancelled"),
    **dict.fromkeys(("returned", "refunded"), "returned"),
}
ORDER_STATUSES: tuple[str, ...] = schema.ORDER_STATUSES  # completed, cancelled, returned

# Marketing-consent words (--consent-col). Anything else is reported and treated as no consent.
CONSENT_TRUE: frozenset[str] = frozenset({"true", "yes", "y", "1", "opt-in", "opted_in", "opted-in", "subscribed"})
CONSENT_FALSE: frozenset[str] = frozenset(
    {"false", "no", "n", "0", "opt-out", "opted_out", "opted-out", "unsubscribed", ""}
)
CONSENT_MODES: tuple[str, ...] = ("none", "all")

# Reasons a row is rejected, in the order they are checked (a row gets the first that applies).
REJECT_REASONS: tuple[str, ...] = (
    "missing_key",
    "unparseable_timestamp",
    "future_timestamp",
    "invalid_quantity",
    "invalid_amount",
    "amount_out_of_range",
    "unknown_status",
    "mixed_currency",
)
assert set(REJECT_REASONS) <= set(schema.QUARANTINE_REASONS)

# decimal(18, 2), the warehouse's money type, holds magnitudes below 1e16.
MAX_MONEY = 1e16
MAX_QUANTITY = 2**31 - 1  # the int32 quantity column
CURRENCY_CODE = re.compile(r"[A-Za-z]{3}")


def parse_status_map(text: str | None) -> dict[str, str]:
    """'word=status,...' (status one of completed, cancelled, returned) -> {word: status}."""
    mapping: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        word, sep, status = item.partition("=")
        status = status.strip().lower()
        if not sep or not word.strip() or status not in ORDER_STATUSES:
            raise ImportError_(
                f"--status-map: {item.strip()!r} is not 'word=status' with status one of {', '.join(ORDER_STATUSES)}"
            )
        mapping[word.strip().lower()] = status
    return mapping


def currency_code(value: str) -> str:
    code = (value or "").strip().upper()
    if not CURRENCY_CODE.fullmatch(code):
        raise ImportError_(f"--currency: {value!r} is not a 3-letter ISO 4217 code such as USD, EUR or BRL")
    return code
