"""Import a plain transaction export (CSV or whitespace-separated text) into the raw tables.

Any export with one row per transaction (or per order line) and at least a customer, a
date and an amount column becomes a complete raw directory that the dbt project builds on:

* ``crm_customers``: one row per distinct customer. The customer value is kept verbatim as
  ``customer_id``; ``email`` is a synthetic, non-PII placeholder ``<customer_id>@import.invalid``
  (the reserved ``.invalid`` TLD can never deliver mail; ids with characters that are not
  valid in an email local part are sanitised and suffixed with a short hash so placeholders
  stay unique). Names and other attributes are null, ``signup_at`` = ``updated_at`` = the
  first transaction, ``acquisition_channel`` 'unknown', ``marketing_consent`` false.
* ``shop_orders``: one order per (customer, order id) when an order id column is given,
  otherwise one order per (customer, calendar day): several rows on one day are one order
  (the usual convention of repeat-purchase/CLV models). Channel 'web', status 'completed'
  ('returned' when the order total is negative), the given currency, zero discount,
  shipping and tax. ``ordered_at`` is the earliest transaction time of the order.
* ``shop_order_lines``: one line per input row, ``order_line_id`` '<order_id>-<n>', sku and
  category 'unknown', quantity 1, ``unit_price`` = the amount with at least two decimals.
  A negative amount is a returned line: ``returned_quantity`` 1 and the absolute price.
* every other raw table: an empty Parquet file with the contract schema.

Timestamps are written as 'YYYY-MM-DD HH:MM:SS' strings (midnight when the column holds
only dates; timezone-aware values are converted to UTC). ``_loaded_at`` is the day after
the last transaction at 02:00, so an import is deterministic. Nothing is written unless
the whole file is valid: bad rows raise :class:`ImportError_` naming the file, the column
and the first offending lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lifecycle import paths, schema

PART_FILE = "part-00000.parquet"
EMAIL_DOMAIN = "import.invalid"
_MAX_EXAMPLES = 5
_DELIMITERS = {"whitespace": r"\s+", "tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}
_CURRENCY_SYMBOLS = "[\\s$€£¥'\u00a0\u202f]|US\\$|USD|EUR|GBP|CAD|AUD"  # RE2 syntax, literal NBSPs
_EMAIL_LOCAL_OK = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*")


class ImportError_(Exception):  # noqa: N801, N818 - the trailing underscore avoids shadowing ImportError
    """A transaction file that cannot be imported; the message names the file and the column."""


# ----------------------------------------------------------------------------- reading


def _separator(delimiter: str) -> str:
    sep = _DELIMITERS.get(delimiter.lower(), delimiter) if delimiter else ","
    if sep != r"\s+" and len(sep) != 1:
        raise ImportError_(
            f"unsupported delimiter {delimiter!r}: use one character such as ',' ';' or a tab, "
            "or 'whitespace' for runs of blanks"
        )
    return sep


def _read(file: Path, delimiter: str, no_header: bool) -> pd.DataFrame:
    if not file.exists():
        raise ImportError_(f"{file}: file not found")
    if not file.is_file():
        raise ImportError_(f"{file}: not a file")
    sep = _separator(delimiter)
    last_exc: Exception | None = None
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            df = pd.read_csv(
                file,
                sep=sep,
                header=None if no_header else 0,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding=encoding,
                skip_blank_lines=True,
            )
            break
        except pd.errors.EmptyDataError as exc:
            raise ImportError_(f"{file}: the file is empty") from exc
        except pd.errors.ParserError as exc:
            raise ImportError_(f"{file}: cannot parse the file with delimiter {delimiter!r}: {exc}") from exc
        except UnicodeDecodeError as exc:
            last_exc = exc
    else:
        raise ImportError_(f"{file}: cannot decode the file: {last_exc}")
    df = df.fillna("")  # short rows: missing trailing fields
    if no_header:
        df.columns = [f"col{i}" for i in range(1, len(df.columns) + 1)]
    else:
        df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise ImportError_(f"{file}: the file is empty (no data rows)")
    return df


def _check_columns(file: Path, df: pd.DataFrame, named: dict[str, str]) -> None:
    available = list(df.columns)
    problems = []
    for option, col in named.items():
        if col in available:
            continue
        hint = ""
        close = [c for c in available if c.lower() == col.lower()] or difflib.get_close_matches(
            col, available, n=1, cutoff=0.6
        )
        if close:
            hint = f" (did you mean '{close[0]}'?)"
        problems.append(f"column '{col}' ({option}) not found{hint}")
    if problems:
        shown = ", ".join(f"'{c}'" for c in available)
        raise ImportError_(f"{file}: {'; '.join(problems)}; available columns: {shown}")


def _examples(file: Path, df: pd.DataFrame, bad: pd.Series, col: str, no_header: bool) -> str:
    first = df.index[bad.to_numpy()][:_MAX_EXAMPLES]
    offset = 1 if no_header else 2  # 1-based line numbers, the header being line 1
    return ", ".join(f"line {int(i) + offset}: {df.at[i, col]!r}" for i in first)


# ----------------------------------------------------------------------------- parsing


def _parse_dates(
    file: Path, df: pd.DataFrame, col: str, date_format: str | None, no_header: bool
) -> pd.Series:
    raw = df[col].str.strip()
    try:
        parsed = pd.to_datetime(raw, format=date_format or "ISO8601", errors="coerce", utc=True)
    except (ValueError, TypeError) as exc:  # e.g. an invalid format string
        raise ImportError_(f"{file}: column '{col}': cannot parse dates with {date_format!r}: {exc}") from exc
    bad = parsed.isna()
    if bad.any():
        how = f"format {date_format!r}" if date_format else "ISO 8601 (pass --date-format, e.g. %d/%m/%Y)"
        raise ImportError_(
            f"{file}: column '{col}': {int(bad.sum())} of {len(df)} values are not dates in {how}; "
            f"first: {_examples(file, df, bad, col, no_header)}"
        )
    return parsed.dt.tz_localize(None)


def _normalise_amounts(raw: pa.Array) -> pa.Array:
    """Strip currency symbols and thousands separators; return plain '[-]digits[.digits]' text.

    '1,200.50' and '1.200,50' are both 1200.50 (the later separator is the decimal one),
    '1,200' is 1200 (comma followed by groups of three digits), '12,5' is 12.5 (a lone
    decimal comma), '1.200.000' is 1200000 and '(4.25)' is -4.25 (accounting negative).
    """
    s = pc.utf8_trim_whitespace(raw)
    s = pc.replace_substring_regex(s, r"^\((.*)\)$", r"-\1")
    s = pc.replace_substring_regex(s, _CURRENCY_SYMBOLS, "")
    comma_decimal = pc.match_substring_regex(s, r"\.[^.]*,")  # a comma after the last dot: 1.200,50
    s = pc.if_else(comma_decimal, pc.replace_substring(pc.replace_substring(s, ".", ""), ",", "."), s)
    both = pc.and_(pc.match_substring(s, ","), pc.match_substring(s, "."))  # 1,200.50
    s = pc.if_else(both, pc.replace_substring(s, ",", ""), s)
    thousands = pc.match_substring_regex(s, r"^[+-]?\d{1,3}(?:,\d{3})+$")  # 1,200
    s = pc.if_else(thousands, pc.replace_substring(s, ",", ""), s)
    s = pc.replace_substring_regex(s, r"^([^,.]*),([^,.]*)$", r"\1.\2")  # 12,5
    dotted = pc.match_substring_regex(s, r"^[+-]?\d{1,3}(?:\.\d{3}){2,}$")  # 1.200.000
    return pc.if_else(dotted, pc.replace_substring(s, ".", ""), s)


def _parse_amounts(file: Path, df: pd.DataFrame, col: str, no_header: bool) -> pd.DataFrame:
    """Return columns: price (absolute value, text with 2+ decimals), negative (bool), value (float)."""
    clean = _normalise_amounts(pa.array(df[col], type=pa.large_string()))
    parts = pc.extract_regex(clean, r"^(?P<sign>[+-]?)(?P<int>\d*)(?:\.(?P<frac>\d*))?$")
    sign, digits, frac = (pc.struct_field(parts, [i]) for i in range(3))
    bad = pc.or_(pc.is_null(parts), pc.and_(pc.equal(digits, ""), pc.equal(frac, "")))
    bad = pc.fill_null(bad, True).to_numpy(zero_copy_only=False)
    if bad.any():
        raise ImportError_(
            f"{file}: column '{col}': {int(bad.sum())} of {len(df)} values are not numbers; "
            f"first: {_examples(file, df, pd.Series(bad, index=df.index), col, no_header)}"
        )
    digits = pc.utf8_ltrim(digits, characters="0")
    digits = pc.if_else(pc.equal(digits, ""), "0", digits)
    frac = pc.utf8_rpad(frac, width=2, padding="0")
    price = pc.binary_join_element_wise(digits, frac, pa.scalar(".", pa.large_string()))
    magnitude = pc.cast(price, pa.float64())
    negative = pc.and_(pc.equal(sign, "-"), pc.not_equal(magnitude, 0.0))
    value = pc.if_else(negative, pc.negate(magnitude), magnitude)
    return pd.DataFrame(
        {
            "price": pd.Series(price.to_numpy(zero_copy_only=False), index=df.index, dtype="str"),
            "negative": negative.to_numpy(zero_copy_only=False),
            "value": value.to_numpy(zero_copy_only=False),
        },
        index=df.index,
    )


def _non_empty(file: Path, df: pd.DataFrame, col: str, what: str, no_header: bool) -> pd.Series:
    values = df[col].str.strip()
    bad = values == ""
    if bad.any():
        raise ImportError_(
            f"{file}: column '{col}': {int(bad.sum())} of {len(df)} rows have an empty {what}; "
            f"first: {_examples(file, df, bad, col, no_header)}"
        )
    return values


def _placeholder_email(customer_id: str) -> str:
    local = customer_id
    if not _EMAIL_LOCAL_OK.fullmatch(local) or len(local) > 64:
        digest = hashlib.sha1(customer_id.encode("utf-8")).hexdigest()[:10]
        cleaned = re.sub(r"[^A-Za-z0-9_+-]+", "_", customer_id).strip("_")[:40]
        local = f"{cleaned}.{digest}" if cleaned else f"customer.{digest}"
    return f"{local}@{EMAIL_DOMAIN}"


# ----------------------------------------------------------------------------- building


TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def _ts_text(ts: pd.Series) -> pa.Array:
    seconds = pa.array(ts).cast(pa.timestamp("s"), safe=False)  # drop fractions of a second
    return pc.strftime(seconds, format=TS_FORMAT)


def _fmt(value: dt.datetime) -> str:
    return value.strftime(TS_FORMAT)


def _arrow(rt: schema.RawTable, columns: dict[str, Any], n: int, loaded_at: dt.datetime) -> pa.Table:
    arrays = []
    for name, typ in rt.columns:
        value = loaded_at if name == "_loaded_at" else columns.get(name)
        if isinstance(value, pd.Series):
            arrays.append(pa.array(value, type=typ, from_pandas=True))
        elif isinstance(value, pa.Array | pa.ChunkedArray):
            arrays.append(value.cast(typ))
        else:
            arrays.append(pa.repeat(pa.scalar(value, type=typ), n))
    return pa.Table.from_arrays(arrays, schema=rt.arrow_schema)


def _build(
    file: Path,
    df: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str,
    order_id_col: str | None,
    date_format: str | None,
    currency: str,
    no_header: bool,
) -> tuple[dict[str, pa.Table], dict[str, Any]]:
    customers = _non_empty(file, df, customer_col, "customer id", no_header)
    ts = _parse_dates(file, df, date_col, date_format, no_header)
    amounts = _parse_amounts(file, df, amount_col, no_header)

    tx = pd.DataFrame(
        {
            "customer_id": customers.astype(object),
            "ts": ts,
            "price": amounts["price"].astype(object),
            "negative": amounts["negative"].astype(bool),
            "value": amounts["value"],
            "row": range(len(df)),
        },
        index=df.index,
    )

    shared_order_ids = 0
    if order_id_col:
        oid = _non_empty(file, df, order_id_col, "order id", no_header).astype(object)
        per_oid = pd.DataFrame({"oid": oid, "c": tx["customer_id"]}).groupby("oid")["c"].nunique()
        shared = set(per_oid.index[per_oid > 1])
        shared_order_ids = len(shared)
        tx["order_id"] = oid
        if shared:  # the same order id used by several customers: one order per (customer, order id)
            mask = oid.isin(shared)
            tx.loc[mask, "order_id"] = oid[mask] + "-" + tx.loc[mask, "customer_id"]
    else:
        tx["order_id"] = tx["customer_id"] + "-" + tx["ts"].dt.strftime("%Y%m%d")

    orders = (
        tx.groupby("order_id", sort=False)
        .agg(customer_id=("customer_id", "first"), ordered=("ts", "min"), total=("value", "sum"))
        .reset_index()
    )
    owners = tx.groupby("order_id", sort=False)["customer_id"].nunique()
    if (owners > 1).any():  # e.g. '<order id>-<customer>' built for a shared id clashes with a real id
        raise ImportError_(
            f"{file}: column '{order_id_col}': cannot build one order per (customer, order id): "
            f"ids {', '.join(map(repr, owners.index[owners > 1][:_MAX_EXAMPLES]))} clash"
        )
    orders = orders.sort_values(["ordered", "order_id"], kind="stable").reset_index(drop=True)
    orders["status"] = "completed"
    orders.loc[orders["total"].round(6) < 0, "status"] = "returned"

    tx["n"] = tx.groupby("order_id", sort=False).cumcount() + 1
    order_rank = pd.Series(range(len(orders)), index=orders["order_id"].to_numpy())
    tx["order_rank"] = tx["order_id"].map(order_rank)
    lines = tx.sort_values(["order_rank", "n"], kind="stable").reset_index(drop=True)
    lines["order_line_id"] = lines["order_id"] + "-" + lines["n"].astype(str)

    cust = (
        tx.groupby("customer_id", sort=True).agg(first=("ts", "min")).reset_index().sort_values("customer_id")
    )
    cust = cust.reset_index(drop=True)
    cust["email"] = cust["customer_id"].map(_placeholder_email)

    last_day = tx["ts"].max().normalize()
    loaded_at = (last_day + pd.Timedelta(days=1, hours=2)).to_pydatetime()

    signup = _ts_text(cust["first"])
    tables: dict[str, pa.Table] = {}
    for rt in schema.RAW_TABLES:
        tables[rt.name] = _arrow(rt, {}, 0, loaded_at)
    tables["crm_customers"] = _arrow(
        schema.TABLES["crm_customers"],
        {
            "customer_id": cust["customer_id"],
            "email": cust["email"],
            "signup_at": signup,
            "acquisition_channel": "unknown",
            "marketing_consent": False,
            "updated_at": signup,
        },
        len(cust),
        loaded_at,
    )
    tables["shop_orders"] = _arrow(
        schema.TABLES["shop_orders"],
        {
            "order_id": orders["order_id"],
            "customer_id": orders["customer_id"],
            "channel": "web",
            "ordered_at": _ts_text(orders["ordered"]),
            "status": orders["status"],
            "currency": currency,
            "discount_amount": "0.00",
            "shipping_amount": "0.00",
            "tax_amount": "0.00",
        },
        len(orders),
        loaded_at,
    )
    tables["shop_order_lines"] = _arrow(
        schema.TABLES["shop_order_lines"],
        {
            "order_line_id": lines["order_line_id"],
            "order_id": lines["order_id"],
            "sku": "unknown",
            "category": "unknown",
            "quantity": 1,
            "unit_price": lines["price"],
            "returned_quantity": lines["negative"].astype("int32"),
        },
        len(lines),
        loaded_at,
    )

    first, last = tx["ts"].min(), tx["ts"].max()
    summary: dict[str, Any] = {
        "file": str(file),
        "rows_read": len(df),
        "rows_rejected": 0,
        "customers": len(cust),
        "orders": len(orders),
        "returned_orders": int((orders["status"] == "returned").sum()),
        "lines": len(lines),
        "returned_lines": int(lines["negative"].sum()),
        "zero_amount_lines": int((lines["value"] == 0).sum()),
        "orders_by": f"order id column '{order_id_col}'" if order_id_col else "customer and calendar day",
        "order_ids_shared_by_customers": shared_order_ids,
        "date_range": {
            "first": first.strftime("%Y-%m-%d %H:%M:%S"),
            "last": last.strftime("%Y-%m-%d %H:%M:%S"),
        },
        "currency": currency,
        "loaded_at": _fmt(loaded_at),
    }
    return tables, summary


def _write(out: Path, file: Path, tables: dict[str, pa.Table]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for rt in schema.RAW_TABLES:
        folder = out / rt.name
        if folder.exists():
            shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
        folder.mkdir(parents=True)
        pq.write_table(tables[rt.name], folder / PART_FILE)
    manifest = {
        "source": "import",
        "file": str(file),
        "tables": {rt.name: {"rows": tables[rt.name].num_rows, "files": 1} for rt in schema.RAW_TABLES},
        "injected": {},
    }
    (out / "_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------- entry point


def import_transactions(
    file: Path,
    out: Path,
    customer_col: str,
    date_col: str,
    amount_col: str,
    order_id_col: str | None = None,
    date_format: str | None = None,
    currency: str = "USD",
    delimiter: str = ",",
    no_header: bool = False,
) -> dict[str, Any]:
    """Turn a transaction export into the raw tables under ``out``; return a summary.

    Raises :class:`ImportError_` (and writes nothing) for a missing or empty file, a named
    column absent from the file, unparseable dates, non-numeric amounts, empty customer or
    order ids, or a currency the project has no exchange rate for.
    """
    file, out = Path(file), Path(out)
    code = (currency or "").strip().upper()
    # Currencies live only in the fx_rates seed (the landing contract keeps no second list).
    with (paths.PROJECT_ROOT / "seeds" / "fx_rates.csv").open(encoding="utf-8") as fh:
        known = sorted({row["currency_code"] for row in csv.DictReader(fh)})
    if code not in known:
        raise ImportError_(
            f"unsupported currency {currency!r}: the project has exchange rates for "
            f"{', '.join(known)} (seeds/fx_rates.csv)"
        )
    df = _read(file, delimiter, no_header)
    named = {"--customer-col": customer_col, "--date-col": date_col, "--amount-col": amount_col}
    if order_id_col:
        named["--order-id-col"] = order_id_col
    _check_columns(file, df, named)
    tables, summary = _build(
        file, df, customer_col, date_col, amount_col, order_id_col, date_format, code, no_header
    )
    _write(out, file.resolve(), tables)
    summary["file"] = str(file.resolve())
    summary["out"] = str(out.resolve())
    return summary
