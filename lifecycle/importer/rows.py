"""Sorting the rows of an export: each is imported (with an order key), anonymous, or rejected with a reason.

:func:`classify` parses every column the options name and returns a :class:`Rows`: the parsed
values, one reason per rejected row (the first of :data:`rules.REJECT_REASONS` that applies, with
a detail in words that names the column and value, never the customer) and the warnings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.importer import parsing
from lifecycle.importer.rules import MAX_MONEY, REJECT_REASONS, ImportError_

_MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Options:
    """The columns and rules of one import (see ``import_transactions``)."""

    customer_col: str
    date_col: str
    amount_col: str | None
    quantity_col: str | None
    unit_price_col: str | None
    order_id_col: str | None
    status_col: str | None
    statuses: dict[str, str]  # status word -> completed / cancelled / returned
    currency: str
    currency_col: str | None
    consent_col: str | None
    marketing_consent: str
    placeholders: frozenset[str]
    date_format: str | None
    normalise_ids: bool
    loaded_at: dt.datetime

    @property
    def price_col(self) -> str:
        col = self.unit_price_col or self.amount_col
        assert col is not None
        return col

    @property
    def named_columns(self) -> dict[str, str]:
        named = {
            "--customer-col": self.customer_col,
            "--date-col": self.date_col,
            "--amount-col": self.amount_col,
            "--quantity-col": self.quantity_col,
            "--unit-price-col": self.unit_price_col,
            "--order-id-col": self.order_id_col,
            "--status-col": self.status_col,
            "--currency-col": self.currency_col,
            "--consent-col": self.consent_col,
        }
        return {option: col for option, col in named.items() if col}


@dataclass
class Rows:
    """Every input row, parsed; ``reason`` is '' for a row that is imported."""

    data: pd.DataFrame  # the named columns (stripped text), '_file' and '_line'
    customer: pd.Series  # as imported (normalised with --normalise-ids)
    anonymous: np.ndarray
    ts: pd.Series
    quantity: np.ndarray
    money: parsing.Money
    row_status: pd.Series
    currency: pd.Series
    consent: np.ndarray
    reason: np.ndarray
    details: dict[str, Callable[[int], str]] = field(default_factory=dict)
    key: pd.Series | None = None  # the order key of each row
    warnings: list[str] = field(default_factory=list)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    unrecognised_consent: dict[str, int] = field(default_factory=dict)

    @property
    def keep(self) -> np.ndarray:
        return self.reason == ""


def _examples(data: pd.DataFrame, bad: np.ndarray, col: str) -> str:
    first = data[bad].head(_MAX_EXAMPLES)
    return ", ".join(f"{f} line {n}: {v!r}" for f, n, v in zip(first["_file"], first["_line"], first[col], strict=True))


def _too_many_bad(data: pd.DataFrame, bad: np.ndarray, col: str, what: str) -> None:
    """More than half the rows failing means the column or format is wrong, not the rows."""
    if int(bad.sum()) * 2 > len(data):
        raise ImportError_(
            f"column '{col}': {int(bad.sum())} of {len(data)} values are not {what}; first: {_examples(data, bad, col)}"
        )


def _ids(values: pd.Series, normalise: bool) -> tuple[pd.Series, pd.Series]:
    canonical = parsing.canonical_ids(values)
    return (canonical if normalise else values), canonical


def _dates(data: pd.DataFrame, o: Options, reasons: dict[str, np.ndarray], details: dict[str, Any]) -> pd.Series:
    col = o.date_col
    ts = parsing.parse_dates(data[col], col, o.date_format)
    unparseable = ts.isna().to_numpy()
    what = f"dates in format {o.date_format!r}" if o.date_format else "ISO 8601 dates"
    what += "" if o.date_format else " (pass --date-format, e.g. %d/%m/%Y)"
    _too_many_bad(data, unparseable, col, what)
    how = f"format {o.date_format}" if o.date_format else "ISO 8601"
    reasons["unparseable_timestamp"] = unparseable
    details["unparseable_timestamp"] = lambda i: f"column '{col}': {data.at[i, col]!r} is not a date in {how}"
    reasons["future_timestamp"] = (ts > pd.Timestamp(o.loaded_at)).to_numpy()
    loaded = o.loaded_at.isoformat(" ")
    details["future_timestamp"] = lambda i: f"column '{col}': {data.at[i, col]!r} is after the load time {loaded}"
    return ts


def _amounts(
    data: pd.DataFrame, o: Options, reasons: dict[str, np.ndarray], details: dict[str, Any]
) -> tuple[np.ndarray, parsing.Money]:
    """(signed quantity, money): line amount = quantity x unit price; a negative amount or price is a credit."""
    price_col, qty_col = o.price_col, o.quantity_col
    money = parsing.parse_money(data[price_col])
    if qty_col:
        qty, bad_qty = parsing.parse_quantities(data[qty_col])
        _too_many_bad(data, bad_qty, qty_col, "whole non-zero quantities")
        reasons["invalid_quantity"] = bad_qty
        details["invalid_quantity"] = lambda i: (
            f"column '{qty_col}': {data.at[i, qty_col]!r} is not a whole non-zero quantity"
        )
        quantity = np.where(money.negative, -qty, qty)
        line_amount = money.magnitude * np.abs(qty)
    else:
        quantity = np.where(money.negative, -1, 1)
        line_amount = money.magnitude
    _too_many_bad(data, money.bad, price_col, "numbers")
    reasons["invalid_amount"] = money.bad
    details["invalid_amount"] = lambda i: f"column '{price_col}': {data.at[i, price_col]!r} is not a number"
    reasons["amount_out_of_range"] = ~money.bad & ((money.magnitude >= MAX_MONEY) | (line_amount >= MAX_MONEY))

    def out_of_range(i: int) -> str:
        amount = f"{data.at[i, qty_col]} x {data.at[i, price_col]}" if qty_col else data.at[i, price_col]
        return f"column '{price_col}': the line amount {amount} is beyond decimal(18, 2)"

    details["amount_out_of_range"] = out_of_range
    return quantity, money


def _statuses(
    rows_data: pd.DataFrame, o: Options, reasons: dict[str, np.ndarray], details: dict[str, Any], warnings: list[str]
) -> tuple[pd.Series, dict[str, dict[str, Any]]]:
    col = o.status_col
    if not col:
        return pd.Series("completed", index=rows_data.index), {}
    row_status = parsing.map_statuses(rows_data[col], o.statuses)
    reasons["unknown_status"] = row_status.isna().to_numpy()
    details["unknown_status"] = lambda i: (
        f"column '{col}': status {rows_data.at[i, col]!r} is not known (map it with --status-map)"
    )
    counts = {
        str(word): {"maps_to": o.statuses.get(str(word)), "rows": int(count)}
        for word, count in rows_data[col].str.lower().value_counts().sort_index().items()
    }
    unknown = ", ".join(f"{w!r} ({s['rows']} rows)" for w, s in counts.items() if s["maps_to"] is None)
    if unknown:
        warnings.append(f"column '{col}': unknown statuses quarantined: {unknown}; map them with --status-map")
    return row_status.fillna("unknown"), counts


def _currencies(data: pd.DataFrame, o: Options, warnings: list[str]) -> pd.Series:
    if not o.currency_col:
        return pd.Series(o.currency, index=data.index)
    values = data[o.currency_col].str.upper()
    odd = sorted(set(values[~parsing.is_iso_code(values)]))
    if odd:
        warnings.append(
            f"column '{o.currency_col}': values that are not ISO currency codes: {', '.join(map(repr, odd[:10]))} "
            "(the warehouse quarantines them as unknown_currency)"
        )
    return values


def _consent(data: pd.DataFrame, o: Options, warnings: list[str]) -> tuple[np.ndarray, dict[str, int]]:
    if not o.consent_col:
        return np.full(len(data), o.marketing_consent == "all"), {}
    consent, unrecognised = parsing.parse_consent(data[o.consent_col])
    counts = {str(k): int(v) for k, v in unrecognised.items()}
    if counts:
        shown = ", ".join(f"{k!r} ({v} rows)" for k, v in counts.items())
        warnings.append(f"column '{o.consent_col}': unrecognised consent values treated as no consent: {shown}")
    return consent, counts


def classify(data: pd.DataFrame, o: Options) -> Rows:
    """Parse every named column and give each unusable row its reason; then build the order keys."""
    warnings: list[str] = []
    reasons: dict[str, np.ndarray] = {}
    details: dict[str, Any] = {}

    # a placeholder customer value is an anonymous sale, never a customer
    customer, canonical = _ids(data[o.customer_col], o.normalise_ids)
    anonymous = data[o.customer_col].str.lower().isin(o.placeholders) | canonical.str.lower().isin(o.placeholders)
    anonymous = anonymous.to_numpy()
    warnings += parsing.id_warnings(data.loc[~anonymous, o.customer_col], o.customer_col, o.normalise_ids)
    order_id = None
    if o.order_id_col:
        oid_col = o.order_id_col
        order_id, _ = _ids(data[oid_col], o.normalise_ids)
        warnings += parsing.id_warnings(data[oid_col], oid_col, o.normalise_ids)
        reasons["missing_key"] = (order_id == "").to_numpy()
        details["missing_key"] = lambda i: f"column '{oid_col}' (order id) is empty"

    ts = _dates(data, o, reasons, details)
    quantity, money = _amounts(data, o, reasons, details)
    row_status, statuses = _statuses(data, o, reasons, details, warnings)
    currency = _currencies(data, o, warnings)
    consent, unrecognised_consent = _consent(data, o, warnings)

    reason = np.full(len(data), "", dtype=object)
    for code in REJECT_REASONS:
        if code in reasons:
            reason[(reason == "") & reasons[code]] = code
    rows = Rows(
        data, customer, anonymous, ts, quantity, money, row_status, currency, consent, reason, details,
        warnings=warnings, statuses=statuses, unrecognised_consent=unrecognised_consent,
    )  # fmt: skip
    if order_id is None:
        rows.key = _customer_day_keys(rows)
    else:
        rows.key = _order_id_keys(rows, order_id, o)
    return rows


def _customer_day_keys(rows: Rows) -> pd.Series:
    """One order per customer and day (per currency if several that day); one per row when anonymous."""
    keep, data = rows.keep, rows.data
    key = rows.customer + "-" + rows.ts.dt.strftime("%Y%m%d")
    per_day = pd.DataFrame({"key": key[keep], "cur": rows.currency[keep]}).groupby("key")["cur"].nunique()
    split = key.isin(set(per_day.index[per_day > 1])).to_numpy() & keep
    key[split] = key[split] + "-" + rows.currency[split]
    if split.any():
        rows.warnings.append(
            f"{int(split.sum())} rows of customers who paid in several currencies on one day: one order per currency"
        )
    anonymous = rows.anonymous
    key[anonymous] = "anonymous-" + data["_file"][anonymous] + "-" + data["_line"][anonymous].astype(str)
    return key


def _order_id_keys(rows: Rows, order_id: pd.Series, o: Options) -> pd.Series:
    """One order per order id (per customer and id if several customers share it); the rows of an
    order in several currencies are rejected as mixed_currency."""
    keep = rows.keep
    owner = rows.customer.where(~rows.anonymous, "")
    owners = pd.DataFrame({"oid": order_id[keep], "owner": owner[keep]}).groupby("oid")["owner"].nunique()
    shared = order_id.isin(set(owners.index[owners > 1]))
    key = order_id.copy()
    key[shared] = order_id[shared] + "-" + owner[shared].where(owner[shared] != "", "anonymous")

    currencies = pd.DataFrame({"key": key[keep], "cur": rows.currency[keep]}).groupby("key")["cur"].nunique()
    mixed = key.isin(set(currencies.index[currencies > 1])).to_numpy() & keep
    rows.reason[mixed] = "mixed_currency"
    mixed_rows = pd.DataFrame({"key": key[mixed], "cur": rows.currency[mixed]})
    per_order = mixed_rows.groupby("key")["cur"].agg(lambda c: ", ".join(sorted(set(c))))
    rows.details["mixed_currency"] = lambda i: f"column '{o.currency_col}': the order's rows carry {per_order[key[i]]}"

    keep = rows.keep
    owners = pd.DataFrame({"key": key[keep], "owner": owner[keep]}).groupby("key")["owner"].nunique()
    if (owners > 1).any():  # '<order id>-<customer>' built for a shared id clashes with a real id
        clash = ", ".join(map(repr, owners.index[owners > 1][:_MAX_EXAMPLES]))
        raise ImportError_(
            f"column '{o.order_id_col}': cannot build one order per (customer, order id): ids {clash} clash"
        )
    return key
