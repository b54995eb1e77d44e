"""The dashboard's pages, in menu order. Each module has ``TITLE``, ``GUIDE`` (the one-line reading
guide shown under the title) and ``render(db)``, which draws the page from the serving copy."""

from __future__ import annotations

from types import ModuleType

from lifecycle.dashboard.pages import (
    audiences,
    clv,
    cohorts,
    flows,
    kpis,
    overview,
    quality,
    segments,
)

PAGES: dict[str, ModuleType] = {
    "overview": overview,
    "flows": flows,
    "cohorts": cohorts,
    "segments": segments,
    "clv": clv,
    "kpis": kpis,
    "audiences": audiences,
    "quality": quality,
}
