"""Feedback and requests: help-desk tickets, product reviews, NPS answers, referrals, privacy requests."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.generate.arrays import (
    Columns,
    ascii_name,
    email_variant,
    loaded_us,
    replace_rows,
    row_ids,
    ts_array,
    ts_strings,
    with_nulls,
)
from lifecycle.generate.context import Context
from lifecycle.generate.customers import Customers, email_last_name
from lifecycle.generate.orders import Orders
from lifecycle.generate.retailer import (
    ACQUISITION_CODES,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    GENERIC_DOMAIN_P,
    GENERIC_DOMAINS,
    LAST_NAMES,
    PRIVACY_REQUEST_CODES,
    TICKET_CHANNEL_P,
    TICKET_CHANNELS,
    TICKET_TOPICS_OTHER,
    TICKET_TOPICS_RETURN,
)
from lifecycle.generate.scales import DAY, HORIZON_EXCL_S, START_S
from lifecycle.generate.streams import DIRTY_PICK, Rng, choice, stream
from lifecycle.generate.times import in_time_order, time_of_day, ts_formats


def emails_with_variants(ctx: Context, chunk: int, customers: Customers, cust: np.ndarray, table: int) -> pa.Array:
    """The customers' emails, a share of them (DirtyRates.email_variant) spelled differently."""
    emails = customers.emails.take(cust)
    rate = ctx.dirty.email_variant
    if not rate or cust.size == 0:
        return emails
    dr = stream(ctx.seed, DIRTY_PICK, chunk, 2000 + table)
    rows = np.flatnonzero(dr.random(cust.size) < rate)
    return replace_rows(emails, rows, email_variant(emails.take(rows), dr.integers(0, 4, rows.size)))


def support_tickets(ctx: Context, chunk: int, rng: Rng, customers: Customers, orders: Orders) -> Columns:
    """Help-desk tickets: more after returns and cancellations, some from prospects and guests."""
    ident = orders.identified()
    o_has_return = orders.has_return()
    # support tickets: more after returns and cancellations
    p = 0.025 + 0.3 * o_has_return[ident] + 0.15 * (orders.status[ident] == 1)
    t_order = ident[rng.random(ident.size) < p]
    ret = o_has_return[t_order]
    opened = orders.s[t_order] + (
        np.where(ret, rng.uniform(3, 20, t_order.size), rng.uniform(0.1, 10, t_order.size)) * DAY
    ).astype(np.int64)
    t_cust = orders.cust[t_order]
    # prospects ask about their account now and then
    pros = np.flatnonzero(~customers.is_buyer)
    pros = pros[rng.random(pros.size) < 0.02]
    pros_s = np.maximum(customers.signup_s[pros], START_S) + rng.integers(DAY, 120 * DAY, pros.size)
    n_guest = int(rng.poisson(0.05 * (t_order.size + pros.size)))
    guest_s = START_S + ctx.calendar.days_from(rng, customers.first_day, n_guest) * DAY
    guest_s = guest_s + time_of_day(rng, n_guest, False)
    cust = np.concatenate([t_cust, pros, np.full(n_guest, -1)])
    opened = np.concatenate([opened, pros_s, guest_s])
    is_return = np.concatenate([ret, np.zeros(pros.size + n_guest, bool)])
    keep = opened < HORIZON_EXCL_S
    opened, cust, is_return = in_time_order(opened, cust, is_return, keep=keep)
    n = cust.size
    resolved = opened + 600 + rng.exponential(DAY, n).astype(np.int64)
    unresolved = (rng.random(n) < 0.1) | (resolved >= HORIZON_EXCL_S)
    known = cust >= 0
    emails = emails_with_variants(ctx, chunk, customers, np.maximum(cust, 0), 0)
    guest_emails = pc.binary_join_element_wise(
        "guest",
        pc.cast(pa.array(chunk * 10_000_000 + np.arange(n)), pa.string()),
        "@",
        pa.array(list(GENERIC_DOMAINS)).take(choice(rng, n, GENERIC_DOMAIN_P)),
        "",
    )
    topic_ret = pa.array(TICKET_TOPICS_RETURN).take(rng.integers(0, len(TICKET_TOPICS_RETURN), n))
    topic_other = pa.array(TICKET_TOPICS_OTHER).take(rng.integers(0, len(TICKET_TOPICS_OTHER), n))
    offsets = np.where(known, customers.offset[np.maximum(cust, 0)], 0)
    fmt = ts_formats(rng, "support_tickets", n)
    return {
        "ticket_id": row_ids("TK", chunk, n),
        "email": pc.if_else(pa.array(known), emails, guest_emails),
        "channel": pa.array(TICKET_CHANNELS).take(choice(rng, n, TICKET_CHANNEL_P)),
        "topic": pc.if_else(pa.array(is_return), topic_ret, topic_other),
        "opened_at": ts_strings(opened, fmt, offsets),
        "resolved_at": with_nulls(ts_strings(resolved, fmt, offsets), unresolved),
        "_loaded_at": ts_array(loaded_us(rng, np.where(unresolved, opened, resolved))),
    }


