"""The validation report that renders offline (``validation.html``): self-contained (no URL, no
script, no external style or font), holding the figures of validation.json, written and printed by
``lifecycle validate``, and drawn by a real browser (headless chromium) into a PNG."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from chromium import SCREENSHOTS, distinct_pixel_bytes, dump_dom, screenshot
from test_publish import Build, shared_build

from lifecycle import paths
from lifecycle.validation_html import HTML_REPORT, render, write_html_report

EXTERNAL = re.compile(r"https?://|<script|<link|@import|url\(|//cdn", re.IGNORECASE)

DOC = {
    "db": "/data/wh.duckdb",
    "success": False,
    "started_at": "2026-12-01T10:00:00+00:00",
    "elapsed_seconds": 1.5,
    "expectations_evaluated": 12,
    "expectations_failed": 1,
    "expectations_warned": 1,
    "dbt_invocation_id": "abc-123",
    "notes": ["kpi_monthly: empty and not meaningful on this data"],
    "marts": [
        {
            "mart": "customer_clv",
            "rows": 40,
            "success": False,
            "evaluated": 7,
            "passed": 6,
            "failed": 1,
            "warned": 0,
            "suite": "model yml",
            "coverage": "complete",
            "failures": [
                {
                    "expectation": "expect_column_values_to_be_between",
                    "column": "p_alive",
                    "severity": "error",
                    "observed": "2 unexpected (5%), e.g. 1.5, -0.1",
                    "description": "[error] p_alive in [0, 1]",
                    "test": "columns_in_range",
                }
            ],
            "warnings": [],
        },
        {
            "mart": "customer_lifecycle",
            "rows": 40,
            "success": True,
            "evaluated": 5,
            "passed": 4,
            "failed": 0,
            "warned": 1,
            "suite": "model yml",
            "coverage": "complete",
            "failures": [],
            "warnings": [
                {
                    "expectation": "expect_column_proportion",
                    "column": None,
                    "severity": "warn",
                    "observed": "observed 0.97 <script>",
                    "description": "churned share",
                    "test": "proportion_within",
                }
            ],
        },
    ],
    "quarantine": [
        {"quarantine_reason": "missing_key", "source_table": "shop_orders", "rows": 3, "reason_description": "No key."},
        {"quarantine_reason": "test_account", "source_table": "crm_customers", "rows": 17, "reason_description": None},
    ],
}


def test_the_page_is_self_contained_and_holds_the_figures(tmp_path: Path) -> None:
    page = render(DOC)
    assert not EXTERNAL.search(page), EXTERNAL.search(page)
    assert "<style>" in page
    assert "FAILED: 10/12 expectations passed, 1 failed (error)" in " ".join(page.split())
    for text in (
        "customer_clv",
        "p_alive",
        "1.5, -0.1",
        "columns_in_range",
        "warn",
        "proportion_within",
        "missing_key",
        "shop_orders 3",
        "test_account",
        ">17<",
        ">20<",
        "abc-123",
        "not meaningful",
    ):
        assert text in page, text
    assert "&lt;script&gt;" in page  # observed values are escaped, never markup
    (tmp_path / "validation.json").write_text(json.dumps(DOC))
    assert write_html_report(tmp_path / "validation.json") == tmp_path / HTML_REPORT


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return shared_build(tmp_path_factory)


@pytest.mark.slow
def test_validate_writes_the_offline_report(build: Build) -> None:
    """The shared build was validated by `lifecycle validate` (which prints the page's path:
    test_validate.py::test_real_build_passes_with_data_docs)."""
    reports = paths.artefacts(build.db).reports
    page_path = reports / HTML_REPORT
    page = page_path.read_text()
    assert not EXTERNAL.search(page)
    doc = json.loads((reports / "validation.json").read_text())
    for mart in doc["marts"]:
        assert f"<td>{mart['mart']}</td>" in page
    with duckdb.connect(str(build.db), read_only=True) as con:
        total = con.execute("select count(*) from marts.quarantined_rows").fetchone()[0]
        reasons = {
            r for (r,) in con.execute("select distinct quarantine_reason from marts.quarantined_rows").fetchall()
        }
    assert total > 0 and sum(q["rows"] for q in doc["quarantine"]) == total
    assert f'<th class="num">{total}</th>' in page
    assert all(f"<td>{r}</td>" in page for r in reasons)
    # The Data Docs, blank offline, point to it.
    assert 'href="../validation.html"' in (reports / "data_docs" / "index.html").read_text()


@pytest.mark.slow
def test_chromium_renders_the_report_offline(build: Build, tmp_path: Path) -> None:
    page = paths.artefacts(build.db).reports / HTML_REPORT
    assert page.is_file()
    url = page.as_uri()
    dom = dump_dom(url, tmp_path / "profile")
    assert '<table id="marts">' in dom and "PASSED" in dom
    doc = json.loads(page.with_name("validation.json").read_text())
    assert all(m["mart"] in dom for m in doc["marts"])
    png = screenshot(url, SCREENSHOTS / "validation_report.png", tmp_path / "profile")
    assert distinct_pixel_bytes(png) > 20, "the screenshot is blank"
