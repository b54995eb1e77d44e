"""The validation report as one self-contained HTML page (``validation.html`` beside
``validation.json``): inline CSS, no script, no font, no URL, so it renders fully offline.

It is rendered from the JSON document ``lifecycle validate`` writes (the one source of the figures):
per mart the expectations evaluated, passed, failed and warned, every failure and warning with its
severity, check and unexpected examples, the notes, and the quarantine counts by source table and
reason (``marts.quarantined_rows``).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

HTML_REPORT = "validation.html"  # beside validation.json

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem; color: #1f2328;
       background: #fff; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.meta { color: #57606a; font-size: .9rem; }
.verdict { display: inline-block; padding: .3rem .8rem; border-radius: 4px; font-weight: 600; margin: .8rem 0; }
.passed { background: #dafbe1; color: #116329; } .warned { background: #fff8c5; color: #7d4e00; }
.failed { background: #ffebe9; color: #a40e26; }
table { border-collapse: collapse; margin-top: .5rem; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td:first-child, tr.warned td:first-child { font-weight: 600; }
code { font-size: .85rem; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _status(mart: dict[str, Any]) -> str:
    if not mart.get("success", False):
        return "failed"
    return "warned" if mart.get("warned") else "passed"


def _verdict(doc: dict[str, Any]) -> tuple[str, str]:
    warned = doc.get("expectations_warned", 0)
    if not doc.get("success"):
        return "failed", "FAILED"
    if warned:
        return "warned", f"PASSED with {warned} warning(s)"
    return "passed", "PASSED"


def _marts_table(marts: list[dict[str, Any]]) -> str:
    rows = []
    for m in marts:
        status = _status(m)
        rows.append(
            f'<tr class="{status}"><td>{_e(m["mart"])}</td><td>{status}</td>'
            f'<td class="num">{_e("-" if m.get("rows") is None else m["rows"])}</td>'
            f'<td class="num">{_e(m["evaluated"])}</td><td class="num">{_e(m["passed"])}</td>'
            f'<td class="num">{_e(m["failed"])}</td><td class="num">{_e(m["warned"])}</td>'
            f"<td>{_e(m.get('suite'))}</td><td>{_e(m.get('coverage'))}</td></tr>"
        )
    head = (
        "<tr><th>mart</th><th>status</th><th>rows</th><th>evaluated</th><th>passed</th><th>failed</th>"
        "<th>warned</th><th>suite</th><th>coverage</th></tr>"
    )
    return f'<table id="marts">{head}{"".join(rows)}</table>'


def _findings_table(marts: list[dict[str, Any]]) -> str:
    rows = []
    for m in marts:
        for finding in [*m.get("failures", []), *m.get("warnings", [])]:
            kind = "failed" if finding.get("severity", "error") == "error" else "warned"
            rows.append(
                f'<tr class="{kind}"><td>{_e(finding.get("severity"))}</td><td>{_e(m["mart"])}</td>'
                f"<td><code>{_e(finding.get('expectation'))}</code><br>{_e(finding.get('test'))}</td>"
                f"<td>{_e(finding.get('column'))}</td><td>{_e(finding.get('observed'))}</td>"
                f"<td>{_e(finding.get('description'))}</td></tr>"
            )
    if not rows:
        return "<p>No expectation failed or warned.</p>"
    head = (
        "<tr><th>severity</th><th>mart</th><th>check</th><th>column</th>"
        "<th>observed (unexpected examples)</th><th>description</th></tr>"
    )
    return f'<table id="findings">{head}{"".join(rows)}</table>'


def _quarantine_table(quarantine: list[dict[str, Any]] | None) -> str:
    """One row per reason: its rows in total and per source table, and what it means."""
    if quarantine is None:
        return "<p>No quarantine counts in this report (the warehouse has no <code>marts.quarantined_rows</code>).</p>"
    if not quarantine:
        return "<p>No raw row was quarantined.</p>"
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for q in quarantine:
        by_reason.setdefault(str(q["quarantine_reason"]), []).append(q)
    rows = []
    for reason, items in sorted(by_reason.items()):
        tables = ", ".join(f"{_e(q['source_table'])} {_e(q['rows'])}" for q in items)
        rows.append(
            f'<tr><td>{_e(reason)}</td><td class="num">{sum(int(q["rows"]) for q in items)}</td>'
            f"<td>{tables}</td><td>{_e(items[0].get('reason_description'))}</td></tr>"
        )
    total = sum(int(q["rows"]) for q in quarantine)
    head = "<tr><th>reason</th><th>rows</th><th>by source table</th><th>what it means</th></tr>"
    foot = f'<tr><th>total</th><th class="num">{total}</th><th></th><th></th></tr>'
    return f'<table id="quarantine">{head}{"".join(rows)}{foot}</table>'


def render(doc: dict[str, Any]) -> str:
    """The whole page for one ``validation.json`` document."""
    kind, verdict = _verdict(doc)
    marts = doc.get("marts", [])
    notes = "".join(f"<li>{_e(n)}</li>" for n in doc.get("notes", []))
    passed = (
        doc.get("expectations_evaluated", 0) - doc.get("expectations_failed", 0) - doc.get("expectations_warned", 0)
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Validation of {_e(doc.get("db"))}</title>
<style>{_CSS}</style></head>
<body>
<h1>Validation of the marts</h1>
<div class="meta">Warehouse <code>{_e(doc.get("db"))}</code> &middot; started {_e(doc.get("started_at"))}
&middot; {_e(doc.get("elapsed_seconds"))} s &middot; dbt invocation {_e(doc.get("dbt_invocation_id"))}</div>
<div class="verdict {kind}" id="verdict">{_e(verdict)}: {passed}/{_e(doc.get("expectations_evaluated"))}
expectations passed, {_e(doc.get("expectations_failed"))} failed (error),
{_e(doc.get("expectations_warned"))} warned</div>
<p>An <b>error</b> check that fails blocks publishing; a <b>warn</b> check is reported only.
Every check is declared once, in the marts' model YAML.</p>
<h2>Marts</h2>
{_marts_table(marts)}
<h2>Failures and warnings</h2>
{_findings_table(marts)}
<h2>Quarantined raw rows by reason</h2>
<p>Rows that did not make it into the warehouse (<code>marts.quarantined_rows</code>), never dropped silently.</p>
{_quarantine_table(doc.get("quarantine"))}
<h2>Notes</h2>
{f"<ul>{notes}</ul>" if notes else "<p>None.</p>"}
</body></html>
"""


def write_html_report(json_path: Path) -> Path:
    """Render ``json_path`` (a validation.json) to ``validation.html`` beside it; return its path."""
    doc = json.loads(Path(json_path).read_text())
    out = Path(json_path).with_name(HTML_REPORT)
    out.write_text(render(doc), encoding="utf-8")
    return out
