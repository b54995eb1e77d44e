"""A chunk's customers: who they are (the CRM's view) and how they behave (what drives their activity)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.generate.arrays import ascii_name, email_variant, id_strings, replace_rows
from lifecycle.generate.context import Context
from lifecycle.generate.defects import Stats
from lifecycle.generate.retailer import (
    ACQ_P,
    ACQUISITION_CODES,
    CATEGORY_P,
    COUNTRY_DOMAINS,
    COUNTRY_P,
    COUNTRY_UTC_OFFSET_MIN,
    DROPOUT_A,
    DROPOUT_B,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    GENERIC_DOMAIN_P,
    GENERIC_DOMAINS,
    HABIT_P,
    LAST_NAMES,
    OMNI,
    ONLINE,
    PRE_WINDOW_SHARE,
    PROSPECT_SHARE,
    PURCHASE_ALPHA,
    PURCHASE_R,
    STORE,
    STORES_PER_COUNTRY,
    TEST_EMAIL_DOMAINS,
)
from lifecycle.generate.scales import DAY, HISTORY_DAYS, HORIZON_EXCL_S, N_DAYS, PRE_WINDOW_DAYS, START_S
from lifecycle.generate.streams import DIRTY_COUNT, DIRTY_PICK, Rng, choice, stream
from lifecycle.generate.times import time_of_day

UPDATE_MIN_SPAN_DAYS = 180  # a late sign-up's record update or privacy request comes within half a year


@dataclass(frozen=True)
class Customers:
    """One array entry per customer of the chunk (position i is customer first_gid + i)."""

    # identity and CRM record
    gid: np.ndarray  # global customer number
    first_day: int  # the chunk's cohort is active from this day of the simulation (0, or after END_DATE)
    customer_ids: pa.Array
    emails: pa.Array
    cards: pa.Array  # loyalty card number (written only where has_card)
    has_card: np.ndarray
    country: np.ndarray
    city: np.ndarray
    home_store: np.ndarray
    offset: np.ndarray  # UTC offset of the country, minutes
    gender: np.ndarray  # 0 F, 1 M, 2 X, 3 unknown
    first_idx: np.ndarray
    last_idx: np.ndarray
    birth_year: np.ndarray
    birth_null: np.ndarray
    pre: np.ndarray  # signed up before the data's window
    signup_s: np.ndarray
    signup_in_store: np.ndarray
    acq: np.ndarray  # acquisition channel code
    consent: np.ndarray
    consent_null: np.ndarray
    # a later CRM record version, a privacy request
    upd: np.ndarray
    upd_s: np.ndarray
    upd_kind: np.ndarray  # 0 moved, 1 consent changed, 2 new last name
    upd_city: np.ndarray
    upd_last: np.ndarray
    priv: np.ndarray
    priv_erasure: np.ndarray
    priv_s: np.ndarray
    # behaviour
    is_buyer: np.ndarray
    habit: np.ndarray  # ONLINE, STORE or OMNI
    lam: np.ndarray  # purchase rate per day
    p_drop: np.ndarray  # dropout probability after each purchase
    tier: np.ndarray  # price tier in [0, 1]
    basket: np.ndarray
    deal: np.ndarray
    fav1: np.ndarray
    fav2: np.ndarray
    has_fav2: np.ndarray
    omni_share: np.ndarray
    app_share: np.ndarray
    eng: np.ndarray  # engagement
    returner: np.ndarray
    n_devices: np.ndarray
    first_delay_u: np.ndarray
    first_delay: np.ndarray
    # customers registered twice (pair_b's record copies pair_a's identity) and QA test accounts
    pair_a: np.ndarray
    pair_b: np.ndarray
    test: np.ndarray

    @property
    def n(self) -> int:
        return int(self.gid.size)


def draw_customers(
    ctx: Context, chunk: int, rng: Rng, first_gid: int, n: int, future: bool = False
) -> tuple[Customers, Stats]:
    """Customers first_gid .. first_gid + n - 1, and the count of those registered twice.

    The customers of a scale sign up by END_DATE (some before the data's start); future
    customers (future=True) sign up after END_DATE, up to the simulation's horizon.
    """
    first_day, last_day = (HISTORY_DAYS, N_DAYS) if future else (0, HISTORY_DAYS)
    signup_end_s = START_S + last_day * DAY - 2 * 3600
    gid = first_gid + np.arange(n, dtype=np.int64)
    country = choice(rng, n, COUNTRY_P)
    city_u = rng.random(n)
    is_buyer = rng.random(n) >= PROSPECT_SHARE
    habit = choice(rng, n, HABIT_P)
    habit[~is_buyer] = ONLINE
    card_u = rng.random(n)
    has_card = card_u < np.where(habit == ONLINE, 0.10, 0.92)
    has_card[~is_buyer] = card_u[~is_buyer] < 0.04
    gender = choice(rng, n, (0.52, 0.41, 0.02, 0.05))  # F, M, X, unknown
    nf, nm = len(FIRST_NAMES_F), len(FIRST_NAMES_M)
    first_idx = np.where(
        gender == 0,
        rng.integers(0, nf, n),
        np.where(gender == 1, nf + rng.integers(0, nm, n), rng.integers(0, nf + nm, n)),
    )
    last_idx = rng.integers(0, len(LAST_NAMES), n)
    pattern = choice(rng, n, (0.45, 0.2, 0.2, 0.15))
    generic = rng.random(n) < 0.75
    domain_generic = choice(rng, n, GENERIC_DOMAIN_P)
    domain_local = rng.integers(0, 2, n)
    age = np.clip(np.round(rng.normal(41, 13, n)), 18, 85).astype(np.int32)
    birth_null = rng.random(n) < 0.07
    pre = (rng.random(n) < PRE_WINDOW_SHARE) & (not future)
    pre_day = rng.integers(-PRE_WINDOW_DAYS, 0, n)
    win_day = first_day + choice(rng, n, ctx.calendar.acquisition[first_day:last_day])
    signup_day = np.where(pre, pre_day, win_day)
    acq = np.zeros(n, dtype=np.int64)
    acq_u = rng.random(n)
    for h in (ONLINE, STORE, OMNI):
        channel = np.minimum(np.searchsorted(np.cumsum(ACQ_P[h]), acq_u, side="right"), 7)
        acq = np.where(habit == h, channel, acq)
    signup_in_store = acq == ACQUISITION_CODES.index("store")
    tod = time_of_day(rng, n, signup_in_store)
    consent = rng.random(n) < 0.62
    consent_null = rng.random(n) < 0.02
    # behaviour
    lam = rng.gamma(PURCHASE_R, 1.0 / PURCHASE_ALPHA, n)
    p_drop = rng.beta(DROPOUT_A, DROPOUT_B, n)
    tier = rng.beta(2.2, 2.2, n)
    basket = rng.gamma(2.0, 0.5, n)
    deal = rng.random(n) < 0.15
    fav1 = choice(rng, n, CATEGORY_P)
    fav2 = choice(rng, n, CATEGORY_P)
    has_fav2 = (rng.random(n) < 0.5) & (fav2 != fav1)
    omni_share = rng.beta(2.0, 2.0, n)
    app_share = rng.beta(0.8, 1.2, n)
    eng = rng.beta(2.0, 3.0, n)
    returner = rng.gamma(2.0, 0.5, n)
    n_devices = 1 + (rng.random(n) < 0.45) + (rng.random(n) < 0.15)
    store_u = rng.random(n)
    first_delay_u = rng.random(n)
    first_delay = rng.exponential(20.0, n)
    # CRM updates and privacy requests
    upd = rng.random(n) < 0.12
    upd_frac = rng.random(n)
    upd_kind = choice(rng, n, (0.5, 0.35, 0.15))  # moved, consent changed, new last name
    upd_city_u = rng.random(n)
    upd_last = rng.integers(0, len(LAST_NAMES), n)
    priv = rng.random(n) < 0.004
    priv_erasure = rng.random(n) < 0.3
    priv_frac = rng.random(n)

    # Customers registered twice: B gets A's identity with a differently spelled email.
    dr = stream(ctx.seed, DIRTY_PICK, chunk, 1000)
    m = int(stream(ctx.seed, DIRTY_COUNT, chunk, 1000).binomial(n, ctx.dirty.duplicate_person))
    cand_a = np.flatnonzero(is_buyer & (habit == ONLINE))
    cand_b = np.flatnonzero(is_buyer & (habit != ONLINE) & has_card)
    m = min(m, cand_a.size, cand_b.size)
    pair_a = np.sort(dr.choice(cand_a, m, replace=False)) if m else np.zeros(0, dtype=np.int64)
    pair_b = dr.choice(cand_b, m, replace=False) if m else np.zeros(0, dtype=np.int64)
    for arr in (country, city_u, first_idx, last_idx, gender, age, birth_null):
        arr[pair_b] = arr[pair_a]

    city = ctx.city_start[country] + np.minimum(
        (ctx.city_count[country] * city_u**1.6).astype(np.int64), ctx.city_count[country] - 1
    )
    offset = COUNTRY_UTC_OFFSET_MIN[country]
    signup_s = np.minimum(START_S + signup_day * DAY + tod - offset * 60, signup_end_s).astype(np.int64)
    # record updates and privacy requests spread to the cohort's last sign-up day, at least half a year
    cohort_end_s = START_S + last_day * DAY
    upd_span = np.maximum(cohort_end_s - signup_s - 31 * DAY, UPDATE_MIN_SPAN_DAYS * DAY)
    upd_s = signup_s + 30 * DAY + (upd_frac * upd_span).astype(np.int64)
    upd &= upd_s < HORIZON_EXCL_S - DAY
    window_start = np.maximum(signup_s, START_S)
    priv_span = np.maximum(cohort_end_s - DAY - window_start, UPDATE_MIN_SPAN_DAYS * DAY)
    priv_s = window_start + (priv_frac * priv_span).astype(np.int64)
    priv &= priv_s < HORIZON_EXCL_S - DAY

    # Emails: first.last123@gmail.com and friends; the customer number keeps them unique.
    firsts = [*FIRST_NAMES_F, *FIRST_NAMES_M]
    first_l = pa.array([ascii_name(f).lower() for f in firsts]).take(first_idx)
    initial = pa.array([ascii_name(f).lower()[0] for f in firsts]).take(first_idx)
    last_l = pa.array([email_last_name(x) for x in LAST_NAMES]).take(last_idx)
    head = pc.if_else(pa.array(pattern == 2), initial, first_l)
    sep = pa.array([".", "", ".", "_"]).take(pattern)
    domains = pa.array([*GENERIC_DOMAINS, *(d for pair in COUNTRY_DOMAINS for d in pair)]).take(
        np.where(generic, domain_generic, len(GENERIC_DOMAINS) + 2 * country + domain_local)
    )
    num = pc.cast(pa.array(gid), pa.string())
    emails = pc.binary_join_element_wise(head, sep, last_l, num, "@", domains, "")
    if m:
        kinds = dr.integers(0, 4, m)
        emails = replace_rows(emails, pair_b, email_variant(emails.take(pair_a), kinds))

    customers = Customers(
        gid=gid,
        first_day=first_day,
        customer_ids=id_strings("C", gid, 7),
        emails=emails,
        cards=id_strings("6", (gid * 982_451_653) % 10**11, 11),
        has_card=has_card,
        country=country,
        city=city,
        home_store=ctx.store_start[country] + (STORES_PER_COUNTRY[country] * store_u).astype(np.int64),
        offset=offset,
        gender=gender,
        first_idx=first_idx,
        last_idx=last_idx,
        birth_year=(2026 - age).astype(np.int32),
        birth_null=birth_null,
        pre=pre,
        signup_s=signup_s,
        signup_in_store=signup_in_store,
        acq=acq,
        consent=consent,
        consent_null=consent_null,
        upd=upd,
        upd_s=upd_s,
        upd_kind=upd_kind,
        upd_city=ctx.city_start[country] + (ctx.city_count[country] * upd_city_u).astype(np.int64),
        upd_last=upd_last,
        priv=priv,
        priv_erasure=priv_erasure,
        priv_s=priv_s,
        is_buyer=is_buyer,
        habit=habit,
        lam=lam,
        p_drop=p_drop,
        tier=tier,
        basket=basket,
        deal=deal,
        fav1=fav1,
        fav2=fav2,
        has_fav2=has_fav2,
        omni_share=omni_share,
        app_share=app_share,
        eng=eng,
        returner=returner,
        n_devices=n_devices,
        first_delay_u=first_delay_u,
        first_delay=first_delay,
        pair_a=pair_a,
        pair_b=pair_b,
        test=np.zeros(n, dtype=bool),
    )
    return customers, Stats(merged_crm_records=m)


def email_last_name(name: str) -> str:
    """A last name as it is written in an email address."""
    return ascii_name(name).lower().replace("'", "").replace(" ", "")


def mark_test_accounts(
    ctx: Context, chunk: int, customers: Customers, with_orders: np.ndarray
) -> tuple[Customers, Stats]:
    """Turn a few buyers into QA test accounts: only their email gives them away.

    with_orders: positions of the customers with an identified order (the candidates, except
    customers registered twice).
    """
    has_orders = np.zeros(customers.n, dtype=bool)
    has_orders[with_orders] = True
    has_orders[customers.pair_a] = False
    has_orders[customers.pair_b] = False
    cand = np.flatnonzero(has_orders & customers.is_buyer)
    buyers = customers.is_buyer.sum()
    m = int(stream(ctx.seed, DIRTY_COUNT, chunk, 3000).binomial(buyers, ctx.dirty.test_account))
    m = min(m, cand.size)
    if m == 0:
        return customers, Stats()
    dr = stream(ctx.seed, DIRTY_PICK, chunk, 3000)
    test = np.sort(dr.choice(cand, m, replace=False))
    is_test = customers.test.copy()
    is_test[test] = True
    style = dr.integers(0, 3, m)
    local = pc.list_element(pc.split_pattern(customers.emails.take(test), "@"), 0)
    num = pc.cast(pa.array(customers.gid[test]), pa.string())
    dom = pa.array(list(TEST_EMAIL_DOMAINS)).take(dr.integers(0, len(TEST_EMAIL_DOMAINS), m))
    qa = pc.binary_join_element_wise("qa+", num, "@", pa.array(["shop.example"] * m), "")
    at_test = pc.binary_join_element_wise(local, "@", dom, "")
    plus = pc.binary_join_element_wise(local, "+test@gmail.com", "")
    emails = pc.choose(pa.array(style.astype(np.int8)), qa, at_test, plus)
    marked = dataclasses.replace(customers, emails=replace_rows(customers.emails, test, emails), test=is_test)
    return marked, Stats(test_customer_ids=tuple(customers.customer_ids.take(test).to_pylist()))
