"""The CRM table: record versions per customer, their defects and duplicates, email identity groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.generate.arrays import (
    Columns,
    flat,
    loaded_us,
    pick,
    replace_rows,
    spellings,
    ts_array,
    ts_strings,
    with_nulls,
)
from lifecycle.generate.context import Context
from lifecycle.generate.customers import Customers
from lifecycle.generate.defects import (
    MISSING_KEYS,
    ROW_DEFECTS,
    TABLE_INDEX,
    Counts,
    Stats,
    defect_count,
    garbage_timestamps,
)
from lifecycle.generate.retailer import (
    ACQUISITION_CODES,
    COUNTRIES,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    GENDER_VARIANTS,
    LAST_NAMES,
)
from lifecycle.generate.scales import DAY, HORIZON_EXCL_S
from lifecycle.generate.streams import DIRTY_PICK, DIRTY_VALUE, Rng, stream
from lifecycle.generate.times import Window, ts_formats


@dataclass(frozen=True)
class CrmRecords:
    """The clean CRM rows (first versions, then later ones) and the customer each row belongs to."""

    columns: Columns
    owner: np.ndarray


def crm_records(ctx: Context, rng: Rng, customers: Customers) -> CrmRecords:
    """Each customer's CRM record, and a later version of it for customers who moved, changed consent or name."""
    n = customers.n
    firsts = pa.array([*FIRST_NAMES_F, *FIRST_NAMES_M])
    lasts = pa.array(LAST_NAMES)
    gender = spellings(rng, np.minimum(customers.gender, 2), GENDER_VARIANTS)
    gender = with_nulls(gender, customers.gender == 3)
    country = pa.array(COUNTRIES).take(customers.country)
    country = pc.if_else(pa.array(rng.random(n) < 0.03), pc.utf8_lower(country), country)
    consent = pa.array(customers.consent, mask=customers.consent_null, type=pa.bool_())
    signup = ts_strings(customers.signup_s, ts_formats(rng, "crm_customers", n), customers.offset)
    fmt_upd = ts_formats(rng, "crm_customers", n)
    base: Columns = {
        "customer_id": customers.customer_ids,
        "email": customers.emails,
        "first_name": firsts.take(customers.first_idx),
        "last_name": lasts.take(customers.last_idx),
        "loyalty_card_number": with_nulls(customers.cards, ~customers.has_card),
        "birth_year": pa.array(customers.birth_year, mask=customers.birth_null, type=pa.int32()),
        "gender": gender,
        "country_code": country,
        "region": ctx.city_regions.take(customers.city),
        "city": ctx.city_names.take(customers.city),
        "signup_at": signup,
        "acquisition_channel": pa.array(ACQUISITION_CODES).take(customers.acq),
        "marketing_consent": consent,
        "updated_at": ts_strings(customers.signup_s, fmt_upd, customers.offset),
        # the CRM streams sign-ups within a minute: a customer is known before any order of theirs lands
        "_loaded_at": ts_array((customers.signup_s + rng.integers(1, 60, n)) * 1_000_000 + rng.integers(0, 10**6, n)),
    }
    upd = np.flatnonzero(customers.upd)
    later = {k: v.take(upd) for k, v in base.items()}
    kind = customers.upd_kind[upd]
    moved = pa.array(kind == 0)
    later["city"] = pc.if_else(moved, ctx.city_names.take(customers.upd_city[upd]), later["city"])
    later["region"] = pc.if_else(moved, ctx.city_regions.take(customers.upd_city[upd]), later["region"])
    flipped = pc.invert(pc.fill_null(later["marketing_consent"], False))
    later["marketing_consent"] = pc.if_else(pa.array(kind == 1), flipped, later["marketing_consent"])
    later["last_name"] = pc.if_else(pa.array(kind == 2), lasts.take(customers.upd_last[upd]), later["last_name"])
    later["updated_at"] = ts_strings(
        customers.upd_s[upd], ts_formats(rng, "crm_customers", upd.size), customers.offset[upd]
    )
    later["_loaded_at"] = ts_array(loaded_us(rng, customers.upd_s[upd]))
    cols = {k: pa.concat_arrays([base[k], later[k]]) for k in base}
    owner = np.concatenate([np.arange(n), upd])
    return CrmRecords(cols, owner)


