"""Purchases and what they leave in the shop and POS tables: orders, transactions and their lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.generate.arrays import (
    Columns,
    id_strings,
    loaded_us,
    money_strings,
    row_numbers,
    spellings,
    ts_array,
    ts_strings,
    with_nulls,
)
from lifecycle.generate.context import Context
from lifecycle.generate.customers import Customers
from lifecycle.generate.defects import ROW_DEFECTS, Stats, combine, inject
from lifecycle.generate.retailer import (
    CATEGORY_CODES,
    CATEGORY_P,
    CATEGORY_RETURN_RATE,
    COUNTRY_CURRENCY,
    COUNTRY_TAX,
    COUNTRY_UTC_OFFSET_MIN,
    CURRENCY_CODES,
    CURRENCY_FREE_SHIPPING_CENTS,
    CURRENCY_SHIPPING_CENTS,
    MAX_PURCHASES,
    OMNI,
    ONLINE,
    POS_STATUS_VARIANTS,
    SHOP_STATUS_VARIANTS,
    SKUS_PER_CATEGORY,
    STORES_PER_COUNTRY,
    WEB_CHANNEL_VARIANTS,
)
from lifecycle.generate.scales import DAY, N_DAYS, START_S
from lifecycle.generate.streams import Rng, choice, within
from lifecycle.generate.times import Window, clip_to_window, time_of_day, ts_formats

ORDER_TABLES = ("shop_orders", "shop_order_lines", "pos_transactions", "pos_transaction_lines")


@dataclass(frozen=True)
class Purchases:
    """One entry per purchase of a known customer (position in the chunk, time, online or not)."""

    cust: np.ndarray
    s: np.ndarray
    online: np.ndarray


@dataclass(frozen=True)
class Orders:
    """One entry per order (shop orders first, then POS transactions), and one per order line."""

    kind: np.ndarray  # 0 online order, 1 store purchase
    cust: np.ndarray  # the customer's position in the chunk, -1 for walk-in shoppers
    s: np.ndarray  # epoch seconds
    status: np.ndarray  # 0 completed, 1 cancelled, 2 returned
    card: np.ndarray  # store purchase with the loyalty card
    lines: np.ndarray  # number of lines
    app: np.ndarray  # ordered in the app
    store: np.ndarray  # store index, -1 online
    line_start: np.ndarray  # first line of each order
    l_order: np.ndarray  # order of each line
    l_kind: np.ndarray
    l_sku: np.ndarray
    l_ret: np.ndarray  # line (partly) returned

    def identified(self) -> np.ndarray:
        """Orders tied to a CRM customer: web and app orders, store purchases with the card."""
        return np.flatnonzero((self.cust >= 0) & ((self.kind == 0) | self.card))

    def has_return(self) -> np.ndarray:
        """Per order, whether it was returned or any of its lines was."""
        returned = np.bincount(self.l_order, weights=self.l_ret, minlength=self.kind.size) > 0
        return returned | (self.status == 2)

    def last_purchase_s(self, n_customers: int) -> np.ndarray:
        """Per customer, the time of the last order or store purchase (-1 when there is none)."""
        last = np.full(n_customers, -1, dtype=np.int64)
        known = self.cust >= 0
        np.maximum.at(last, self.cust[known], self.s[known])
        return last


def draw_purchases(ctx: Context, rng: Rng, customers: Customers) -> Purchases:
    """BG/NBD-like purchase times for every buyer, bent by the seasonal calendar."""
    cal = ctx.calendar
    buyers = np.flatnonzero(customers.is_buyer)
    lam = customers.lam[buyers]
    n_max = np.minimum(rng.geometric(customers.p_drop[buyers]), MAX_PURCHASES)
    signup_days = (customers.signup_s[buyers] - START_S) / DAY
    immediate = customers.signup_in_store[buyers] | (customers.first_delay_u[buyers] < 0.6)
    t0 = signup_days + np.where(immediate, 0.0, customers.first_delay[buyers])
    tau0 = np.where(customers.pre[buyers], rng.exponential(1.0, buyers.size) / lam, cal.to_intensity(t0))
    owner, k = within(n_max)
    gaps = rng.exponential(1.0, owner.size) / lam[owner]
    gaps[k == 0] = 0.0
    cum = np.cumsum(gaps)
    starts = np.cumsum(n_max) - n_max
    tau = tau0[owner] + cum - cum[starts][owner]
    keep = tau < cal.cum[-1]
    owner, k, tau = owner[keep], k[keep], tau[keep]
    t = cal.from_intensity(tau)
    cust = buyers[owner]
    n = cust.size
    online = (customers.habit[cust] == ONLINE) | (
        (customers.habit[cust] == OMNI) & (rng.random(n) < customers.omni_share[cust])
    )
    # the first order right after signing up, where the customer signed up (till or website)
    first_now = (k == 0) & ~customers.pre[cust] & immediate[owner] & (online != customers.signup_in_store[cust])
    tod = time_of_day(rng, n, ~online)
    day = np.floor(t).astype(np.int64)
    s = START_S + day * DAY + tod - customers.offset[cust] * 60
    s = np.where(first_now, customers.signup_s[cust] + rng.integers(120, 1800, n), s)
    s = np.where(s < customers.signup_s[cust] + 300, s + DAY, s)  # later that day: the next day
    s = clip_to_window(s)
    ok = s >= customers.signup_s[cust] + 300
    return Purchases(cust[ok], s[ok], online[ok])


def draw_orders(
    ctx: Context, chunk: int, rng: Rng, customers: Customers, purchases: Purchases
) -> tuple[Orders, dict[str, Columns]]:
    """Online orders and store purchases (with walk-in shoppers) and their lines, and their four tables."""
    cust, s, online = purchases.cust, purchases.s, purchases.online
    n = cust.size
    app = rng.random(n) < customers.app_share[cust]
    card_used = customers.has_card[cust] & (rng.random(n) < 0.9)
    away = rng.random(n) < 0.15
    away_store = ctx.store_start[customers.country[cust]] + (
        STORES_PER_COUNTRY[customers.country[cust]] * rng.random(n)
    ).astype(np.int64)
    store = np.where(away, away_store, customers.home_store[cust])
    # Walk-in shoppers who are not in the CRM.
    n_store = int((~online).sum())
    w = int(rng.poisson(0.35 * n_store + 1))
    w_day = ctx.calendar.days_from(rng, customers.first_day, w)
    w_store = rng.integers(0, len(ctx.store_ids), w)
    w_country = ctx.store_country[w_store]
    w_s = clip_to_window(START_S + w_day * DAY + time_of_day(rng, w, True) - COUNTRY_UTC_OFFSET_MIN[w_country] * 60)
    kind = np.concatenate([np.where(online, 0, 1), np.ones(w, dtype=np.int64)])
    o_cust = np.concatenate([cust, np.full(w, -1)])
    o_s = np.concatenate([s, w_s])
    o_store = np.concatenate([np.where(online, -1, store), w_store])
    o_app = np.concatenate([app & online, np.zeros(w, dtype=bool)])
    o_card = np.concatenate([card_used & ~online, np.zeros(w, dtype=bool)])
    known = o_cust >= 0
    safe = np.where(known, o_cust, 0)
    o_country = np.where(kind == 0, customers.country[safe], ctx.store_country[np.maximum(o_store, 0)])
    order = np.lexsort((o_s, kind))
    kind, o_cust, o_s, o_store, o_app, o_card, o_country, known, safe = (
        a[order] for a in (kind, o_cust, o_s, o_store, o_app, o_card, o_country, known, safe)
    )
    n = kind.size
    tier = np.where(known, customers.tier[safe], rng.beta(2.2, 2.2, n))
    basket = np.where(known, customers.basket[safe], rng.gamma(2.0, 0.5, n))
    deal = np.where(known, customers.deal[safe], rng.random(n) < 0.1)
    returner = np.where(known, customers.returner[safe], 1.0)
    currency = COUNTRY_CURRENCY[o_country]
    # status
    r = rng.random(n)
    cancelled = r < np.where(kind == 0, 0.03, 0.008)
    returned = ~cancelled & (r < np.where(kind == 0, 0.03 + 0.035 * returner, 0.008 + 0.012 * returner))
    status = np.where(cancelled, 1, np.where(returned, 2, 0))
    # lines
    n_lines = np.clip(1 + rng.poisson(basket), 1, 5)
    l_order, l_k = within(n_lines)
    L = l_order.size
    l_safe = safe[l_order]
    l_known = known[l_order]
    u = rng.random(L)
    cat = choice(rng, L, CATEGORY_P)
    fav1 = np.where(l_known, customers.fav1[l_safe], cat)
    fav2 = np.where(l_known & customers.has_fav2[l_safe], customers.fav2[l_safe], cat)
    cat = np.where(u < 0.45, fav1, np.where(u < 0.65, fav2, cat))
    rank = np.clip(
        np.round((tier[l_order] + rng.normal(0.0, 0.13, L)) * (SKUS_PER_CATEGORY - 1)),
        0,
        SKUS_PER_CATEGORY - 1,
    ).astype(np.int64)
    sku = cat * SKUS_PER_CATEGORY + rank
    qty = (1 + choice(rng, L, (0.8, 0.13, 0.05, 0.02))).astype(np.int32)
    l_cur = currency[l_order]
    price = ctx.catalogue.price_cents[l_cur, sku]
    cost = ctx.catalogue.cost[l_cur, sku]
    ret_p = CATEGORY_RETURN_RATE[cat] * returner[l_order] * np.where(kind[l_order] == 0, 1.0, 0.4)
    ret_line = (status[l_order] == 0) & (rng.random(L) < ret_p)
    ret_qty = np.where(ret_line, 1 + (rng.random(L) * qty).astype(np.int32), 0)
    ret_qty = np.where(status[l_order] == 2, qty, ret_qty).astype(np.int32)
    # order amounts (local cents)
    gross = np.bincount(l_order, weights=qty * price, minlength=n).astype(np.int64)
    promo = ctx.calendar.promo[np.clip((o_s - START_S) // DAY, 0, N_DAYS - 1)]
    p_disc = np.minimum(np.where(deal, 0.5, 0.07) * np.where(promo, 2.5, 1.0), 0.9)
    has_disc = rng.random(n) < p_disc
    pct = np.array([0.10, 0.15, 0.20, 0.25, 0.30])[choice(rng, n, (0.35, 0.2, 0.25, 0.1, 0.1))]
    disc = np.where(has_disc, np.round(gross * pct), 0).astype(np.int64)
    net = gross - disc
    ship = np.where((kind == 0) & (net < CURRENCY_FREE_SHIPPING_CENTS[currency]), CURRENCY_SHIPPING_CENTS[currency], 0)
    tax = np.round((net + ship) * COUNTRY_TAX[o_country]).astype(np.int64)
    empty_u = rng.random(n)
    fmt_shop = ts_formats(rng, "shop_orders", n)
    fmt_pos = ts_formats(rng, "pos_transactions", n)
    loaded = loaded_us(rng, o_s, late=True)  # lines land with their order (seconds later)
    lower_cur = rng.random(n) < 0.02
    ids_num = np.zeros(n, dtype=np.int64)
    n_shop = int((kind == 0).sum())
    ids_num[:n_shop] = row_numbers(chunk, n_shop)
    ids_num[n_shop:] = row_numbers(chunk, n - n_shop)

    cur_codes = pa.array(CURRENCY_CODES).take(currency)
    cur_raw = pc.if_else(pa.array(lower_cur), pc.utf8_lower(cur_codes), cur_codes)
    disc_str = money_strings(disc)
    disc_str = pc.if_else(pa.array((disc == 0) & (empty_u < 0.2)), pa.scalar(""), disc_str)
    disc_str = with_nulls(disc_str, (disc == 0) & (empty_u >= 0.2) & (empty_u < 0.3) & (kind == 0))
    order_cols: Columns = {
        "discount_amount": disc_str,
        "shipping_amount": money_strings(ship),
        "tax_amount": money_strings(tax),
        "currency": cur_raw,
        "_loaded_at": ts_array(loaded),
    }
    shop = slice(0, n_shop)
    pos = slice(n_shop, n)
    cid = customers.customer_ids.take(np.maximum(o_cust, 0))
    card_str = customers.cards.take(np.maximum(o_cust, 0))
    offsets = COUNTRY_UTC_OFFSET_MIN[o_country]
    tables: dict[str, Columns] = {}
    tables["shop_orders"] = {
        "order_id": id_strings("O", ids_num[shop], 10),
        "customer_id": cid[shop],
        "channel": spellings(rng, o_app[shop].astype(np.int64), WEB_CHANNEL_VARIANTS),
        "ordered_at": ts_strings(o_s[shop], fmt_shop[shop], offsets[shop]),
        "status": spellings(rng, status[shop], SHOP_STATUS_VARIANTS),
        **{name: col[shop] for name, col in order_cols.items()},
    }
    tables["pos_transactions"] = {
        "transaction_id": id_strings("T", ids_num[pos], 10),
        "store_id": ctx.store_ids.take(np.maximum(o_store[pos], 0)),
        "loyalty_card_number": with_nulls(card_str[pos], ~o_card[pos]),
        "transacted_at": ts_strings(o_s[pos], fmt_pos[pos], offsets[pos]),
        "status": spellings(rng, status[pos], POS_STATUS_VARIANTS),
        **{name: col[pos] for name, col in order_cols.items() if name != "shipping_amount"},  # no shipping in store
    }
    # lines: '<order id>-<n>'
    l_kind = kind[l_order]
    l_loaded = loaded[l_order] + rng.integers(0, 5_000_000, L)
    cat_names = pa.array(CATEGORY_CODES).take(cat)
    cost_arr = pa.array(cost, mask=np.isnan(cost), type=pa.float64())
    price_str = ctx.catalogue.price_str.take(l_cur * ctx.catalogue.price_cents.shape[1] + sku)
    parent = pa.concat_arrays([tables["shop_orders"]["order_id"], tables["pos_transactions"]["transaction_id"]]).take(
        l_order
    )
    line_ids = pc.binary_join_element_wise(parent, pc.cast(pa.array(l_k + 1), pa.string()), "-")
    cur_l = pa.array(CURRENCY_CODES).take(l_cur)
    for table, k, id_col, parent_col in (
        ("shop_order_lines", 0, "order_line_id", "order_id"),
        ("pos_transaction_lines", 1, "transaction_line_id", "transaction_id"),
    ):
        sel = np.flatnonzero(l_kind == k)
        tables[table] = {
            id_col: line_ids.take(sel),
            parent_col: parent.take(sel),
            "sku": ctx.catalogue.sku.take(sku[sel]),
            "category": cat_names.take(sel),
            "quantity": pa.array(qty[sel], type=pa.int32()),
            "unit_price": price_str.take(sel),
            "unit_cost": cost_arr.take(sel),
            "returned_quantity": pa.array(ret_qty[sel], type=pa.int32()),
            "_loaded_at": ts_array(l_loaded[sel]),
            "_currency": cur_l.take(sel),
        }
    orders = Orders(
        kind=kind,
        cust=o_cust,
        s=o_s,
        status=status,
        card=o_card,
        lines=n_lines,
        app=o_app,
        store=o_store,
        line_start=np.cumsum(n_lines) - n_lines,
        l_order=l_order,
        l_kind=l_kind,
        l_sku=sku,
        l_ret=ret_qty > 0,
    )
    return orders, tables


def dirty_order_tables(
    ctx: Context, chunk: int, orders: Orders, tables: dict[str, Columns], is_test: np.ndarray, window: Window
) -> tuple[dict[str, Columns], Stats]:
    """The four order tables with their defects, and what was injected (into the rows the window holds).

    is_test: per customer of the chunk, whether it is a QA test account: its identified orders
    are quarantined as test_account (and get no other defect). Lines of an order that is dropped
    are counted as parent_quarantined (orphan_line when the order lost its key). A line lands
    seconds after its order, so a folder holding a line holds its order.
    """
    n_shop = int((orders.kind == 0).sum())
    test_order = (orders.cust >= 0) & is_test[np.maximum(orders.cust, 0)] & ((orders.kind == 0) | orders.card)
    quarantined = np.zeros(orders.kind.size, dtype=bool)  # order rows staging or intermediate drop
    keyless = np.zeros(orders.kind.size, dtype=bool)
    dirty: dict[str, Columns] = {}
    parts: list[Stats] = []
    for table, sl in (("shop_orders", slice(0, n_shop)), ("pos_transactions", slice(n_shop, None))):
        test = test_order[sl]
        done = inject(table, tables[table], ~test, ctx.dirty, ctx.seed, chunk, window)
        dirty[table] = done.columns
        parts.append(done.stats)
        q = test.copy()
        for r in ROW_DEFECTS[table]:
            q[done.picked.get(r, np.zeros(0, np.int64))] = True
        quarantined[sl] = q
        keyless[sl][done.picked.get("missing_key", np.zeros(0, np.int64))] = True
        test &= window.held(tables[table]["_loaded_at"].cast(pa.int64()).to_numpy())
        if test.any():
            id_col = "order_id" if table == "shop_orders" else "transaction_id"
            test_ids = done.columns[id_col][: int(test.size)].filter(pa.array(test)).to_pylist()
            parts.append(Stats(injected={table: {"test_account": int(test.sum())}}, test_order_ids=tuple(test_ids)))
    for table, k in (("shop_order_lines", 0), ("pos_transaction_lines", 1)):
        sel = np.flatnonzero(orders.l_kind == k)
        parent = orders.l_order[sel]
        clean_parent = ~quarantined[parent]
        held = window.held(tables[table]["_loaded_at"].cast(pa.int64()).to_numpy())
        orphaned = int((keyless[parent] & held).sum())
        parented = int((quarantined[parent] & ~keyless[parent] & held).sum())
        consequences = {"parent_quarantined": parented, "orphan_line": orphaned}
        parts.append(Stats(consequences={table: {r: c for r, c in consequences.items() if c}}))
        done = inject(table, tables[table], clean_parent, ctx.dirty, ctx.seed, chunk, window, orphan_base=9_000_000_000)
        dirty[table] = {name: col for name, col in done.columns.items() if name != "_currency"}
        parts.append(done.stats)
    return {table: dirty[table] for table in ORDER_TABLES}, combine(parts)