def product_reviews(ctx: Context, chunk: int, rng: Rng, customers: Customers, orders: Orders) -> Columns:
    """Reviews of a few order lines, worse after a return."""
    ident = orders.identified()
    # product reviews: a few lines, worse after a return
    l_ident = np.zeros(orders.kind.size, dtype=bool)
    l_ident[ident] = True
    line_ok = l_ident[orders.l_order] & (orders.status[orders.l_order] != 1)
    cand = np.flatnonzero(line_ok)
    returned = orders.l_ret[cand] | (orders.status[orders.l_order[cand]] == 2)
    cand = cand[rng.random(cand.size) < 0.05 + 0.08 * returned]
    returned = orders.l_ret[cand] | (orders.status[orders.l_order[cand]] == 2)
    good = 1 + choice(rng, cand.size, (0.03, 0.05, 0.12, 0.30, 0.50))
    bad = 1 + choice(rng, cand.size, (0.35, 0.25, 0.20, 0.12, 0.08))
    rating = np.where(returned, bad, good).astype(np.int32)
    r_cust = orders.cust[orders.l_order[cand]]
    r_s = orders.s[orders.l_order[cand]] + (rng.uniform(2, 30, cand.size) * DAY).astype(np.int64)
    keep = r_s < HORIZON_EXCL_S
    r_s, cand, rating, r_cust = in_time_order(r_s, cand, rating, r_cust, keep=keep)
    n = cand.size
    return {
        "review_id": row_ids("RV", chunk, n),
        "customer_id": customers.customer_ids.take(r_cust),
        "sku": ctx.catalogue.sku.take(orders.l_sku[cand]),
        "rating": pa.array(rating, type=pa.int32()),
        "reviewed_at": ts_strings(r_s, ts_formats(rng, "product_reviews", n), customers.offset[r_cust]),
        "_loaded_at": ts_array(loaded_us(rng, r_s)),
    }


def nps_responses(ctx: Context, chunk: int, rng: Rng, customers: Customers, orders: Orders) -> Columns:
    """NPS answers to a survey after some orders; detractors after returns."""
    ident = orders.identified()
    o_has_return = orders.has_return()
    # NPS: a survey after some orders; detractors after returns
    nps_orders = ident[(orders.status[ident] != 1) & (rng.random(ident.size) < 0.08)]
    n_cust = orders.cust[nps_orders]
    score = np.clip(
        np.round(rng.normal(8.4 - 3.2 * o_has_return[nps_orders] - 1.5 * (0.5 - customers.eng[n_cust]), 1.7)),
        0,
        10,
    ).astype(np.int32)
    n_s = orders.s[nps_orders] + (rng.uniform(1, 14, nps_orders.size) * DAY).astype(np.int64)
    keep = n_s < HORIZON_EXCL_S
    n_s, n_cust, score = in_time_order(n_s, n_cust, score, keep=keep)
    n = n_s.size
    return {
        "response_id": row_ids("NPS", chunk, n),
        "email": emails_with_variants(ctx, chunk, customers, n_cust, 1),
        "score": pa.array(score, type=pa.int32()),
        "responded_at": ts_strings(n_s, ts_formats(rng, "nps_responses", n), customers.offset[n_cust]),
        "_loaded_at": ts_array(loaded_us(rng, n_s)),
    }


