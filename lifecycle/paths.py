"""Where things live: the project root, the raw directory and the warehouse file."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def raw_dir() -> Path:
    """Raw landing directory: env LIFECYCLE_RAW_DIR, default data/raw under the project."""
    return Path(os.environ.get("LIFECYCLE_RAW_DIR", PROJECT_ROOT / "data" / "raw")).resolve()


def warehouse_path() -> Path:
    """Working warehouse file: env LIFECYCLE_DB, default warehouse/lifecycle.duckdb."""
    return Path(os.environ.get("LIFECYCLE_DB", PROJECT_ROOT / "warehouse" / "lifecycle.duckdb")).resolve()
