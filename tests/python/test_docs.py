"""dbt docs: the project overview page (models/_project__docs.md) replaces dbt's welcome page, and
`make docs` writes the single-file static site that opens offline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from chromium import SCREENSHOTS, distinct_pixel_bytes, dump_dom, screenshot
from conftest import Parsed, run_dbt

from lifecycle import paths

OVERVIEW_TITLE = "# Customer lifecycle warehouse"


def test_overview_doc_block_is_in_the_manifest(parsed_project: Parsed) -> None:
    docs = json.loads(parsed_project.manifest.read_text())["docs"]
    overview = docs["doc.customer_lifecycle.__overview__"]["block_contents"]
    assert overview.startswith(OVERVIEW_TITLE)
    for section in ("## The layers", "## The marts and how to read them", "kpi_monthly", "data_coverage"):
        assert section in overview


def test_make_docs_writes_the_static_site() -> None:
    dry = subprocess.run(["make", "-n", "docs"], cwd=paths.PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert re.search(r"lifecycle dbt docs generate --static\b", dry.stdout), dry.stdout


@pytest.fixture(scope="module")
def static_site(parsed_project: Parsed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """static_index.html of the session's parse (``--no-compile``: no warehouse needed)."""
    target = parsed_project.target_copy(tmp_path_factory.mktemp("docs") / "target")
    shutil.copy(parsed_project.manifest, target)
    result = run_dbt(
        parsed_project.raw_dir, parsed_project.db, "docs", "generate", "--static", "--no-compile", target=target
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return target / "static_index.html"


def test_static_site_holds_the_overview_and_loads_nothing_online(static_site: Path) -> None:
    page = static_site.read_text()
    assert "Customer lifecycle warehouse" in page and "The marts and how to read them" in page
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", page)


def test_chromium_opens_the_static_site_on_the_overview(static_site: Path, tmp_path: Path) -> None:
    """Opened from disk, offline, the site renders the overview page (not dbt's welcome page)."""
    dom = dump_dom(static_site.as_uri(), tmp_path / "profile", wait_ms=15000)
    assert '<h1 id="customer-lifecycle-warehouse">' in dom
    assert 'id="welcome' not in dom  # dbt's default overview is not what renders
    png = screenshot(static_site.as_uri(), SCREENSHOTS / "dbt_docs_overview.png", tmp_path / "profile", wait_ms=15000)
    assert distinct_pixel_bytes(png) > 20, "the screenshot is blank"