def referrals(ctx: Context, chunk: int, rng: Rng, customers: Customers, orders: Orders) -> Columns:
    """Referred customers get a referrer who bought before; more invitations go unanswered."""
    first_buy = np.full(customers.n, np.iinfo(np.int64).max, dtype=np.int64)
    known = orders.cust >= 0
    np.minimum.at(first_buy, orders.cust[known], orders.s[known])
    buyers = np.flatnonzero(first_buy < HORIZON_EXCL_S)
    by_time = buyers[np.argsort(first_buy[buyers], kind="stable")]
    times = first_buy[by_time]
    referral_channel = ACQUISITION_CODES.index("referral")
    referred = np.flatnonzero((customers.acq == referral_channel) & ~customers.pre)
    r_s = customers.signup_s[referred] - (rng.uniform(1, 20, referred.size) * DAY).astype(np.int64)
    avail = np.searchsorted(times, r_s - DAY)
    ok = avail > 0
    referred, r_s, avail = referred[ok], r_s[ok], avail[ok]
    referrer = by_time[(rng.random(referred.size) * avail).astype(np.int64)]
    # invitations that never turned into a customer
    n_open = int(rng.poisson(2.0 * referred.size + 1))
    open_ref = buyers[rng.integers(0, max(buyers.size, 1), n_open)] if buyers.size else np.zeros(0, np.int64)
    n_open = open_ref.size
    open_s = first_buy[open_ref] + (rng.uniform(1, 400, n_open) * DAY).astype(np.int64)
    firsts = [*FIRST_NAMES_F, *FIRST_NAMES_M]
    open_emails = pc.binary_join_element_wise(
        pa.array([ascii_name(f).lower() for f in firsts]).take(rng.integers(0, len(firsts), n_open)),
        ".",
        pa.array([email_last_name(x) for x in LAST_NAMES]).take(rng.integers(0, len(LAST_NAMES), n_open)),
        pc.cast(pa.array(10_000_000 + chunk * 1_000_000 + np.arange(n_open)), pa.string()),
        "@",
        pa.array(list(GENERIC_DOMAINS)).take(choice(rng, n_open, GENERIC_DOMAIN_P)),
        "",
    )
    ref_cust = np.concatenate([referrer, open_ref])
    s = np.concatenate([r_s, open_s])
    emails = pa.concat_arrays([customers.emails.take(referred), open_emails])
    keep = (s < HORIZON_EXCL_S) & (s >= START_S)
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(s[idx], kind="stable")]
    ref_cust, s = ref_cust[idx], s[idx]
    n = idx.size
    return {
        "referral_id": row_ids("RF", chunk, n),
        "referrer_customer_id": customers.customer_ids.take(ref_cust),
        "referred_email": emails.take(idx),
        "referred_at": ts_strings(s, ts_formats(rng, "referrals", n), customers.offset[ref_cust]),
        "_loaded_at": ts_array(loaded_us(rng, s)),
    }


def privacy_requests(chunk: int, rng: Rng, customers: Customers) -> Columns:
    """Erasure requests and consent withdrawals."""
    cust = np.flatnonzero(customers.priv)
    s, cust = in_time_order(customers.priv_s[cust], cust)
    n = cust.size
    return {
        "request_id": row_ids("PR", chunk, n),
        "customer_id": customers.customer_ids.take(cust),
        "request_type": pa.array(PRIVACY_REQUEST_CODES).take(np.where(customers.priv_erasure[cust], 0, 1)),
        "requested_at": ts_strings(s, ts_formats(rng, "privacy_requests", n), customers.offset[cust]),
        "_loaded_at": ts_array(loaded_us(rng, s)),
    }
