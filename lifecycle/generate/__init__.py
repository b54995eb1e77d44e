"""Generate a realistic raw retail data set as Parquet, following the landing contract.

``generate(scale, seed, out)`` writes every table of :data:`lifecycle.schema.RAW_TABLES` to
``<out>/<table>/part-NNNNN.parquet`` (one part per chunk of customers) and ``<out>/_manifest.json``.

The data describes a mid-size omnichannel retailer from 2023-10-01 on. A folder generated to an
end date D (``end_date``, default :data:`END_DATE` 2026-09-30) holds exactly the rows whose
``_loaded_at`` is before the end of day D (UTC), as an export taken on D would: an event of D
loaded after midnight is not there yet. The simulation does not depend on D: every chunk is
simulated to :data:`HORIZON_DATE` from its own random streams, then cut, so generating to a
later date and keeping the rows loaded by D gives exactly the rows of a generation to D. The
scale's customers sign up by END_DATE; customers signing up after it are chunks of their own
(a future cohort), simulated only when D is after END_DATE. ``append=True`` adds to a folder
generated to D1 the rows loaded in (D1, D], as new part files ``part-YYYYMMDD-NNNNN.parquet``
(named by D, so they sort after the folder's files; no file is rewritten). Late rows come
naturally (evening events land after midnight) and from :data:`scales.LATE_SHARE`; re-loaded
keys from the re-exports and next-day re-deliveries of :class:`DirtyRates`.

* CRM customers in six countries (currency follows the country), about a quarter of them
  prospects who never buy, some with a later record version (moved city, changed consent).
* Purchasing follows a BG/NBD-like process: each buyer has a purchase rate ``λ ~ Gamma(r, α)``
  and drops out after each purchase with probability ``p ~ Beta(a, b)``; the calendar is bent by
  seasonality (Black Friday, a December peak, a summer bump) through a time change. Spend varies
  by customer (price tier, basket size) and by order. Each buyer has a channel habit (online
  only, store only, omnichannel), favourite categories, a deal-seeking streak and a return
  propensity. Online orders land in the shop tables, store purchases in the POS tables (with
  the loyalty card when the shopper has one, anonymous otherwise, plus walk-in shoppers).
* Interactions: clickstream sessions (anonymous until a login in the session), email campaigns
  (opens track engagement and fade after a customer lapses), help-desk tickets and reviews
  (more tickets, worse ratings after returns), NPS answers, referrals, loyalty-card store visits,
  daily marketing spend and a few privacy requests.

Dirty rows are injected at the rates of :class:`DirtyRates`, each with exactly one defect, so the
reason staging gives it is known in advance; the manifest records what was injected and
:func:`expected_quarantine` turns it into the row counts the quarantine mart should show.

Everything is vectorised with numpy / pyarrow and processed in chunks of customers, each chunk
with its own random streams seeded from ``(seed, chunk)``: the same scale and seed give the same
data, whatever the machine and however many worker processes run.

The modules, in the order data flows through them:

* :mod:`~lifecycle.generate.scales` dates, scales and :class:`DirtyRates`;
  :mod:`~lifecycle.generate.retailer` the retailer's constants; :mod:`~lifecycle.generate.context`
  what all chunks share (calendar, catalogue, campaigns, stores);
* :mod:`~lifecycle.generate.chunk` one chunk, step by step: :mod:`~lifecycle.generate.customers`,
  :mod:`~lifecycle.generate.orders` (purchases, orders, lines), :mod:`~lifecycle.generate.interactions`
  (store visits, clickstream, email), :mod:`~lifecycle.generate.feedback` (tickets, reviews, NPS,
  referrals, privacy requests), :mod:`~lifecycle.generate.crm` (the CRM table); each step takes
  the frames it needs and returns new ones;
* :mod:`~lifecycle.generate.defects` the injected defects (which, where, how) and their counts;
  :mod:`~lifecycle.generate.marketing` the spend table; :mod:`~lifecycle.generate.manifest` the
  manifest; :mod:`~lifecycle.generate.writer` the Parquet files (in worker processes or not);
* :mod:`~lifecycle.generate.arrays`, :mod:`~lifecycle.generate.streams` and
  :mod:`~lifecycle.generate.times` the building blocks (Arrow columns, random streams, times).

The manifest (``_manifest.json``, sorted keys, also returned by :func:`generate`):

* ``scale``, ``seed``, ``n_customers`` (the scale's customers, by END_DATE), ``chunk_customers``,
  ``start_date``, ``end_date``, ``horizon_date``, ``generator_version``, ``dirty_rates`` (the
  :class:`DirtyRates` used);
* ``tables``: ``{table: {"rows": n, "files": n}}``, raw rows in the folder (duplicates included);
* ``appends``: one ``{"end_date", "rows": {table: n}, "files": {table: n}}`` per append, what it added;
* every count below is of the rows the folder holds (a row and its copies by their own load time);
* ``injected``: ``{table: {reason: n}}``, rows given each defect (quarantine reason codes),
  including the orders of test accounts (``test_account``), orders of unknown customers and
  orphan lines;
* ``lines_of_quarantined_orders``: ``{lines table: {"parent_quarantined": n, "orphan_line": n}}``,
  clean lines whose order is dropped (an order that lost its key leaves its lines orphaned);
* ``expected_quarantine``: the two above added up, as :func:`expected_quarantine` returns them;
* ``duplicates``: ``{table: {"duplicate_exact": n, "duplicate_reloaded": n, "redelivered": n}}``,
  extra raw rows staging drops (exact copies, re-loads of the same key with a later ``_loaded_at``,
  and the next day's unchanged re-deliveries);
* ``messy_amounts``: ``{table: n}``, rows with a valid but untidy money string;
* ``test_account_customer_ids``, ``test_account_order_ids`` (shop order and POS transaction ids);
* ``identity_groups``: emails of CRM customers written in more than one way (case, padding)
  across CRM, help desk and NPS; ``merged_crm_records``: customers registered twice whose two
  CRM records resolve to one person by email.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path
from typing import Any

from lifecycle import paths, schema
from lifecycle.generate.context import Calendar, Context
from lifecycle.generate.defects import BAD_CURRENCIES, MONEY_TABLES, ROW_DEFECTS, SPECS, combine
from lifecycle.generate.manifest import build_manifest, expected_quarantine
from lifecycle.generate.marketing import marketing_spend
from lifecycle.generate.retailer import CURRENCY_CODES, OMNI, ONLINE, PRE_WINDOW_SHARE, STORE
from lifecycle.generate.scales import (
    CHUNK_CUSTOMERS,
    END_DATE,
    GENERATOR_VERSION,
    HISTORY_DAYS,
    HORIZON_DATE,
    SCALES,
    START_DATE,
    DirtyRates,
)
from lifecycle.generate.times import Window, day_end_us
from lifecycle.generate.writer import (
    Job,
    Run,
    Written,
    clear_raw_dir,
    part_sink,
    read_manifest,
    write_chunks,
    write_empty_tables,
    write_manifest,
)

__all__ = [
    "BAD_CURRENCIES",
    "CHUNK_CUSTOMERS",
    "CURRENCY_CODES",
    "END_DATE",
    "GENERATOR_VERSION",
    "HORIZON_DATE",
    "MONEY_TABLES",
    "OMNI",
    "ONLINE",
    "ROW_DEFECTS",
    "SCALES",
    "SPECS",
    "START_DATE",
    "STORE",
    "DirtyRates",
    "expected_quarantine",
    "generate",
]


def generate(
    scale: str = "demo",
    seed: int = 42,
    out: Path | str | None = None,
    progress: bool = True,
    dirty: DirtyRates | None = None,
    *,
    n_customers: int | None = None,
    chunk_customers: int = CHUNK_CUSTOMERS,
    workers: int | None = None,
    end_date: dt.date | None = None,
    append: bool = False,
) -> dict[str, Any]:
    """Write the raw tables of a synthetic retailer to ``out`` and return the manifest.

    scale: 'demo', 's', 'm' or 'l' (about 5k, 50k, 300k or 1M CRM customers by END_DATE);
    n_customers overrides it (tests). out: the raw directory (default: the project's, see
    lifecycle.paths). dirty: the defect rates, :class:`DirtyRates` defaults when None.
    end_date: the folder holds the rows loaded by the end of that day (UTC), START_DATE to
    HORIZON_DATE, END_DATE when None. append: add the rows loaded after the folder's end date,
    up to end_date, as new part files (scale, seed and the rest must match the folder's manifest).
    Customers are generated in chunks of chunk_customers, each written as one part file per
    table; workers (default: up to 2) processes generate chunks in parallel. The data depend
    on scale (or n_customers), seed, dirty and chunk_customers only, not on workers or end_date.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: expected one of {', '.join(SCALES)}")
    end_date = END_DATE if end_date is None else end_date
    if not START_DATE <= end_date <= HORIZON_DATE:
        raise ValueError(f"end date {end_date} is outside {START_DATE} .. {HORIZON_DATE} (the simulated time)")
    dirty = DirtyRates() if dirty is None else dirty
    total = int(n_customers if n_customers is not None else SCALES[scale])
    if not 1 <= total <= 8_000_000:
        raise ValueError("n_customers must be between 1 and 8,000,000")
    out = Path(out) if out is not None else paths.raw_dir()
    before: dict[str, Any] | None = None
    if append:
        before = read_manifest(out)
        check_append(before, scale, seed, total, chunk_customers, dirty, end_date)
        since = dt.date.fromisoformat(before["end_date"])
        run = Run(Window(day_end_us(end_date), since_us=day_end_us(since)), prefix=f"part-{end_date:%Y%m%d}-")
    else:
        clear_raw_dir(out)
        run = Run(Window(day_end_us(end_date)))
    ctx = Context.build(seed, dirty)
    jobs = plan_chunks(total, chunk_customers, future=end_date > END_DATE)
    n_workers = min(workers if workers is not None else min(2, os.cpu_count() or 1), len(jobs))
    chunks = write_chunks(ctx, out, jobs, run, n_workers, progress=progress, label=f"generate {scale}")
    names = [rt.name for rt in schema.RAW_TABLES]
    spend_rows: dict[str, int] = {}
    spend_files: dict[str, int] = {}
    spend_stats = marketing_spend(ctx, total, part_sink(out, run, 0, spend_rows, spend_files), run.window)
    written = [*chunks, Written(spend_rows, spend_files, spend_stats)]
    rows = {name: sum(c.rows.get(name, 0) for c in written) for name in names}
    new_files = {name: sum(c.files.get(name, 0) for c in written) for name in names}
    stats = combine([c.stats for c in written])  # in chunk order: deterministic
    if before is None:
        files, appends = write_empty_tables(out, new_files), []
    else:
        files = {name: before["tables"][name]["files"] + new_files[name] for name in names}
        new_rows = {name: rows[name] - before["tables"][name]["rows"] for name in names}
        appends = [*before["appends"], {"end_date": end_date.isoformat(), "rows": new_rows, "files": new_files}]
    manifest = build_manifest(scale, seed, total, chunk_customers, dirty, rows, files, stats, end_date, appends)
    write_manifest(out, manifest)
    return manifest


def plan_chunks(total: int, chunk_customers: int, future: bool) -> list[Job]:
    """The chunks of a run: the scale's customers, then (future) those signing up after END_DATE.

    The future cohort's size continues the acquisition curve: as many customers per acquisition
    weight as the scale's customers who sign up inside the data's window.
    """
    starts = range(0, total, chunk_customers)
    jobs: list[Job] = [(i, s, min(chunk_customers, total - s), False) for i, s in enumerate(starts)]
    if future:
        acq = Calendar.build().acquisition
        n_future = round(total * (1 - PRE_WINDOW_SHARE) * acq[HISTORY_DAYS:].sum() / acq[:HISTORY_DAYS].sum())
        first = len(jobs)
        for i, s in enumerate(range(0, n_future, chunk_customers)):
            jobs.append((first + i, total + s, min(chunk_customers, n_future - s), True))
    return jobs


def check_append(
    before: dict[str, Any],
    scale: str,
    seed: int,
    total: int,
    chunk_customers: int,
    dirty: DirtyRates,
    end_date: dt.date,
) -> None:
    """Refuse (ValueError, one line) an append that would not continue the folder's data."""
    asked = {
        "scale": scale,
        "seed": seed,
        "n_customers": total,
        "chunk_customers": chunk_customers,
        "dirty_rates": dataclasses.asdict(dirty),
        "generator_version": GENERATOR_VERSION,
    }
    for key, value in asked.items():
        if before.get(key) != value:
            raise ValueError(f"cannot append: the folder was generated with {key} {before.get(key)!r}, not {value!r}")
    if end_date <= dt.date.fromisoformat(before["end_date"]):
        raise ValueError(f"cannot append: end date {end_date} is not after the folder's end date {before['end_date']}")
