"""The dashboard's pages, in menu order. Each module has ``TITLE``, ``GUIDE`` (the one-line reading
guide shown under the title) and ``render(db)``, which draws the page from the serving copy."""

from __future__ import annotations

from types import ModuleType

from lifecycle.dashboard.pages import flows, overview

PAGES: dict[str, ModuleType] = {
    "overview": overview,
    "flows": flows,
}
