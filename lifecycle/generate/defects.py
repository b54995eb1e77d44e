"""The injected data-quality defects: which a table can carry, where they go, how they are made.

Every dirty row gets exactly one defect, so the reason staging gives it is known in advance;
:class:`Stats` records what was injected (merged into the manifest by
:func:`lifecycle.generate.manifest.build_manifest`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.generate.arrays import (
    Columns,
    arrow_int,
    flat,
    id_strings,
    money_strings,
    pick,
    replace_rows,
    ts_array,
    ts_strings,
)
from lifecycle.generate.retailer import CURRENCY_CODES, CURRENCY_SYMBOL
from lifecycle.generate.scales import DAY, EPOCH, DirtyRates
from lifecycle.generate.streams import DIRTY_COUNT, DIRTY_PICK, DIRTY_VALUE, Rng, stream
from lifecycle.generate.times import Window

Counts = dict[str, dict[str, int]]  # {table: {reason: rows}}

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
TABLE_INDEX: dict[str, int] = {
    "crm_customers": 0, "shop_orders": 1, "shop_order_lines": 2, "pos_transactions": 3,
    "pos_transaction_lines": 4, "web_events": 5, "email_events": 6, "support_tickets": 7,
    "product_reviews": 8, "nps_responses": 9, "referrals": 10, "store_visits": 11, "marketing_spend": 12,
    "privacy_requests": 13,
}  # fmt: skip
REASON_INDEX: dict[str, int] = {
    "unparseable_timestamp": 0, "future_timestamp": 1, "invalid_amount": 2, "invalid_quantity": 3,
    "invalid_rating": 4, "invalid_score": 5, "unknown_currency": 6, "missing_key": 7, "orphan_line": 8,
    "unknown_customer": 9, "test_account": 10, "parent_quarantined": 11, "duplicate_exact": 12,
    "duplicate_reloaded": 13, "messy_amount": 14, "redelivered": 15,
}  # fmt: skip
# The feeds whose late-evening rows the next day's export sends again (DirtyRates.redelivered),
# and how much more than the event feeds the order feeds do so.
REDELIVERY_FACTOR: dict[str, float] = {
    "web_events": 1.0, "email_events": 1.0, "shop_orders": 2.0, "shop_order_lines": 2.0,
    "pos_transactions": 2.0, "pos_transaction_lines": 2.0,
}  # fmt: skip
REDELIVERY_FROM_S = 18 * 3600  # rows loaded from this time of day (UTC) on are in the next export too
REDELIVERY_WITHIN_S = 2 * 3600  # ... which lands this soon after midnight

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


@dataclass(frozen=True)
class Spec:
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


def _lines_spec(line_id: str, parent: str, parent_prefix: str) -> Spec:
    """Order lines: the line id within its order, a quantity and a unit price (empty is invalid)."""
    return Spec(
        (line_id, parent),
        money_cols=("unit_price",),
        qty_col="quantity",
        parent_col=parent,
        parent_prefix=parent_prefix,
        empty_money_invalid=True,
    )


SPECS: dict[str, Spec] = {
    "shop_orders": Spec(
        ("order_id",),
        "ordered_at",
        ("discount_amount", "shipping_amount", "tax_amount"),
        "currency",
        customer_col="customer_id",
        reload_col="status",
    ),
    "shop_order_lines": _lines_spec("order_line_id", "order_id", "O"),
    "pos_transactions": Spec(
        ("transaction_id",),
        "transacted_at",
        ("discount_amount", "tax_amount"),
        "currency",
        reload_col="status",
    ),
    "pos_transaction_lines": _lines_spec("transaction_line_id", "transaction_id", "T"),
    "web_events": Spec(("event_id",), "occurred_at"),
    "email_events": Spec(("event_id",), "occurred_at"),
    "support_tickets": Spec(("ticket_id",), "opened_at"),
    "product_reviews": Spec(("review_id",), "reviewed_at", rating_col="rating"),
    "nps_responses": Spec(("response_id",), "responded_at", score_col="score"),
    "referrals": Spec(("referral_id",), "referred_at"),
    "store_visits": Spec(("visit_id",), "visited_at"),
    "privacy_requests": Spec(("request_id",), "requested_at"),
    "marketing_spend": Spec(
        ("spend_date",),
        "spend_date",
        ("amount",),
        "currency",
        reload_col="amount",
        empty_money_invalid=True,
    ),
}


@dataclass(frozen=True)
class Stats:
    """What was injected (into one table, one chunk or the whole data set), for the manifest."""

    injected: Counts = field(default_factory=dict)
    duplicates: Counts = field(default_factory=dict)
    messy: dict[str, int] = field(default_factory=dict)
    consequences: Counts = field(default_factory=dict)  # clean lines of dropped orders
    test_customer_ids: tuple[str, ...] = ()
    test_order_ids: tuple[str, ...] = ()
    identity_groups: int = 0
    merged_crm_records: int = 0


def combine(parts: Iterable[Stats]) -> Stats:
    """The parts' counts added up (and their id lists joined, in the order given)."""
    injected: Counts = {}
    duplicates: Counts = {}
    consequences: Counts = {}
    messy: dict[str, int] = {}
    customer_ids: list[str] = []
    order_ids: list[str] = []
    identity_groups = merged = 0
    for part in parts:
        for mine, theirs in (
            (injected, part.injected),
            (duplicates, part.duplicates),
            (consequences, part.consequences),
        ):
            for table, counts in theirs.items():
                slot = mine.setdefault(table, {})
                for k, v in counts.items():
                    slot[k] = slot.get(k, 0) + v
        for table, v in part.messy.items():
            messy[table] = messy.get(table, 0) + v
        customer_ids.extend(part.test_customer_ids)
        order_ids.extend(part.test_order_ids)
        identity_groups += part.identity_groups
        merged += part.merged_crm_records
    return Stats(
        injected, duplicates, messy, consequences, tuple(customer_ids), tuple(order_ids), identity_groups, merged
    )


