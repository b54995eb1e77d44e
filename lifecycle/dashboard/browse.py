"""Open the running dashboard's pages in headless Chromium (:mod:`lifecycle.browser`): wait until a
page is drawn, count its charts, errors and the URLs it fetched, and save a PNG of the whole page.
Used by the browser test and ``scripts/bench_dashboard.py``."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from lifecycle.browser import Page
from lifecycle.dashboard.app import DEFAULT_PAGE

# Streamlit's frontend marks the app with data-test-script-state while the script runs; Altair charts
# are drawn by vega-embed inside stVegaLiteChart, Plotly's inside stPlotlyChart (svg.main-svg).
DRAWN = """(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (!document.querySelector('[data-testid="stMain"] h1')) return false;
  if (document.querySelector('[data-testid="stMain"] [data-testid="stSkeleton"]')) return false;
  const vega = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
  const plotly = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  const sized = (el) => el && el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().height > 0;
  return vega.every((c) => sized(c.querySelector('canvas, svg.marks')))
    && plotly.every((c) => sized(c.querySelector('svg.main-svg')));
})()"""

STATS = """JSON.stringify({
  title: (document.querySelector('[data-testid="stMain"] h1') || {}).textContent || '',
  vega: document.querySelectorAll('[data-testid="stVegaLiteChart"]').length,
  plotly: document.querySelectorAll('[data-testid="stPlotlyChart"]').length,
  drawn: document.querySelectorAll(
    '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks,'
    + ' [data-testid="stPlotlyChart"] svg.main-svg').length,
  exceptions: document.querySelectorAll('[data-testid="stException"]').length,
  errors: [...document.querySelectorAll('[data-testid="stAlertContentError"]')].map((e) => e.textContent),
  height: Math.max(...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stMainBlockContainer"]')]
    .map((e) => e.scrollHeight), document.body.scrollHeight),
})"""


@dataclass(frozen=True)
class Visit:
    """What one page view showed."""

    page: str
    url: str
    seconds: float  # from navigation until the page was drawn (script done, every chart drawn)
    title: str
    charts: int
    drawn: int
    exceptions: int
    errors: list[str]
    external_requests: list[str]  # URLs fetched from anywhere but the app's own host
    screenshot: Path | None


def page_url(base_url: str, key: str) -> str:
    """The URL of page ``key`` (the default page is the app's root)."""
    return base_url.rstrip("/") + "/" + ("" if key == DEFAULT_PAGE else key)


def visit(page: Page, base_url: str, key: str, screenshot_dir: Path | None = None, timeout: float = 90) -> Visit:
    """Open page ``key`` of the app at ``base_url``, wait until drawn, and report what it shows."""
    url = page_url(base_url, key)
    start = time.monotonic()
    page.navigate(url)
    page.wait_for(DRAWN, timeout=timeout, settle=1.0)
    seconds = time.monotonic() - start - 1.0  # the settle second is not load time
    stats = json.loads(page.evaluate(STATS))
    host = urlparse(base_url).netloc
    external = sorted(
        {
            u
            for u in page.requests
            if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc != host
        }
    )
    shot = None
    if screenshot_dir is not None:
        shot = _full_screenshot(page, screenshot_dir / f"{key}.png", int(stats["height"]))
    return Visit(
        key, url, seconds, stats["title"], stats["vega"] + stats["plotly"], stats["drawn"],
        stats["exceptions"], list(stats["errors"]), external, shot,
    )  # fmt: skip


def _full_screenshot(page: Page, path: Path, height: int) -> Path:
    """Streamlit scrolls inside its main block, so grow the viewport to the content, then shoot."""
    width = int(page.evaluate("window.innerWidth"))
    page.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": max(height + 120, 800), "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        page.wait_for(DRAWN, timeout=30, settle=1.0)  # charts redraw at the new size
        return page.screenshot(path, full_page=False)
    finally:
        page.send("Emulation.clearDeviceMetricsOverride")
