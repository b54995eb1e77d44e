"""Generate a realistic raw retail data set as Parquet, following the landing contract.

``generate(scale, seed, out)`` writes every table of :data:`lifecycle.schema.RAW_TABLES` to
``<out>/<table>/part-NNNNN.parquet`` (one part per chunk of customers) and ``<out>/_manifest.json``.

The data describes a mid-size omnichannel retailer from 2023-10-01 to 2026-09-30:

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

* ``scale``, ``seed``, ``n_customers``, ``chunk_customers``, ``start_date``, ``end_date``,
  ``generator_version``, ``dirty_rates`` (the :class:`DirtyRates` used);
* ``tables``: ``{table: {"rows": n, "files": n}}``, raw rows as written (duplicates included);
* ``injected``: ``{table: {reason: n}}``, rows given each defect (quarantine reason codes),
  including the orders of test accounts (``test_account``), orders of unknown customers and
  orphan lines;
* ``lines_of_quarantined_orders``: ``{lines table: {"parent_quarantined": n, "orphan_line": n}}``,
  clean lines whose order is dropped (an order that lost its key leaves its lines orphaned);
* ``expected_quarantine``: the two above added up, as :func:`expected_quarantine` returns them;
* ``duplicates``: ``{table: {"duplicate_exact": n, "duplicate_reloaded": n}}``, extra raw rows
  staging drops (exact copies, and re-loads of the same key with a later ``_loaded_at``);
* ``messy_amounts``: ``{table: n}``, rows with a valid but untidy money string;
* ``test_account_customer_ids``, ``test_account_order_ids`` (shop order and POS transaction ids);
* ``identity_groups``: emails of CRM customers written in more than one way (case, padding)
  across CRM, help desk and NPS; ``merged_crm_records``: customers registered twice whose two
  CRM records resolve to one person by email.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lifecycle import paths, schema
from lifecycle.generate.context import Context
from lifecycle.generate.defects import BAD_CURRENCIES, MONEY_TABLES, ROW_DEFECTS, SPECS, combine
from lifecycle.generate.manifest import build_manifest, expected_quarantine
from lifecycle.generate.marketing import marketing_spend
from lifecycle.generate.retailer import CURRENCY_CODES, OMNI, ONLINE, STORE
from lifecycle.generate.scales import (
    CHUNK_CUSTOMERS,
    END_DATE,
    GENERATOR_VERSION,
    SCALES,
    START_DATE,
    DirtyRates,
)
from lifecycle.generate.writer import clear_raw_dir, write_chunks, write_empty_tables, write_manifest, write_table

__all__ = [
    "BAD_CURRENCIES",
    "CHUNK_CUSTOMERS",
    "CURRENCY_CODES",
    "END_DATE",
    "GENERATOR_VERSION",
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
) -> dict[str, Any]:
    """Write the raw tables of a synthetic retailer to ``out`` and return the manifest.

    scale: 'demo', 's', 'm' or 'l' (about 5k, 50k, 300k or 1M CRM customers); n_customers
    overrides it (tests). out: the raw directory (default: the project's, see lifecycle.paths).
    dirty: the defect rates, :class:`DirtyRates` defaults when None.
    Customers are generated in chunks of chunk_customers, each written as one part file per
    table; workers (default: up to 2) processes generate chunks in parallel. The data depend
    on scale (or n_customers), seed, dirty and chunk_customers only, not on workers.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: expected one of {', '.join(SCALES)}")
    dirty = DirtyRates() if dirty is None else dirty
    total = int(n_customers if n_customers is not None else SCALES[scale])
    if not 1 <= total <= 8_000_000:
        raise ValueError("n_customers must be between 1 and 8,000,000")
    out = Path(out) if out is not None else paths.raw_dir()
    clear_raw_dir(out)
    ctx = Context.build(seed, dirty)
    jobs = [(i, s, min(chunk_customers, total - s)) for i, s in enumerate(range(0, total, chunk_customers))]
    n_workers = min(workers if workers is not None else min(2, os.cpu_count() or 1), len(jobs))
    chunks = write_chunks(ctx, out, jobs, n_workers, progress=progress, label=f"generate {scale}")
    names = [rt.name for rt in schema.RAW_TABLES]
    rows = {name: sum(c.rows.get(name, 0) for c in chunks) for name in names}
    files = {name: sum(c.files.get(name, 0) for c in chunks) for name in names}
    spend, spend_stats = marketing_spend(ctx, total)
    write_table(spend, out / "marketing_spend" / "part-00000.parquet")
    rows["marketing_spend"], files["marketing_spend"] = spend.num_rows, 1
    files = write_empty_tables(out, files)
    stats = combine([*(c.stats for c in chunks), spend_stats])  # in chunk order: deterministic
    manifest = build_manifest(scale, seed, total, chunk_customers, dirty, rows, files, stats)
    write_manifest(out, manifest)
    return manifest
