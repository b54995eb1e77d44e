"""What customers do besides buying: loyalty-card store visits, clickstream sessions, campaign emails."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lifecycle.generate.arrays import (
    Columns,
    id_strings,
    loaded_us,
    row_ids,
    spellings,
    ts_array,
    ts_strings,
    with_nulls,
)
from lifecycle.generate.context import Context
from lifecycle.generate.customers import Customers
from lifecycle.generate.orders import Orders
from lifecycle.generate.retailer import (
    CATEGORY_P,
    EMAIL_EVENT_CODES,
    PLATFORM_VARIANTS,
    SKUS_PER_CATEGORY,
    STORE,
    WEB_EVENT_CODES,
)
from lifecycle.generate.scales import DAY, HORIZON_EXCL_S, START_S
from lifecycle.generate.streams import Rng, choice, within
from lifecycle.generate.times import in_time_order, time_of_day, ts_formats


def store_visits(ctx: Context, chunk: int, rng: Rng, customers: Customers, orders: Orders) -> Columns:
    """Loyalty-card scans at the till, and browsing visits around card purchases."""
    pos_rows = np.flatnonzero((orders.kind == 1) & orders.card)
    at_till = pos_rows[rng.random(pos_rows.size) < 0.7]
    browse = rng.choice(pos_rows, int(0.35 * pos_rows.size)) if pos_rows.size else pos_rows
    v_order = np.concatenate([at_till, browse])
    jitter = np.concatenate(
        [
            -rng.integers(60, 1800, at_till.size),
            np.round(rng.normal(0, 20 * DAY, browse.size)).astype(np.int64),
        ]
    )
    cust = orders.cust[v_order]
    s = orders.s[v_order] + jitter
    ok = (s >= np.maximum(START_S, customers.signup_s[cust])) & (s < HORIZON_EXCL_S)
    s, v_order, cust = in_time_order(s, v_order, cust, keep=ok)
    n = s.size
    return {
        "visit_id": row_ids("V", chunk, n),
        "loyalty_card_number": customers.cards.take(cust),
        "store_id": ctx.store_ids.take(orders.store[v_order]),
        "visited_at": ts_strings(s, ts_formats(rng, "store_visits", n), customers.offset[cust]),
        "_loaded_at": ts_array(loaded_us(rng, s)),
    }


def web_events(
    ctx: Context, chunk: int, rng: Rng, customers: Customers, orders: Orders, last_buy: np.ndarray
) -> tuple[Columns, np.ndarray]:
    """Clickstream sessions, and per event whether it may carry a defect (logins do not).

    last_buy: per customer, the time of the last purchase (-1 when none).
    """
    cal = ctx.calendar
    # 1. a session before every online order, logged in by checkout
    shop_rows = np.flatnonzero(orders.kind == 0)
    p_cust = orders.cust[shop_rows]
    p_app = orders.app[shop_rows]
    n_p = shop_rows.size
    p_dev = np.where(p_app, 1, np.where((customers.n_devices[p_cust] > 2) & (rng.random(n_p) < 0.3), 2, 0))
    # 2. browsing sessions while a customer is active, fewer once they lapse
    a0 = np.maximum(customers.signup_s, START_S)
    active_end = np.where(last_buy > 0, last_buy, a0) + rng.exponential(75 * DAY, customers.n).astype(np.int64)
    a1 = np.minimum(active_end, HORIZON_EXCL_S - 1)
    span_days = np.maximum(a1 - a0, 0) / DAY
    weight = np.where(~customers.is_buyer, 0.6, np.where(customers.habit == STORE, 0.25, 1.0))
    n_b = rng.poisson(customers.eng * 0.018 * span_days * weight)
    b_cust, _ = within(n_b)
    b_s = a0[b_cust] + (rng.random(b_cust.size) * np.maximum(a1 - a0, 1)[b_cust]).astype(np.int64)
    b_app = rng.random(b_cust.size) < customers.app_share[b_cust]
    b_dev = np.where(b_app, 1, np.where((customers.n_devices[b_cust] > 2) & (rng.random(b_cust.size) < 0.3), 2, 0))
    b_login = rng.random(b_cust.size) < np.where(customers.is_buyer[b_cust], 0.45, 0.3)
    # 3. visitors who never log in
    n_a = int(rng.poisson(0.2 * (n_p + b_cust.size)))
    a_s = START_S + cal.days_from(rng, customers.first_day, n_a) * DAY + time_of_day(rng, n_a, False)
    a_app = rng.random(n_a) < 0.3
    # sessions
    S = n_p + b_cust.size + n_a
    kind = np.concatenate([np.zeros(n_p, np.int8), np.ones(b_cust.size, np.int8), np.full(n_a, 2, np.int8)])
    cust = np.concatenate([p_cust, b_cust, np.full(n_a, -1)])
    safe = np.maximum(cust, 0)
    app = np.concatenate([p_app, b_app, a_app])
    dev_num = np.concatenate(
        [
            customers.gid[p_cust] * 4 + p_dev,
            customers.gid[b_cust] * 4 + b_dev,
            (40_000_000 + chunk * 4_000_000 + np.arange(n_a)) * 4 + 3,
        ]
    )
    login = np.concatenate([np.ones(n_p, bool), b_login, np.zeros(n_a, bool)])
    early = login & (rng.random(S) < np.where(kind == 0, 0.4, 0.6))
    lines = np.concatenate([orders.lines[shop_rows], np.zeros(S - n_p, np.int64)])
    n_pv = 1 + rng.poisson(np.where(kind == 0, 0.8, 1.2), S)
    n_prod = lines + rng.poisson(np.where(kind == 0, 1.2, 1.8), S)
    n_cart = np.where(kind == 0, lines, (rng.random(S) < 0.15).astype(np.int64))
    total = (1 + n_pv + n_prod + n_cart + login).astype(np.int32)
    # events: e_sess is each event's session, w its position in the session
    e_sess = np.repeat(np.arange(S, dtype=np.int32), total)
    E = e_sess.size
    starts = np.cumsum(total, dtype=np.int64) - total
    w = (np.arange(E, dtype=np.int64) - starts[e_sess]).astype(np.int32)
    early_e = early[e_sess]
    ww = np.where(early_e & (w >= 1), w - 1, w)
    c2 = (1 + n_pv).astype(np.int32)[e_sess]
    c3 = c2 + n_prod.astype(np.int32)[e_sess]
    etype = (ww >= 1).astype(np.int8) + (ww >= c2) + (ww >= c3) + (ww >= c3 + n_cart.astype(np.int32)[e_sess])
    etype = np.where(early_e & (w == 1), 4, etype).astype(np.int8)
    del early_e
    login_pos = np.where(early, 1, np.where(login, total - 1, 1 << 30)).astype(np.int32)
    has_cust = (w >= login_pos[e_sess]) & (cust >= 0)[e_sess]
    # skus: the order's own lines for the first product views and every add-to-cart
    within_seg = np.where(etype == 2, ww - c2, ww - c3)
    del ww, c2, c3
    e_lines = lines.astype(np.int32)[e_sess]
    own = (kind == 0)[e_sess] & (((etype == 2) & (within_seg < e_lines)) | (etype == 3))
    order_row = np.concatenate([shop_rows, np.zeros(S - n_p, np.int64)])
    line_idx = orders.line_start[order_row][e_sess] + np.minimum(within_seg, np.maximum(e_lines - 1, 0))
    own_sku = orders.l_sku[np.where(own, line_idx, 0)]
    del within_seg, e_lines, line_idx
    known = (cust >= 0)[e_sess]
    rand_cat = np.where(known & (rng.random(E) < 0.6), customers.fav1[safe][e_sess], choice(rng, E, CATEGORY_P))
    tier = np.where(known, customers.tier[safe][e_sess], 0.5)
    rand_rank = np.clip(
        np.round((tier + rng.normal(0, 0.2, E)) * (SKUS_PER_CATEGORY - 1)), 0, SKUS_PER_CATEGORY - 1
    ).astype(np.int64)
    sku = np.where(own, own_sku, rand_cat * SKUS_PER_CATEGORY + rand_rank)
    del known, rand_cat, tier, rand_rank, own_sku, own
    with_sku = (etype == 2) | (etype == 3)
    # times: a few seconds to minutes apart; purchase sessions end just before the order
    gaps = np.where(w == 0, 0, 5 + rng.exponential(45.0, E)).astype(np.int64)
    del w
    cum = np.cumsum(gaps)
    del gaps
    rel = cum - cum[starts][e_sess]
    del cum
    dur = rel[starts + total - 1]
    start = np.concatenate(
        [
            orders.s[shop_rows] - dur[:n_p] - rng.integers(20, 240, n_p),
            b_s,
            a_s,
        ]
    )
    s = start[e_sess] + rel
    ok = s < HORIZON_EXCL_S
    e_sess, etype, has_cust, sku, with_sku, s = (a[ok] for a in (e_sess, etype, has_cust, sku, with_sku, s))
    E = s.size
    anon = id_strings("A", (dev_num * 2_654_435_761) % 10**12, 12)
    platform = spellings(rng, app.astype(np.int64), PLATFORM_VARIANTS)
    columns: Columns = {
        "event_id": id_strings("E", chunk * 10**10 + 1 + np.arange(E), 12),
        "anonymous_id": anon.take(e_sess),
        "customer_id": with_nulls(customers.customer_ids.take(safe[e_sess]), ~has_cust),
        "platform": platform.take(e_sess),
        "event_type": pa.array(WEB_EVENT_CODES).take(etype),
        "sku": with_nulls(ctx.catalogue.sku.take(sku), ~with_sku),
        "occurred_at": ts_strings(s, ts_formats(rng, "web_events", E), 0),
        "_loaded_at": ts_array(loaded_us(rng, s, min_delay=60.0, late=True)),
    }
    return columns, etype != 4


def email_events(ctx: Context, chunk: int, rng: Rng, customers: Customers, last_buy: np.ndarray) -> Columns:
    """Campaign sends to subscribed customers, their opens, clicks and unsubscribes."""
    camp = ctx.campaign_s
    n = customers.n
    consent = customers.consent & ~customers.consent_null
    # consent changes in a CRM update, withdrawals through privacy requests
    flip = customers.upd & (customers.upd_kind == 1)
    w0 = np.maximum(customers.signup_s, START_S)
    w1 = np.full(n, HORIZON_EXCL_S, dtype=np.int64)
    w0 = np.where(flip & ~consent, customers.upd_s, w0)
    w1 = np.where(flip & consent, customers.upd_s, w1)
    subscribed = consent | flip
    w1 = np.where(customers.priv & ~customers.priv_erasure, np.minimum(w1, customers.priv_s), w1)
    i0 = np.searchsorted(camp, w0)
    i1 = np.searchsorted(camp, w1)
    cnt = np.where(subscribed, np.maximum(i1 - i0, 0), 0)
    pc_cust = np.repeat(np.arange(n, dtype=np.int32), cnt)  # (customer, campaign) pairs
    pc_camp = (np.arange(pc_cust.size) - (np.cumsum(cnt) - cnt)[pc_cust] + i0[pc_cust]).astype(np.int32)
    sent = rng.random(pc_cust.size) < (0.18 + 0.2 * customers.eng[pc_cust])
    pc_cust, pc_camp = pc_cust[sent], pc_camp[sent]
    del sent
    P = pc_cust.size
    send_s = camp[pc_camp] + rng.integers(0, 2 * 3600, P)
    # engagement fades once a customer lapses
    active_until = np.where(last_buy > 0, last_buy, customers.signup_s) + 60 * DAY
    lapsed = np.maximum(send_s - active_until[pc_cust], 0) / DAY
    p_open = 0.75 * customers.eng[pc_cust] * np.exp(-lapsed / 200.0)
    opened = rng.random(P) < p_open
    open_s = send_s + 300 + rng.exponential(8 * 3600, P).astype(np.int64)
    opened &= open_s < HORIZON_EXCL_S
    clicked = opened & (rng.random(P) < 0.12 + 0.25 * customers.eng[pc_cust])
    click_s = open_s + 10 + rng.exponential(120, P).astype(np.int64)
    clicked &= click_s < HORIZON_EXCL_S
    unsub = rng.random(P) < 0.0005 + 0.002 * (1 - customers.eng[pc_cust]) + 0.002 * (lapsed > 180)
    # nothing is sent after the first unsubscribe
    csum = np.cumsum(unsub) - unsub
    first = np.searchsorted(pc_cust, np.arange(n))
    keep = (csum - csum[first[pc_cust]]) == 0 if P else np.zeros(0, dtype=bool)
    unsub_s = np.where(opened, open_s + 60, send_s + rng.exponential(2 * DAY, P).astype(np.int64))
    unsub &= unsub_s < HORIZON_EXCL_S
    parts = [
        (keep, send_s, 0),
        (keep & opened, open_s, 1),
        (keep & clicked, click_s, 2),
        (keep & unsub, unsub_s, 3),
    ]
    e_cust = np.concatenate([pc_cust[m] for m, _, _ in parts])
    e_camp = np.concatenate([pc_camp[m] for m, _, _ in parts])
    e_s = np.concatenate([t[m] for m, t, _ in parts])
    e_type = np.concatenate([np.full(int(m.sum()), code, np.int8) for m, _, code in parts])
    e_s, e_cust, e_camp, e_type = in_time_order(e_s, e_cust, e_camp, e_type)
    E = e_s.size
    return {
        "event_id": id_strings("M", chunk * 10**10 + 1 + np.arange(E), 12),
        "customer_id": customers.customer_ids.take(e_cust),
        "campaign_id": ctx.campaign_ids.take(e_camp),
        "event_type": pa.array(EMAIL_EVENT_CODES).take(e_type),
        "occurred_at": ts_strings(e_s, ts_formats(rng, "email_events", E), customers.offset[e_cust]),
        "_loaded_at": ts_array(loaded_us(rng, e_s, min_delay=120.0, late=True)),
    }
