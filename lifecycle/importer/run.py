"""``import_transactions``: read the exports, sort every row into imported, anonymous or rejected,
build the raw tables and write them with the rejects file and the import report."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.importer import report
from lifecycle.importer.build import build_tables, rejects_table
from lifecycle.importer.reading import SourceFile, expand_inputs, read_file
from lifecycle.importer.rows import Options, Rows, classify
from lifecycle.importer.rules import (
    ANONYMOUS_VALUES,
    CONSENT_MODES,
    STATUS_WORDS,
    ImportError_,
    currency_code,
    parse_status_map,
)


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


def _read_all(
    files: list[SourceFile], named: dict[str, str], delimiter: str | None, encoding: str | None, no_header: bool
) -> pd.DataFrame:
    """The named columns of every file, stripped, one after the other, with '_file' and '_line'."""
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


def _counts(reasons: pd.Series) -> str:
    return ", ".join(f"{r} {c}" for r, c in reasons.value_counts().sort_index().items())


def _rejects(rows: Rows) -> pd.DataFrame:
    rejected = np.flatnonzero(~rows.keep)
    return pd.DataFrame(
        {
            "file": rows.data["_file"].to_numpy()[rejected],
            "line": rows.data["_line"].to_numpy()[rejected],
            "reason": rows.reason[rejected],
            "detail": [rows.details[rows.reason[i]](int(i)) for i in rejected],
        }
    )


def _usable(rows: Rows) -> pd.DataFrame:
    keep = rows.keep
    assert rows.key is not None
    return pd.DataFrame(
        {
            "order_key": rows.key[keep].to_numpy(),
            "customer_id": rows.customer.where(~rows.anonymous, None)[keep].to_numpy(),
            "ts": rows.ts[keep].to_numpy(),
            "quantity": rows.quantity[keep],
            "price": rows.money.price[keep],
            "cents": rows.money.cents[keep],
            "currency": rows.currency[keep].to_numpy(),
            "row_status": rows.row_status[keep].to_numpy(),
            "consent": rows.consent[keep],
            "seq": np.flatnonzero(keep),
        }
    )


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
    status_map: str | Mapping[str, str] | None = None,
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

    Raises :class:`ImportError_` (and writes nothing) for a problem with a file or an option, when
    no row can be imported, and with ``strict`` for any rejected row. The package docstring
    (:mod:`lifecycle.importer`) states every rule.
    """
    out = Path(out)
    line_level = quantity_col is not None or unit_price_col is not None
    if line_level == (amount_col is not None) or (line_level and not (quantity_col and unit_price_col)):
        raise ImportError_("give either --amount-col, or both --quantity-col and --unit-price-col")
    if marketing_consent not in CONSENT_MODES:
        raise ImportError_(f"--marketing-consent must be one of {', '.join(CONSENT_MODES)}")
    if consent_col and marketing_consent != "none":
        raise ImportError_("give either --consent-col or --marketing-consent all, not both")
    if status_map and not status_col:
        raise ImportError_("--status-map needs --status-col")
    extra = status_map if isinstance(status_map, str | None) else ",".join(f"{k}={v}" for k, v in status_map.items())
    options = Options(
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        quantity_col=quantity_col,
        unit_price_col=unit_price_col,
        order_id_col=order_id_col,
        status_col=status_col,
        statuses=STATUS_WORDS | parse_status_map(extra),
        currency=currency_code(currency),
        currency_col=currency_col,
        consent_col=consent_col,
        marketing_consent=marketing_consent,
        placeholders=frozenset(v.strip().lower() for v in (*ANONYMOUS_VALUES, *anonymous_values)),
        date_format=date_format,
        normalise_ids=normalise_ids,
        loaded_at=_loaded_at(loaded_at),
    )

    files = expand_inputs([inputs] if isinstance(inputs, str | Path) else list(inputs))
    data = _read_all(files, options.named_columns, delimiter, encoding, no_header)
    rows = classify(data, options)
    n = len(data)
    if not rows.keep.any():
        raise ImportError_(f"none of the {n} rows can be imported ({_counts(pd.Series(rows.reason))}); nothing written")
    rejects = _rejects(rows)
    if strict and len(rejects):
        raise ImportError_(
            f"--strict: {len(rejects)} of {n} rows cannot be imported ({_counts(rejects['reason'])}); nothing written"
        )

    usable = _usable(rows)
    tables, stats = build_tables(usable, options.loaded_at)
    tables["import_rejects"] = rejects_table(rejects, options.loaded_at)
    anonymous = rows.anonymous & rows.keep
    summary = report.summary(
        files=files,
        out=out,
        rows_read=n,
        rejects=rejects,
        anonymous_by_value=data.loc[anonymous, customer_col].str.lower().value_counts().sort_index(),
        stats=stats,
        rows=usable,
        orders_by=f"order id column '{order_id_col}'" if order_id_col else "customer and calendar day",
        statuses=rows.statuses,
        consent_mode=f"column '{consent_col}'" if consent_col else marketing_consent,
        unrecognised_consent=rows.unrecognised_consent,
        warnings=rows.warnings,
        loaded_at=options.loaded_at,
    )
    report.write(out, tables, rejects, summary)
    return summary
