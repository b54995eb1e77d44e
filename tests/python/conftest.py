"""Helpers the end-to-end test modules share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lifecycle import paths


def run_dbt(raw_dir: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``dbt *args`` on ``raw_dir`` into warehouse ``db``, with the project's profile and a
    target and log folder beside the warehouse, so builds of different tests never collide."""
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(paths.PROJECT_ROOT / "profiles"),
        LIFECYCLE_RAW_DIR=str(raw_dir),
        LIFECYCLE_DB=str(db),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DO_NOT_TRACK="1",
        DBT_TARGET_PATH=str(db.parent / "target"),
        DBT_LOG_PATH=str(db.parent / "logs"),
    )
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt), *args], cwd=paths.PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )
