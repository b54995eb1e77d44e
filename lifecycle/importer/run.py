"""``import_transactions``: read the exports, sort every row into imported, anonymous or rejected,
build the raw tables and write them with the rejects file and the import report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.importer import parsing, report
from lifecycle.importer.build import build_tables, rejects_table
from lifecycle.importer.reading import SourceFile, expand_inputs, read_file
from lifecycle.importer.rules import (
    ANONYMOUS_VALUES,
    CONSENT_MODES,
    MAX_MONEY,
    REJECT_REASONS,
    STATUS_WORDS,
    ImportError_,
    currency_code,
    parse_status_map,
)

_MAX_EXAMPLES = 5


def _loaded_at(value: dt.datetime | str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ImportError_(f"--loaded-at {value!r} is not an ISO timestamp such as 2026-10-01T02:00:00") from exc
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def _check_columns(src: SourceFile, frame: pd.DataFrame, named: dict[str, str]) -> None:
    import difflib

    available = [c for c in frame.columns if c != "_line"]
    problems = []
    for option, col in named.items():
        if col in available:
            continue
        close = [c for c in available if c.lower() == col.lower()] or difflib.get_close_matches(
            col, available, n=1, cutoff=0.6
        )
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(f"column '{col}' ({option}) not found{hint}")
    if problems:
        shown = ", ".join(f"'{c}'" for c in available)
        raise ImportError_(f"{src.label}: {'; '.join(problems)}; available columns: {shown}")


def _examples(data: pd.DataFrame, bad: np.ndarray, col: str) -> str:
    first = data[bad].head(_MAX_EXAMPLES)
    return ", ".join(f"{f} line {n}: {v!r}" for f, n, v in zip(first["_file"], first["_line"], first[col], strict=True))


def _too_many_bad(data: pd.DataFrame, bad: np.ndarray, col: str, what: str) -> None:
    """More than half the rows failing means the column or format is wrong, not the rows."""
    if int(bad.sum()) * 2 > len(data):
        raise ImportError_(
            f"column '{col}': {int(bad.sum())} of {len(data)} values are not {what}; "
            f"first: {_examples(data, bad, col)}"
        )


def _read_all(files: list[SourceFile], named: dict[str, str], delimiter: str | None, encoding: str | None,
              no_header: bool) -> pd.DataFrame:
    frames = []
    wanted = list(dict.fromkeys(named.values()))
    for src in files:
        frame = read_file(src, delimiter, encoding, no_header)
        _check_columns(src, frame, named)
        part = frame[[*wanted, "_line"]].copy()
        part["_file"] = src.label
        frames.append(part)
    data = pd.concat(frames, ignore_index=True)
    for col in wanted:
        data[col] = data[col].astype(str).str.strip()
    return data


def _ids(values: pd.Series, normalise: bool) -> tuple[pd.Series, pd.Series]:
    canonical = parsing.canonical_ids(values)
    return (canonical if normalise else values), canonical


def import_transactions(
    inputs: Path | str | Sequence[Path | str],
    out: Path | str,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    *,
    quantity_col: str | None = None,
    unit_price_col: str | None = None,
    order_id_col: str | None = None,
    status_col: str | None = None,
    status_map: str | dict[str, str] | None = None,
    currency: str = "USD",
    currency_col: str | None = None,
    consent_col: str | None = None,
    marketing_consent: str = "none",
    anonymous_values: Sequence[str] = (),
    date_format: str | None = None,
    delimiter: str | None = ",",
    encoding: str | None = None,
    no_header: bool = False,
    normalise_ids: bool = False,
    strict: bool = False,
    loaded_at: dt.datetime | str | None = None,
) -> dict[str, Any]:
    """Turn one or more exports into the raw tables under ``out``; return the import report.

    Raises :class:`ImportError_` (and writes nothing) for a problem with a file or an option,
    and with ``strict`` for any rejected row. See the package docstring for every rule.
    """
    out = Path(out)
    line_level = quantity_col is not None or unit_price_col is not None
    if line_level == (amount_col is not None) or (line_level and not (quantity_col and unit_price_col)):
        raise ImportError_("give either --amount-col, or both --quantity-col and --unit-price-col")
    code = currency_code(currency)
    if marketing_consent not in CONSENT_MODES:
        raise ImportError_(f"--marketing-consent must be one of {', '.join(CONSENT_MODES)}")
    if consent_col and marketing_consent != "none":
        raise ImportError_("give either --consent-col or --marketing-consent all, not both")
    mapping = STATUS_WORDS | (parse_status_map(status_map) if isinstance(status_map, str | None) else {
        k.strip().lower(): v for k, v in parse_status_map(",".join(f"{k}={v}" for k, v in status_map.items())).items()
    })
    if status_map and not status_col:
        raise ImportError_("--status-map needs --status-col")
    placeholders = {v.strip().lower() for v in (*ANONYMOUS_VALUES, *anonymous_values)}
    load_time = _loaded_at(loaded_at)

    named = {"--customer-col": customer_col, "--date-col": date_col}
    for option, col in (
        ("--amount-col", amount_col), ("--quantity-col", quantity_col), ("--unit-price-col", unit_price_col),
        ("--order-id-col", order_id_col), ("--status-col", status_col), ("--currency-col", currency_col),
        ("--consent-col", consent_col),
    ):
        if col:
            named[option] = col
    items = [inputs] if isinstance(inputs, str | Path) else list(inputs)
    files = expand_inputs(items)
    data = _read_all(files, named, delimiter, encoding, no_header)
    n = len(data)
    warnings: list[str] = []

    # customers: a placeholder value is an anonymous sale, never a customer
    customer, canonical = _ids(data[customer_col], normalise_ids)
    anonymous = data[customer_col].str.lower().isin(placeholders) | canonical.str.lower().isin(placeholders)
    anonymous = anonymous.to_numpy()
    warnings += parsing.id_warnings(data.loc[~anonymous, customer_col], customer_col, normalise_ids)

    reasons: dict[str, np.ndarray] = {}
    details: dict[str, Any] = {}
    if order_id_col:
        order_id, _ = _ids(data[order_id_col], normalise_ids)
        warnings += parsing.id_warnings(data[order_id_col], order_id_col, normalise_ids)
        reasons["missing_key"] = (order_id == "").to_numpy()
        details["missing_key"] = lambda i: f"column '{order_id_col}' (order id) is empty"

    ts = parsing.parse_dates(data[date_col], date_col, date_format)
    unparseable = ts.isna().to_numpy()
    _too_many_bad(data, unparseable, date_col, f"dates in format {date_format!r}" if date_format else
                  "ISO 8601 dates (pass --date-format, e.g. %d/%m/%Y)")
    how = f"format {date_format}" if date_format else "ISO 8601"
    reasons["unparseable_timestamp"] = unparseable
    details["unparseable_timestamp"] = lambda i: f"column '{date_col}': {data.at[i, date_col]!r} is not a date in {how}"
    reasons["future_timestamp"] = (ts > pd.Timestamp(load_time)).to_numpy()
    details["future_timestamp"] = (
        lambda i: f"column '{date_col}': {data.at[i, date_col]!r} is after the load time {load_time.isoformat(' ')}"
    )

    price_col = unit_price_col if line_level else amount_col
    assert price_col is not None
    money = parsing.parse_money(data[price_col])
    if line_level:
        assert quantity_col is not None
        qty, bad_qty = parsing.parse_quantities(data[quantity_col])
        _too_many_bad(data, bad_qty, quantity_col, "whole non-zero quantities")
        reasons["invalid_quantity"] = bad_qty
        details["invalid_quantity"] = (
            lambda i: f"column '{quantity_col}': {data.at[i, quantity_col]!r} is not a whole non-zero quantity"
        )
        quantity = np.where(money.negative, -qty, qty)  # a negative unit price is a credit too
        line_amount = money.magnitude * np.abs(qty)
    else:
        quantity = np.where(money.negative, -1, 1)
        line_amount = money.magnitude
    _too_many_bad(data, money.bad, price_col, "numbers")
    reasons["invalid_amount"] = money.bad
    details["invalid_amount"] = lambda i: f"column '{price_col}': {data.at[i, price_col]!r} is not a number"
    reasons["amount_out_of_range"] = ~money.bad & ((money.magnitude >= MAX_MONEY) | (line_amount >= MAX_MONEY))
    def _out_of_range(i: int) -> str:
        amount = f"{data.at[i, quantity_col]} x {data.at[i, price_col]}" if quantity_col else data.at[i, price_col]
        return f"column '{price_col}': the line amount {amount} is beyond decimal(18, 2)"

    details["amount_out_of_range"] = _out_of_range

    status_counts: dict[str, dict[str, Any]] = {}
    if status_col:
        row_status = parsing.map_statuses(data[status_col], mapping)
        reasons["unknown_status"] = row_status.isna().to_numpy()
        details["unknown_status"] = (
            lambda i: f"column '{status_col}': status {data.at[i, status_col]!r} is not known "
            "(map it with --status-map)"
        )
        for word, count in data[status_col].str.lower().value_counts().sort_index().items():
            status_counts[str(word)] = {"maps_to": mapping.get(str(word)), "rows": int(count)}
        unknown = {w: s["rows"] for w, s in status_counts.items() if s["maps_to"] is None}
        if unknown:
            shown = ", ".join(f"{w!r} ({c} rows)" for w, c in unknown.items())
            warnings.append(f"column '{status_col}': unknown statuses quarantined: {shown}; map them with --status-map")
        row_status = row_status.fillna("unknown")
    else:
        row_status = pd.Series("completed", index=data.index)

    currency_values = data[currency_col].str.upper() if currency_col else pd.Series(code, index=data.index)
    if currency_col:
        odd = sorted(set(currency_values[~parsing.is_iso_code(currency_values)]))
        if odd:
            warnings.append(
                f"column '{currency_col}': values that are not ISO currency codes: {', '.join(map(repr, odd[:10]))} "
                "(the warehouse quarantines them as unknown_currency)"
            )

    consent = np.full(n, marketing_consent == "all")
    unrecognised_consent: dict[str, int] = {}
    if consent_col:
        consent, unrecognised = parsing.parse_consent(data[consent_col])
        unrecognised_consent = {str(k): int(v) for k, v in unrecognised.items()}
        if unrecognised_consent:
            shown = ", ".join(f"{k!r} ({v} rows)" for k, v in unrecognised_consent.items())
            warnings.append(f"column '{consent_col}': unrecognised consent values treated as no consent: {shown}")

    # one reason per row: the first that applies, in REJECT_REASONS order
    reason = np.full(n, "", dtype=object)
    for code_ in REJECT_REASONS:
        if code_ in reasons:
            reason[(reason == "") & reasons[code_]] = code_

    # order keys of the usable rows
    keep = reason == ""
    owner = customer.where(~anonymous, "")
    if order_id_col:
        key = order_id.copy()
        owners = pd.DataFrame({"oid": order_id[keep], "owner": owner[keep]}).groupby("oid")["owner"].nunique()
        shared = order_id.isin(set(owners.index[owners > 1]))
        key[shared] = order_id[shared] + "-" + owner[shared].where(owner[shared] != "", "anonymous")
    else:
        day = ts.dt.strftime("%Y%m%d")
        key = customer + "-" + day
        per_day = pd.DataFrame({"key": key[keep], "cur": currency_values[keep]}).groupby("key")["cur"].nunique()
        split = key.isin(set(per_day.index[per_day > 1]))  # one order per currency: never merge currencies
        key[split] = key[split] + "-" + currency_values[split]
        key[anonymous] = "anonymous-" + data["_file"][anonymous] + "-" + data["_line"][anonymous].astype(str)
        if split.any():
            warnings.append(f"{int(split[keep].sum())} rows of customers who bought in several currencies on one day "
                            "form one order per currency")
    if order_id_col:
        currencies = pd.DataFrame({"key": key[keep], "cur": currency_values[keep]}).groupby("key")["cur"]
        mixed_keys = currencies.nunique()
        mixed = key.isin(set(mixed_keys.index[mixed_keys > 1])).to_numpy() & keep
        reason[mixed] = "mixed_currency"
        mixed_rows = pd.DataFrame({"key": key[mixed], "cur": currency_values[mixed]})
        order_currencies = mixed_rows.groupby("key")["cur"].agg(lambda c: sorted(set(c)))
        details["mixed_currency"] = (
            lambda i: f"column '{currency_col}': the order's rows carry "
            f"{', '.join(order_currencies[key[i]])}"
        )
        keep = reason == ""
        owners_after = pd.DataFrame({"key": key[keep], "owner": owner[keep]}).groupby("key")["owner"].nunique()
        if (owners_after > 1).any():  # '<order id>-<customer>' built for a shared id clashes with a real id
            clash = ", ".join(map(repr, owners_after.index[owners_after > 1][:_MAX_EXAMPLES]))
            raise ImportError_(
                f"column '{order_id_col}': cannot build one order per (customer, order id): ids {clash} clash"
            )

    if not keep.any():
        counts = pd.Series(reason).value_counts().sort_index()
        raise ImportError_(
            f"none of the {n} rows can be imported ({', '.join(f'{r} {c}' for r, c in counts.items())}); "
            "nothing written"
        )
    rejected = np.flatnonzero(~keep)
    rejects = pd.DataFrame(
        {
            "file": data["_file"].to_numpy()[rejected],
            "line": data["_line"].to_numpy()[rejected],
            "reason": reason[rejected],
            "detail": [details[reason[i]](i) for i in rejected],
        }
    )
    if strict and len(rejects):
        counts = rejects["reason"].value_counts().sort_index()
        raise ImportError_(
            f"--strict: {len(rejects)} of {n} rows cannot be imported "
            f"({', '.join(f'{r} {c}' for r, c in counts.items())}); nothing written"
        )

    rows = pd.DataFrame(
        {
            "order_key": key[keep].to_numpy(),
            "customer_id": customer.where(~anonymous, None)[keep].to_numpy(),
            "ts": ts[keep].to_numpy(),
            "quantity": quantity[keep],
            "price": money.price[keep],
            "cents": money.cents[keep],
            "currency": currency_values[keep].to_numpy(),
            "row_status": row_status[keep].to_numpy(),
            "consent": consent[keep],
            "seq": np.flatnonzero(keep),
        }
    )
    tables, stats = build_tables(rows, load_time)
    tables["import_rejects"] = rejects_table(rejects, load_time)

    anon_kept = anonymous & keep
    summary = report.summary(
        files=files,
        out=out,
        rows_read=n,
        rejects=rejects,
        anonymous_by_value=data.loc[anon_kept, customer_col].str.lower().value_counts().sort_index(),
        stats=stats,
        rows=rows,
        orders_by=f"order id column '{order_id_col}'" if order_id_col else "customer and calendar day",
        statuses=status_counts,
        consent_mode=(
            f"column '{consent_col}'" if consent_col else marketing_consent
        ),
        unrecognised_consent=unrecognised_consent,
        warnings=warnings,
        loaded_at=load_time,
    )
    report.write(out, tables, rejects, summary)
    return summary
