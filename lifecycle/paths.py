"""Where things live: the project root, the raw directory, the warehouse file and its artefacts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VALIDATION_REPORT = "validation.json"  # in a reports directory, next to data_docs/


def raw_dir() -> Path:
    """Raw landing directory: env LIFECYCLE_RAW_DIR, default data/raw under the project."""
    return Path(os.environ.get("LIFECYCLE_RAW_DIR", PROJECT_ROOT / "data" / "raw")).resolve()


def warehouse_path() -> Path:
    """Working warehouse file: env LIFECYCLE_DB, default warehouse/lifecycle.duckdb."""
    return Path(os.environ.get("LIFECYCLE_DB", PROJECT_ROOT / "warehouse" / "lifecycle.duckdb")).resolve()


@dataclass(frozen=True)
class Artefacts:
    """The files a build, a validation and a publish of ONE warehouse write and read.

    All live in ``<warehouse dir>/<warehouse stem>/`` (``warehouse/lifecycle.duckdb`` ->
    ``warehouse/lifecycle/``), so two warehouses never overwrite each other's results.
    """

    root: Path

    @property
    def target(self) -> Path:
        """dbt's target path (DBT_TARGET_PATH): manifest.json, run_results.json, compiled SQL."""
        return self.root / "target"

    @property
    def logs(self) -> Path:
        """dbt's log path (DBT_LOG_PATH)."""
        return self.root / "logs"

    @property
    def docs_target(self) -> Path:
        """Target path of ``dbt docs generate/serve``: its run_results.json never replaces the build's."""
        return self.root / "docs"

    @property
    def reports(self) -> Path:
        """``lifecycle validate``: validation.json and Data Docs."""
        return self.root / "reports"

    @property
    def run_results(self) -> Path:
        return self.target / "run_results.json"

    @property
    def validation_report(self) -> Path:
        return self.reports / VALIDATION_REPORT


def artefacts(db: Path | str | None = None) -> Artefacts:
    """The artefact directories of warehouse ``db`` (default: :func:`warehouse_path`)."""
    path = Path(db).resolve() if db is not None else warehouse_path()
    return Artefacts(path.parent / path.stem)
