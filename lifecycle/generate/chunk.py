"""One chunk of customers and everything they do, from the CRM record to the last web event."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle import schema
from lifecycle.generate.arrays import Columns
from lifecycle.generate.context import Context
from lifecycle.generate.crm import crm_records, dirty_crm, identity_groups
from lifecycle.generate.customers import draw_customers, mark_test_accounts
from lifecycle.generate.defects import Stats, combine, inject
from lifecycle.generate.feedback import nps_responses, privacy_requests, product_reviews, referrals, support_tickets
from lifecycle.generate.interactions import email_events, store_visits, web_events
from lifecycle.generate.orders import dirty_order_tables, draw_orders, draw_purchases
from lifecycle.generate.streams import BASE, stream
from lifecycle.generate.times import Window

Sink = Callable[[str, pa.Table, np.ndarray, int], None]  # a table, which of its rows are new, how many are held


def generate_chunk(ctx: Context, chunk: int, first_gid: int, n: int, sink: Sink, window: Window, future: bool) -> Stats:
    """Customers first_gid .. first_gid + n - 1 and all their activity; returns what was injected.

    The chunk is simulated to the horizon, then cut to the window: each table's new rows go to
    sink(name, rows, held) as soon as it is complete (and are then dropped, which bounds memory);
    the counts returned are those of the rows the window holds. Every step below draws from the
    chunk's one base stream, in this order: the order is part of the data's definition, as the
    seed is. Defects draw from their own streams. future: a cohort signing up after END_DATE.
    """
    rng = stream(ctx.seed, BASE, chunk)
    customers, _ = draw_customers(ctx, chunk, rng, first_gid, n, future)
    orders, order_tables = draw_orders(ctx, chunk, rng, customers, draw_purchases(ctx, rng, customers))
    customers, _ = mark_test_accounts(ctx, chunk, customers, orders.cust[orders.identified()])
    order_tables, order_defects = dirty_order_tables(ctx, chunk, orders, order_tables, customers.test, window)
    for table, columns in order_tables.items():
        emit(sink, table, columns, window)
    del order_tables
    parts = [order_defects]

    def put(table: str, columns: Columns, eligible: np.ndarray | None = None) -> pa.ChunkedArray | pa.Array:
        """The table with its defects, handed to the sink; its counts go to parts; the emails held, if any."""
        if eligible is None:
            eligible = np.ones(len(columns["_loaded_at"]), dtype=bool)
        done = inject(table, columns, eligible, ctx.dirty, ctx.seed, chunk, window)
        parts.append(done.stats)
        held = emit(sink, table, done.columns, window)
        return pc.filter(done.columns["email"], pa.array(held)) if "email" in done.columns else pa.array([])

    last_buy = orders.last_purchase_s(customers.n)
    put("store_visits", store_visits(ctx, chunk, rng, customers, orders))
    put("web_events", *web_events(ctx, chunk, rng, customers, orders, last_buy))
    put("email_events", email_events(ctx, chunk, rng, customers, last_buy))
    ticket_emails = put("support_tickets", support_tickets(ctx, chunk, rng, customers, orders))
    put("product_reviews", product_reviews(ctx, chunk, rng, customers, orders))
    nps_emails = put("nps_responses", nps_responses(ctx, chunk, rng, customers, orders))
    put("referrals", referrals(ctx, chunk, rng, customers, orders))
    put("privacy_requests", privacy_requests(chunk, rng, customers))
    records = crm_records(ctx, rng, customers)
    crm, crm_defects = dirty_crm(ctx, chunk, customers, records, window)
    crm_held = emit(sink, "crm_customers", crm, window)
    groups = identity_groups(pc.filter(crm["email"], pa.array(crm_held)), [ticket_emails, nps_emails])
    known = window.held(records.columns["_loaded_at"].cast(pa.int64()).to_numpy()[: customers.n])  # first versions
    people = Stats(
        test_customer_ids=tuple(customers.customer_ids.filter(pa.array(customers.test & known)).to_pylist()),
        identity_groups=groups,
        merged_crm_records=int((known[customers.pair_a] & known[customers.pair_b]).sum()),
    )
    return combine([*parts, crm_defects, people])


def emit(sink: Sink, table: str, columns: Columns, window: Window) -> np.ndarray:
    """Build the Arrow table with the contract schema, pass it and its new rows to the sink; the rows held."""
    rt = schema.TABLES[table]
    full = pa.Table.from_arrays([columns[c] for c in rt.column_names], schema=rt.arrow_schema)
    loaded = pc.cast(full["_loaded_at"], pa.int64()).to_numpy()
    held = window.held(loaded)
    sink(table, full, window.new(loaded), int(held.sum()))
    return held
