"""``analyses/``: every analysis compiles and, run on a demo warehouse, returns rows with the columns
documented in ``analyses/_analyses.yml``, and says in its header what it answers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from test_publish import Build, shared_build

from lifecycle import paths

ANALYSES = paths.PROJECT_ROOT / "analyses"


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return shared_build(tmp_path_factory)


def _documented() -> dict[str, list[str]]:
    doc = yaml.safe_load((ANALYSES / "_analyses.yml").read_text()) or {}
    return {a["name"]: [c["name"] for c in a.get("columns") or []] for a in doc.get("analyses") or []}


def test_every_analysis_is_documented_with_a_header() -> None:
    files = {p.stem for p in ANALYSES.glob("*.sql")}
    assert {"retention_deep_dive", "cdnow_reproduction", "segment_by_stage"} <= files
    documented = _documented()
    assert set(documented) == files
    for name in files:
        text = (ANALYSES / f"{name}.sql").read_text()
        header = re.match(r"\{#-?(.*?)-?#\}", text, re.S)
        assert header and "?" in header.group(1), f"{name}: no header comment saying what it answers"
        assert documented[name], f"{name}: no documented columns"


@pytest.mark.slow
def test_analyses_compile_and_return_their_documented_columns(build: Build, tmp_path: Path) -> None:
    # A copy: compiling must not touch the shared warehouse (its build record and run results).
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(build.db, db)
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(paths.PROJECT_ROOT / "profiles"),
        LIFECYCLE_RAW_DIR=str(build.raw),
        LIFECYCLE_DB=str(db),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DO_NOT_TRACK="1",
    )
    dbt = str(Path(sys.executable).with_name("dbt"))
    result = subprocess.run(
        [dbt, "compile", "--select", "resource_type:analysis"],
        cwd=paths.PROJECT_ROOT, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    compiled = tmp_path / "target" / "compiled" / "customer_lifecycle" / "analyses"
    documented = _documented()
    assert {p.stem for p in compiled.glob("*.sql")} == set(documented)
    con = duckdb.connect(str(db), read_only=True)
    try:
        for name, columns in documented.items():
            relation = con.sql((compiled / f"{name}.sql").read_text())
            assert relation.columns == columns, name
            rows = relation.fetchall()
            assert rows, f"{name} returned no row"
            if name == "cdnow_reproduction":
                assert {(r[0], r[1]) for r in rows} == {
                    ("bgnbd", "r"), ("bgnbd", "alpha"), ("bgnbd", "a"), ("bgnbd", "b"),
                    ("bgnbd", "log_likelihood"), ("gamma_gamma", "p"), ("gamma_gamma", "q"), ("gamma_gamma", "gamma"),
                    ("pareto_nbd", "r"), ("pareto_nbd", "alpha"), ("pareto_nbd", "s"), ("pareto_nbd", "beta"),
                }
                assert all(r[3] is not None for r in rows)
            if name == "segment_by_stage":
                customers = con.execute("select count(*) from marts.customer_segments").fetchone()
                assert customers and sum(r[4] for r in rows) == customers[0]
                assert all(0 < r[5] <= 1 and 0 < r[6] <= 1 for r in rows)
            if name == "retention_deep_dive":
                assert all(r[3] is None or 0 <= r[3] <= 1 for r in rows)
    finally:
        con.close()