@dataclass(frozen=True)
class Injection:
    """A table after :func:`inject`: its columns, the rows each reason went to, the counts."""

    columns: Columns
    picked: dict[str, np.ndarray]
    stats: Stats


def defect_count(
    rates: DirtyRates, reason: str, eligible: int, seed: int, chunk: int, table_key: int, factor: float = 1.0
) -> int:
    """How many of the eligible rows get the defect: Binomial(eligible, rate), from its own stream."""
    rate = min(float(getattr(rates, reason)) * factor, 1.0)
    if not rate:
        return 0
    return int(stream(seed, DIRTY_COUNT, chunk, table_key, REASON_INDEX[reason]).binomial(eligible, rate))


def messy_amounts(rng: Rng, values: Sequence[str], currencies: Sequence[str | None]) -> list[str]:
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


def garbage_timestamps(rng: Rng, seconds: np.ndarray, allow_null: bool) -> list[str | None]:
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


def inject(
    table: str,
    cols: Columns,
    eligible: np.ndarray,
    rates: DirtyRates,
    seed: int,
    chunk: int,
    window: Window,
    *,
    orphan_base: int = 9_000_000_000,
) -> Injection:
    """Give rows of a table their defects, then append duplicates.

    Returns the new columns, per reason the (original) row positions that got it, and the
    counts for the manifest: of the rows the window holds (a row and its copies are counted by
    their own ``_loaded_at``). Each reason's count is :func:`defect_count`, and the rows come from
    one fixed permutation of the eligible rows, so changing one rate leaves the others alone;
    re-delivered rows (the late-evening rows of the feeds of :data:`REDELIVERY_FACTOR`) come last.
    """
    spec = SPECS[table]
    t = TABLE_INDEX[table]
    reasons = [*ROW_DEFECTS[table], "duplicate_exact", "duplicate_reloaded"]
    if table in MONEY_TABLES:
        reasons.append("messy_amount")
    loaded_all = flat(cols["_loaded_at"]).cast(pa.int64()).to_numpy()
    pool = np.flatnonzero(eligible)
    counts = {r: defect_count(rates, r, pool.size, seed, chunk, t) for r in reasons}
    evening = (loaded_all // 1_000_000) % DAY >= REDELIVERY_FROM_S
    factor = REDELIVERY_FACTOR.get(table, 0.0)
    n_redo = defect_count(rates, "redelivered", int(evening[pool].sum()), seed, chunk, t, factor) if factor else 0
    picked: dict[str, np.ndarray] = {r: np.zeros(0, dtype=np.int64) for r in [*reasons, "redelivered"]}
    if pool.size and any(counts.values()):
        perm = stream(seed, DIRTY_PICK, chunk, t).permutation(pool)
        at = 0
        for r in reasons:
            k = min(counts[r], perm.size - at)
            picked[r] = np.sort(perm[at : at + k])
            at += k
    if n_redo:  # its own permutation, so the other rates leave it alone; rows with a defect are not sent again
        again = stream(seed, DIRTY_PICK, chunk, t, 2).permutation(pool[evening[pool]])[:n_redo]
        defective = np.concatenate([picked[r] for r in ROW_DEFECTS[table]])
        picked["redelivered"] = np.sort(again[~np.isin(again, defective)])
    vr = stream(seed, DIRTY_VALUE, chunk, t)
    out = dict(cols)
    injected: dict[str, int] = {}
    messy: dict[str, int] = {}
    duplicates: Counts = {}

    def loaded_seconds(rows: np.ndarray) -> np.ndarray:
        return loaded_all[rows] // 1_000_000

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
        if r == "missing_key":
            if table == "marketing_spend":  # staging reads an empty date as unparseable
                out["spend_date"] = replace_rows(out["spend_date"], rows, [None] * rows.size)
                continue
            which = vr.integers(0, len(spec.key_cols), rows.size)
            values = pick(vr, MISSING_KEYS, rows.size)
            for k, name in enumerate(spec.key_cols):
                sel = which == k
                out[name] = replace_rows(out[name], rows[sel], [v for v, s in zip(values, sel, strict=True) if s])
        elif r == "unparseable_timestamp":
            assert spec.ts_col is not None
            if table == "marketing_spend":
                dates = [dt.date.fromisoformat(v) for v in cols["spend_date"].take(rows).to_pylist()]
                bad = [f"{d:%m/%d/%Y}" if i % 2 else f"{d:%d.%m.%Y}" for i, d in enumerate(dates)]
                out["spend_date"] = replace_rows(out["spend_date"], rows, bad)
                continue
            out[spec.ts_col] = replace_rows(
                out[spec.ts_col], rows, garbage_timestamps(vr, loaded_seconds(rows), allow_null=True)
            )
        elif r == "future_timestamp":
            assert spec.ts_col is not None
            if table == "marketing_spend":  # the row claims to be loaded before its day began
                day_s = np.array(
                    [(dt.date.fromisoformat(v) - EPOCH).days * DAY for v in cols["spend_date"].take(rows).to_pylist()]
                )
                new_us = (day_s - vr.integers(3600, 2 * DAY, rows.size)) * 1_000_000
                out["_loaded_at"] = replace_rows(out["_loaded_at"], rows, ts_array(new_us))
                continue
            ahead = loaded_seconds(rows) + vr.integers(3600, 10 * DAY, rows.size)
            out[spec.ts_col] = replace_rows(out[spec.ts_col], rows, ts_strings(ahead, 0, 0))
        elif r == "unknown_currency":
            assert spec.currency_col is not None
            out[spec.currency_col] = replace_rows(out[spec.currency_col], rows, pick(vr, BAD_CURRENCIES, rows.size))
        elif r == "invalid_amount":
            bad_values: Sequence[str | None] = (*BAD_AMOUNTS, "", None) if spec.empty_money_invalid else BAD_AMOUNTS
            names = money_col(rows, vr)
            values = pick(vr, bad_values, rows.size)
            for name in spec.money_cols:
                sel = np.array([n == name for n in names])
                out[name] = replace_rows(out[name], rows[sel], [v for v, s in zip(values, sel, strict=True) if s])
        elif r == "invalid_quantity":
            assert spec.qty_col is not None
            out[spec.qty_col] = replace_rows(out[spec.qty_col], rows, arrow_int(pick(vr, BAD_QUANTITIES, rows.size)))
        elif r == "invalid_rating":
            assert spec.rating_col is not None
            out[spec.rating_col] = replace_rows(out[spec.rating_col], rows, arrow_int(pick(vr, BAD_RATINGS, rows.size)))
        elif r == "invalid_score":
            assert spec.score_col is not None
            out[spec.score_col] = replace_rows(out[spec.score_col], rows, arrow_int(pick(vr, BAD_SCORES, rows.size)))
        elif r == "orphan_line":
            assert spec.parent_col is not None
            fake = orphan_base + vr.integers(0, 999_999_999, rows.size)
            out[spec.parent_col] = replace_rows(out[spec.parent_col], rows, id_strings(spec.parent_prefix, fake, 10))
        elif r == "unknown_customer":
            assert spec.customer_col is not None
            fake = 9_000_000 + vr.integers(0, 999_999, rows.size)
            out[spec.customer_col] = replace_rows(out[spec.customer_col], rows, id_strings("C", fake, 7))
    messy_rows = picked.get("messy_amount", np.zeros(0, dtype=np.int64))
    if messy_rows.size:
        mr = stream(seed, DIRTY_VALUE, chunk, t, 1)  # its own stream: the other defects do not move
        names = money_col(messy_rows, mr)
        for name in spec.money_cols:
            sel = np.array([n == name for n in names])
            rows = messy_rows[sel]
            if rows.size == 0:
                continue
            currencies = cols[spec.currency_col].take(rows).to_pylist() if spec.currency_col else ["USD"] * rows.size
            if spec.currency_col is None and table.endswith("_lines"):
                currencies = cols["_currency"].take(rows).to_pylist()
            out[name] = replace_rows(out[name], rows, messy_amounts(mr, cols[name].take(rows).to_pylist(), currencies))
    held = window.held(flat(out["_loaded_at"]).cast(pa.int64()).to_numpy())  # after loads moved by defects
    for r in ROW_DEFECTS[table]:
        if n := int(held[picked[r]].sum()):
            injected[r] = n
    exact, reloaded, redo = picked["duplicate_exact"], picked["duplicate_reloaded"], picked["redelivered"]
    day_us = DAY * 1_000_000
    resent_us = (loaded_all[redo] // day_us + 1) * day_us  # in the next day's export, soon after midnight
    resent_us += stream(seed, DIRTY_VALUE, chunk, t, 2).integers(0, REDELIVERY_WITHIN_S * 10**6, redo.size)
    resent_held = window.held(resent_us)
    if n := int(held[messy_rows].sum() + resent_held[np.isin(redo, messy_rows)].sum()):  # copies are rows too
        messy[table] = n
    if exact.size or reloaded.size or redo.size:
        again = {k: v.take(reloaded) for k, v in out.items()}
        later = again["_loaded_at"].cast(pa.int64()).to_numpy() + vr.integers(DAY, 20 * DAY, reloaded.size) * 1_000_000
        again["_loaded_at"] = ts_array(later)
        resent = {k: v.take(redo) for k, v in out.items()}
        resent["_loaded_at"] = ts_array(resent_us)
        if spec.reload_col == "status":  # re-exported by another system version: other case
            status = again["status"]
            again["status"] = pc.if_else(
                pc.equal(status, pc.utf8_upper(status)), pc.utf8_lower(status), pc.utf8_upper(status)
            )
        elif spec.reload_col == "amount":  # a restated spend
            amounts = np.array([float(v) for v in again["amount"].to_pylist()])
            again["amount"] = money_strings(np.round(amounts * 100 * vr.uniform(0.95, 1.05, amounts.size)))
        out = {k: pa.chunked_array([v, v.take(exact), again[k], resent[k]]) for k, v in out.items()}
        duplicates[table] = {
            "duplicate_exact": int(held[exact].sum()),
            "duplicate_reloaded": int(window.held(later).sum()),
            "redelivered": int(resent_held.sum()),
        }
    stats = Stats(injected={table: injected} if injected else {}, duplicates=duplicates, messy=messy)
    return Injection(out, picked, stats)
