"""The manifest: what a generated data set holds and what was injected into it."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from lifecycle.generate.defects import Stats
from lifecycle.generate.scales import GENERATOR_VERSION, HORIZON_DATE, START_DATE, DirtyRates


def build_manifest(
    scale: str,
    seed: int,
    n_customers: int,
    chunk_customers: int,
    dirty: DirtyRates,
    rows: dict[str, int],
    files: dict[str, int],
    stats: Stats,
    end_date: dt.date,
    appends: list[dict[str, Any]],
) -> dict[str, Any]:
    """The manifest of a data set (see :mod:`lifecycle.generate` for its keys)."""

    def clean(d: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        return {t: {k: int(v) for k, v in sorted(c.items()) if v} for t, c in sorted(d.items()) if any(c.values())}

    manifest: dict[str, Any] = {
        "scale": scale,
        "seed": seed,
        "n_customers": n_customers,
        "chunk_customers": chunk_customers,
        "start_date": START_DATE.isoformat(),
        "end_date": end_date.isoformat(),
        "horizon_date": HORIZON_DATE.isoformat(),
        "appends": appends,
        "generator_version": GENERATOR_VERSION,
        "tables": {name: {"rows": rows[name], "files": files[name]} for name in sorted(rows)},
        "injected": clean(stats.injected),
        "duplicates": clean(stats.duplicates),
        "messy_amounts": {t: int(v) for t, v in sorted(stats.messy.items()) if v},
        "lines_of_quarantined_orders": clean(stats.consequences),
        "test_account_customer_ids": sorted(stats.test_customer_ids),
        "test_account_order_ids": sorted(stats.test_order_ids),
        "identity_groups": stats.identity_groups,
        "merged_crm_records": stats.merged_crm_records,
        "dirty_rates": asdict(dirty),
    }
    manifest["expected_quarantine"] = {
        t: dict(sorted(c.items())) for t, c in sorted(_by_table(expected_quarantine(manifest)).items())
    }
    return manifest


def _by_table(flat: dict[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (table, reason), n in flat.items():
        out.setdefault(table, {})[reason] = n
    return out


def expected_quarantine(manifest: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Rows per (raw table, reason) the quarantine mart should list for this generated data set.

    Every injected defect (staging reasons, unknown customers, orphan lines, test-account orders)
    plus the consequences for lines: lines of an order quarantined in staging or excluded in the
    intermediate layer are ``parent_quarantined``; lines of an order that lost its key are
    ``orphan_line``. Duplicates are not quarantined (staging keeps the latest load).
    """
    out: dict[tuple[str, str], int] = {}
    for part in ("injected", "lines_of_quarantined_orders"):
        for table, counts in manifest.get(part, {}).items():
            for reason, n in counts.items():
                if n:
                    out[(table, reason)] = out.get((table, reason), 0) + int(n)
    return dict(sorted(out.items()))
