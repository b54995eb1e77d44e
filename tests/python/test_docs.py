"""dbt docs: the project overview page (models/_project__docs.md) replaces dbt's welcome page, and
`make docs` writes the single-file static site that opens offline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

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


def test_static_site_holds_the_overview_and_loads_nothing_online(parsed_project: Parsed, tmp_path: Path) -> None:
    target = parsed_project.target_copy(tmp_path / "docs")
    shutil.copy(parsed_project.manifest, target)  # --no-compile documents the session's parse
    result = run_dbt(
        parsed_project.raw_dir, parsed_project.db, "docs", "generate", "--static", "--no-compile", target=target
    )
    assert result.returncode == 0, result.stdout[-3000:]
    page = (target / "static_index.html").read_text()
    assert "Customer lifecycle warehouse" in page and "The marts and how to read them" in page
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", page)
