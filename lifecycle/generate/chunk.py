"""One chunk of customers and everything they do, from the CRM record to the last web event."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from lifecycle import schema
from lifecycle.generate.arrays import Columns
from lifecycle.generate.context import Context
from lifecycle.generate.crm import crm_records, dirty_crm, identity_groups
from lifecycle.generate.customers import draw_customers, mark_test_accounts
from lifecycle.generate.defects import Injection, Stats, combine, inject
from lifecycle.generate.feedback import nps_responses, privacy_requests, product_reviews, referrals, support_tickets
from lifecycle.generate.interactions import email_events, store_visits, web_events
from lifecycle.generate.orders import dirty_order_tables, draw_orders, draw_purchases
from lifecycle.generate.streams import BASE, stream

Sink = Callable[[str, pa.Table], None]


def generate_chunk(ctx: Context, chunk: int, first_gid: int, n: int, sink: Sink) -> Stats:
    """Customers first_gid .. first_gid + n - 1 and all their activity; returns what was injected.

    Each table goes to sink(name, table) as soon as it is complete (and is then dropped, which
    bounds memory). Every step below draws from the chunk's one base stream, in this order: the
    order is part of the data's definition, as the seed is. Defects draw from their own streams.
    """
    rng = stream(ctx.seed, BASE, chunk)
    customers, registered_twice = draw_customers(ctx, chunk, rng, first_gid, n)
    orders, order_tables = draw_orders(ctx, chunk, rng, customers, draw_purchases(ctx, rng, customers))
    customers, test_accounts = mark_test_accounts(ctx, chunk, customers, orders.cust[orders.identified()])
    order_tables, order_defects = dirty_order_tables(ctx, chunk, orders, order_tables, customers.test)
    for table, columns in order_tables.items():
        emit(sink, table, columns)
    del order_tables
    parts = [registered_twice, test_accounts, order_defects]

    def put(table: str, columns: Columns, eligible: np.ndarray | None = None) -> Columns:
        """The table with its defects, handed to the sink; its counts go to parts."""
        done = inject_and_emit(ctx, chunk, sink, table, columns, eligible)
        parts.append(done.stats)
        return done.columns

    last_buy = orders.last_purchase_s(customers.n)
    put("store_visits", store_visits(ctx, chunk, rng, customers, orders))
    put("web_events", *web_events(ctx, chunk, rng, customers, orders, last_buy))
    put("email_events", email_events(ctx, chunk, rng, customers, last_buy))
    ticket_emails = put("support_tickets", support_tickets(ctx, chunk, rng, customers, orders))["email"]
    put("product_reviews", product_reviews(ctx, chunk, rng, customers, orders))
    nps_emails = put("nps_responses", nps_responses(ctx, chunk, rng, customers, orders))["email"]
    put("referrals", referrals(ctx, chunk, rng, customers, orders))
    put("privacy_requests", privacy_requests(chunk, rng, customers))
    crm, crm_defects = dirty_crm(ctx, chunk, customers, crm_records(ctx, rng, customers))
    groups = identity_groups(crm["email"], [ticket_emails, nps_emails])
    emit(sink, "crm_customers", crm)
    return combine([*parts, crm_defects, Stats(identity_groups=groups)])


def inject_and_emit(
    ctx: Context, chunk: int, sink: Sink, table: str, columns: Columns, eligible: np.ndarray | None = None
) -> Injection:
    """Inject the table's defects (into the eligible rows, default all) and hand it to the sink."""
    if eligible is None:
        eligible = np.ones(len(columns["_loaded_at"]), dtype=bool)
    done = inject(table, columns, eligible, ctx.dirty, ctx.seed, chunk)
    emit(sink, table, done.columns)
    return done


def emit(sink: Sink, table: str, columns: Columns) -> None:
    """Build the Arrow table with the contract schema and pass it to the sink."""
    rt = schema.TABLES[table]
    sink(table, pa.Table.from_arrays([columns[c] for c in rt.column_names], schema=rt.arrow_schema))
