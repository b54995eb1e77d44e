"""Random streams: one independent, reproducible stream per (seed, purpose, chunk, ...) key.

A chunk's base stream (:data:`BASE`) is drawn from by its steps in the order
:func:`lifecycle.generate.chunk.generate_chunk` calls them; every defect has streams of its own
(:data:`DIRTY_COUNT`, :data:`DIRTY_PICK`, :data:`DIRTY_VALUE`), so changing one rate leaves the
rest of the data alone; :data:`SHARED` streams serve the whole run (catalogue, marketing spend).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Rng = np.random.Generator

BASE, DIRTY_COUNT, DIRTY_PICK, DIRTY_VALUE, SHARED = 1, 2, 3, 4, 5


def stream(seed: int, *keys: int) -> Rng:
    """An independent, reproducible stream for (seed, *keys)."""
    return np.random.default_rng(np.random.SeedSequence([seed % (2**63), *keys]))


def choice(rng: Rng, n: int, p: np.ndarray | Sequence[float]) -> np.ndarray:
    """Indices drawn from a discrete distribution (inverse CDF, one uniform per draw)."""
    cdf = np.cumsum(np.asarray(p, dtype=float))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


def within(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes laid end to end: the group of each item and its index in it."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(owner.size) - starts[owner]
