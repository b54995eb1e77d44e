"""DuckDB resources for a build, from the machine unless the user set them.

``lifecycle dbt`` exports these before it starts dbt; profiles/profiles.yml reads them (with safe
fixed defaults for a plain ``dbt build`` that runs without the wrapper):

- ``LIFECYCLE_THREADS``: dbt threads (concurrent nodes), the machine's CPU count.
- ``LIFECYCLE_MEMORY_LIMIT``: DuckDB ``memory_limit``, :data:`MEMORY_SHARE` of physical memory
  (at least :data:`MIN_MEMORY_MIB`). DuckDB spills to its temp directory beyond it; the share
  leaves room for what DuckDB does not count (Python models' pandas frames, dbt itself, the OS).
- ``LIFECYCLE_TEMP_DIR``: DuckDB ``temp_directory`` for spilling, beside the warehouse file.
"""

from __future__ import annotations

import os
from pathlib import Path

# A fifth of physical memory: 4.8 GB on 24 GB, 3.2 GB on 16 GB, 1.6 GB on 8 GB. The whole build's
# peak (DuckDB plus what it does not count: the CLV models' pandas frames, dbt, the OS's page cache
# of the spill files aside) must stay near 6 GB at scale l (1M customers) on a 24 GB machine, so a
# 16 GB laptop can run it beside other programs; DuckDB spills beyond its limit (every staging
# dedupe is written to spill: latest_load_per_key).
MEMORY_SHARE = 0.2
MIN_MEMORY_MIB = 1024


def physical_memory_bytes() -> int | None:
    """Total physical memory, or None where the OS does not say (then the profile's default applies)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def memory_limit(total_bytes: int | None) -> str | None:
    """DuckDB memory_limit for a machine with ``total_bytes`` of memory, e.g. '12288MiB'."""
    if total_bytes is None:
        return None
    return f"{max(MIN_MEMORY_MIB, int(total_bytes * MEMORY_SHARE / 2**20))}MiB"


def temp_dir(warehouse: Path) -> Path:
    """Where DuckDB spills: ``<warehouse>.tmp`` beside the warehouse file (DuckDB's own default)."""
    return warehouse.with_name(warehouse.name + ".tmp")


def resource_env(env: dict[str, str], warehouse: Path) -> dict[str, str]:
    """``env`` with LIFECYCLE_THREADS, LIFECYCLE_MEMORY_LIMIT and LIFECYCLE_TEMP_DIR filled in
    from the machine wherever the user did not set them (a set value always wins)."""
    out = dict(env)
    out.setdefault("LIFECYCLE_THREADS", str(os.cpu_count() or 2))
    limit = memory_limit(physical_memory_bytes())
    if limit is not None:
        out.setdefault("LIFECYCLE_MEMORY_LIMIT", limit)
    out.setdefault("LIFECYCLE_TEMP_DIR", str(temp_dir(warehouse)))
    return out
