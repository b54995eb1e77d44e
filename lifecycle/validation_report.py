"""What ``lifecycle validate`` found: per-check failures, per-mart results and the whole report
(the summary printed, ``validation.json`` and the publish manifest read it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

# The schema of the working warehouse (and of the serving copy) that holds the marts.
MARTS_SCHEMA = "marts"


@dataclass
class Failure:
    mart: str
    expectation: str
    column: str | None
    observed: str
    description: str = ""
    severity: str = "error"
    test: str = ""

    def line(self) -> str:
        col = f" column={self.column}" if self.column else ""
        tag = "FAIL" if self.severity == "error" else "WARN"
        return f"  {tag} {self.mart}: {self.expectation}{col}: {self.observed}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation,
            "column": self.column,
            "observed": self.observed,
            "description": self.description,
            "severity": self.severity,
            "test": self.test,
        }


@dataclass
class MartResult:
    mart: str
    rows: int | None
    evaluated: int
    passed: int
    failures: list[Failure]  # error severity: block publishing
    suite_source: str  # "model yml", "none (generic)", "missing" or "error"
    warnings: list[Failure] | None = None  # warn severity: reported only
    coverage: str | None = None  # status in marts.data_coverage

    def __post_init__(self) -> None:
        if self.warnings is None:
            self.warnings = []

    @property
    def warned(self) -> list[Failure]:
        return self.warnings or []

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def success(self) -> bool:
        return not self.failures


@dataclass
class ValidationReport:
    db_path: Path
    reports_dir: Path | None
    marts: list[MartResult]
    notes: list[str]
    started_at: datetime
    elapsed_seconds: float
    data_docs_index: Path | None = None
    json_path: Path | None = None
    html_path: Path | None = None  # validation.html: the report that renders offline

    @property
    def success(self) -> bool:
        """No error-severity expectation failed (warnings never fail a validation)."""
        return bool(self.marts) and all(m.success for m in self.marts)

    @property
    def evaluated(self) -> int:
        return sum(m.evaluated for m in self.marts)

    @property
    def failed(self) -> int:
        return sum(m.failed for m in self.marts)

    @property
    def failures(self) -> list[Failure]:
        return [f for m in self.marts for f in m.failures]

    @property
    def warnings(self) -> list[Failure]:
        return [w for m in self.marts for w in m.warned]

    def summary_lines(self) -> list[str]:
        lines = [f"Validation of {self.db_path} (schema {MARTS_SCHEMA}):"]
        width = max((len(m.mart) for m in self.marts), default=10)
        for m in self.marts:
            status = "FAIL" if not m.success else ("warn" if m.warned else "ok  ")
            rows = "-" if m.rows is None else str(m.rows)
            lines.append(
                f"  {status} {m.mart:<{width}}  {m.passed:>3} passed  {m.failed:>3} failed  "
                f"{len(m.warned):>3} warned  rows={rows}"
                + ("" if m.suite_source == "model yml" else f"  (suite: {m.suite_source})")
                + (f"  (coverage: {m.coverage})" if m.coverage and m.coverage != "complete" else "")
            )
        lines.extend(f.line() for f in self.failures)
        lines.extend(w.line() for w in self.warnings)
        lines.extend(f"  note: {n}" for n in self.notes)
        passed = self.evaluated - self.failed - len(self.warnings)
        if not self.success:
            verdict = "FAILED"
        elif self.warnings:
            verdict = f"PASSED with {len(self.warnings)} warning(s)"
        else:
            verdict = "PASSED"
        lines.append(
            f"{verdict}: {passed}/{self.evaluated} expectations passed, {self.failed} failed (error), "
            f"{len(self.warnings)} warned in {self.elapsed_seconds:.1f}s"
        )
        if self.data_docs_index:
            lines.append(f"Data Docs: {self.data_docs_index}")
        if self.json_path:
            lines.append(f"Summary: {self.json_path}")
        if self.html_path:
            lines.append(f"Report (self-contained, offline): {self.html_path}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "db": str(self.db_path),
            "success": self.success,
            "started_at": self.started_at.isoformat(),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "expectations_evaluated": self.evaluated,
            "expectations_failed": self.failed,
            "expectations_warned": len(self.warnings),
            "data_docs": str(self.data_docs_index) if self.data_docs_index else None,
            "notes": self.notes,
            "warnings": [{"mart": w.mart, **w.to_dict()} for w in self.warnings],
            "marts": [
                {
                    "mart": m.mart,
                    "rows": m.rows,
                    "success": m.success,
                    "evaluated": m.evaluated,
                    "passed": m.passed,
                    "failed": m.failed,
                    "warned": len(m.warned),
                    "suite": m.suite_source,
                    "coverage": m.coverage,
                    "failures": [f.to_dict() for f in m.failures],
                    "warnings": [w.to_dict() for w in m.warned],
                }
                for m in self.marts
            ],
        }


class ValidationError(Exception):
    """The warehouse could not be validated at all (missing file, locked, no marts schema)."""