def dirty_crm(
    ctx: Context, chunk: int, customers: Customers, records: CrmRecords, window: Window
) -> tuple[Columns, Stats]:
    """The CRM table with its defects and duplicates, and what was injected (into the rows the window holds).

    Defects live on extra record versions, so the customer stays known to staging; duplicates
    copy clean rows. Test accounts' records get neither.
    """
    cols, owner = records.columns, records.owner
    injected: dict[str, int] = {}
    duplicates: Counts = {}
    rates, t = ctx.dirty, TABLE_INDEX["crm_customers"]
    pool = np.flatnonzero(~customers.test)
    reasons = ROW_DEFECTS["crm_customers"]
    counts = [defect_count(rates, r, pool.size, ctx.seed, chunk, t) for r in reasons]
    total = min(sum(counts), pool.size)
    vr = stream(ctx.seed, DIRTY_VALUE, chunk, t)
    extra: Columns | None = None
    if total:
        chosen = stream(ctx.seed, DIRTY_PICK, chunk, t).permutation(pool)[:total]
        reason_of = np.repeat(np.arange(len(reasons)), counts)[:total]
        extra = {k: v.take(chosen) for k, v in cols.items()}  # base rows come first in cols
        upd_s = np.minimum(customers.signup_s[chosen] + vr.integers(3600, 400 * DAY, total), HORIZON_EXCL_S - 3600)
        upd_s = np.maximum(upd_s, customers.signup_s[chosen] + 60)
        loaded = loaded_us(vr, upd_s)
        extra["updated_at"] = ts_strings(upd_s, 0, 0)
        extra["_loaded_at"] = ts_array(loaded)
        rows = np.flatnonzero(reason_of == 0)  # missing key: no id, or no version timestamp
        no_id = vr.random(rows.size) < 0.6
        extra["customer_id"] = replace_rows(extra["customer_id"], rows[no_id], pick(vr, MISSING_KEYS, int(no_id.sum())))
        extra["updated_at"] = replace_rows(extra["updated_at"], rows[~no_id], [None] * int((~no_id).sum()))
        rows = np.flatnonzero(reason_of == 1)  # unparseable version or signup timestamp
        on_signup = vr.random(rows.size) < 0.4
        garbage = garbage_timestamps(vr, upd_s[rows], allow_null=False)
        extra["signup_at"] = replace_rows(
            extra["signup_at"], rows[on_signup], [g for g, s in zip(garbage, on_signup, strict=True) if s]
        )
        extra["updated_at"] = replace_rows(
            extra["updated_at"],
            rows[~on_signup],
            [g for g, s in zip(garbage, on_signup, strict=True) if not s],
        )
        rows = np.flatnonzero(reason_of == 2)  # version stamped after it was loaded
        ahead = loaded[rows] // 1_000_000 + vr.integers(3600, 10 * DAY, rows.size)
        extra["updated_at"] = replace_rows(extra["updated_at"], rows, ts_strings(ahead, 0, 0))
        for k, r in enumerate(reasons):
            c = int(((reason_of == k) & window.held(loaded)).sum())
            if c:
                injected[r] = c
    # duplicates of clean rows
    all_rows = np.arange(len(owner))
    dup_pool = all_rows[~customers.test[owner]]
    dup_counts = [
        defect_count(rates, r, dup_pool.size, ctx.seed, chunk, t) for r in ("duplicate_exact", "duplicate_reloaded")
    ]
    perm = stream(ctx.seed, DIRTY_PICK, chunk, t, 1).permutation(dup_pool) if sum(dup_counts) else dup_pool
    exact = np.sort(perm[: dup_counts[0]])
    reloaded = np.sort(perm[dup_counts[0] : dup_counts[0] + dup_counts[1]])
    again = {k: v.take(reloaded) for k, v in cols.items()}
    row_us = cols["_loaded_at"].cast(pa.int64()).to_numpy()
    later = row_us[reloaded] + vr.integers(DAY, 30 * DAY, reloaded.size) * 1_000_000
    again["_loaded_at"] = ts_array(later)
    again["city"] = pc.utf8_upper(again["city"])
    parts = [cols, {k: v.take(exact) for k, v in cols.items()}, again]
    if extra is not None:
        parts.insert(1, extra)
    table = {k: pa.concat_arrays([p[k] for p in parts]) for k in cols}
    if exact.size or reloaded.size:
        duplicates["crm_customers"] = {
            "duplicate_exact": int(window.held(row_us[exact]).sum()),
            "duplicate_reloaded": int(window.held(later).sum()),
        }
    stats = Stats(injected={"crm_customers": injected} if injected else {}, duplicates=duplicates)
    return table, stats


def identity_groups(crm_emails: pa.Array | pa.ChunkedArray, other_emails: Sequence[pa.Array | pa.ChunkedArray]) -> int:
    """Emails of CRM customers spelled differently (case, padding) across CRM, help desk and NPS."""
    crm = flat(crm_emails)
    raw = pa.concat_arrays([crm, *(flat(a) for a in other_emails)])
    norm = pc.utf8_lower(pc.utf8_trim_whitespace(raw))
    t = pa.table({"n": norm, "r": raw}).filter(pc.is_valid(raw))
    spellings = t.group_by("n").aggregate([("r", "count_distinct")])
    multi = spellings.filter(pc.greater(spellings["r_count_distinct"], 1))["n"]
    crm_norm = pc.unique(pc.utf8_lower(pc.utf8_trim_whitespace(crm.filter(pc.is_valid(crm)))))
    return int(pc.sum(pc.is_in(multi, value_set=crm_norm)).as_py() or 0)
