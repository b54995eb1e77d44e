"""Building the raw tables from the usable rows of an export (and import_rejects from the others).

Input: one row per usable input line with ``order_key``, ``customer_id`` (None = anonymous),
``ts``, ``quantity`` (signed), ``price`` (absolute unit price text), ``currency``, ``row_status``
(completed / cancelled / returned), ``consent`` and ``seq`` (position in the input).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle import schema

EMAIL_DOMAIN = "import.invalid"
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
_EMAIL_LOCAL_OK = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*")


def placeholder_email(customer_id: str) -> str:
    """A non-PII, never-deliverable email for a customer id ('<id>@import.invalid', sanitised and hashed)."""
    local = customer_id
    if not _EMAIL_LOCAL_OK.fullmatch(local) or len(local) > 64:
        digest = hashlib.sha1(customer_id.encode("utf-8")).hexdigest()[:10]
        cleaned = re.sub(r"[^A-Za-z0-9_+-]+", "_", customer_id).strip("_")[:40]
        local = f"{cleaned}.{digest}" if cleaned else f"customer.{digest}"
    return f"{local}@{EMAIL_DOMAIN}"


def ts_text(ts: pd.Series) -> pa.Array:
    seconds = pa.array(ts, type=pa.timestamp("us")).cast(pa.timestamp("s"), safe=False)  # drop fractions
    return pc.strftime(seconds, format=TS_FORMAT)


def arrow_table(rt: schema.RawTable, columns: dict[str, Any], n: int, loaded_at: dt.datetime) -> pa.Table:
    arrays = []
    for name, typ in rt.columns:
        value = loaded_at if name == "_loaded_at" else columns.get(name)
        if isinstance(value, pd.Series | np.ndarray):
            arrays.append(pa.array(value, type=typ, from_pandas=True))
        elif isinstance(value, pa.Array | pa.ChunkedArray):
            arrays.append(value.cast(typ))
        else:
            arrays.append(pa.repeat(pa.scalar(value, type=typ), n))
    return pa.Table.from_arrays(arrays, schema=rt.arrow_schema)


def cents_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def order_status(statuses: pd.Series, keys: pd.Series) -> pd.Series:
    """Per order: cancelled if every row is cancelled, returned if every row is cancelled or returned
    (at least one returned), else completed."""
    flags = (
        pd.DataFrame({"key": keys, "completed": statuses == "completed", "returned": statuses == "returned"})
        .groupby("key", sort=False)[["completed", "returned"]]
        .any()
    )
    return pd.Series(
        np.select([flags["completed"], flags["returned"]], ["completed", "returned"], "cancelled"),
        index=flags.index,
    )


def build_tables(rows: pd.DataFrame, loaded_at: dt.datetime) -> tuple[dict[str, pa.Table], dict[str, Any]]:
    """The sales tables (crm_customers, shop_orders, shop_order_lines) and their counts."""
    status = order_status(rows["row_status"], rows["order_key"])
    grouped = rows.groupby("order_key", sort=False)
    orders = grouped.agg(customer_id=("customer_id", "first"), ordered=("ts", "min"), currency=("currency", "first"))
    orders["status"] = status
    orders = orders.rename_axis("order_id").reset_index()
    orders = orders.sort_values(["ordered", "order_id"], kind="stable").reset_index(drop=True)

    lines = rows.copy()
    lines["n"] = grouped.cumcount() + 1
    lines["rank"] = lines["order_key"].map(pd.Series(range(len(orders)), index=orders["order_id"].to_numpy()))
    lines = lines.sort_values(["rank", "n"], kind="stable").reset_index(drop=True)
    lines["order_line_id"] = lines["order_key"] + "-" + lines["n"].astype(str)
    not_kept = lines["row_status"].isin(["cancelled", "returned"]) & (lines["order_key"].map(status) == "completed")
    returned_quantity = np.where(not_kept, np.maximum(lines["quantity"].to_numpy(), 0), 0)

    known = rows[rows["customer_id"].notna()]
    latest = known.sort_values(["ts", "seq"], kind="stable").groupby("customer_id", sort=True)
    customers = pd.DataFrame({"first": latest["ts"].min(), "consent": latest["consent"].last()})
    customers = customers.rename_axis("customer_id").reset_index()
    customers["email"] = customers["customer_id"].map(placeholder_email)

    tables = {rt.name: arrow_table(rt, {}, 0, loaded_at) for rt in schema.RAW_TABLES}
    signup = ts_text(customers["first"])
    tables["crm_customers"] = arrow_table(
        schema.TABLES["crm_customers"],
        {
            "customer_id": customers["customer_id"],
            "email": customers["email"],
            "signup_at": signup,
            "acquisition_channel": "unknown",
            "marketing_consent": customers["consent"].astype(bool).to_numpy(),
            "updated_at": signup,
        },
        len(customers),
        loaded_at,
    )
    tables["shop_orders"] = arrow_table(
        schema.TABLES["shop_orders"],
        {
            "order_id": orders["order_id"],
            "customer_id": orders["customer_id"],
            "channel": "web",
            "ordered_at": ts_text(orders["ordered"]),
            "status": orders["status"],
            "currency": orders["currency"],
            "discount_amount": "0.00",
            "shipping_amount": "0.00",
            "tax_amount": "0.00",
        },
        len(orders),
        loaded_at,
    )
    tables["shop_order_lines"] = arrow_table(
        schema.TABLES["shop_order_lines"],
        {
            "order_line_id": lines["order_line_id"],
            "order_id": lines["order_key"],
            "sku": "unknown",
            "category": "unknown",
            "quantity": lines["quantity"].astype("int32").to_numpy(),
            "unit_price": lines["price"],
            "returned_quantity": returned_quantity.astype("int32"),
        },
        len(lines),
        loaded_at,
    )
    credit = lines["quantity"] < 0
    kept = np.where(lines["order_key"].map(status) == "completed", lines["quantity"] - returned_quantity, 0)
    net = (kept * lines["cents"]).groupby(lines["currency"]).sum()
    stats: dict[str, Any] = {
        "customers": len(customers),
        "customers_consenting": int(customers["consent"].astype(bool).sum()),
        "orders": len(orders),
        "anonymous_orders": int(orders["customer_id"].isna().sum()),
        "cancelled_orders": int((orders["status"] == "cancelled").sum()),
        "returned_orders": int((orders["status"] == "returned").sum()),
        "credit_orders": int(credit.groupby(lines["order_key"]).all().sum()),
        "lines": len(lines),
        "credit_lines": int(credit.sum()),
        "lines_not_kept": int(not_kept.sum()),
        "zero_price_lines": int((lines["cents"] == 0).sum()),
        "net_amount_by_currency": {str(c): cents_text(int(v)) for c, v in net.sort_index().items()},
    }
    return tables, stats


def rejects_table(rejects: pd.DataFrame, loaded_at: dt.datetime) -> pa.Table:
    """import_rejects: one row per rejected input row, in input order."""
    return arrow_table(
        schema.TABLES["import_rejects"],
        {
            "reject_id": rejects["file"] + ":" + rejects["line"].astype(str),
            "source_file": rejects["file"],
            "line_number": rejects["line"].astype("int32").to_numpy(),
            "reason": rejects["reason"],
            "detail": rejects["detail"],
        },
        len(rejects),
        loaded_at,
    )
